//! `pioneer serve` killed mid-game (SIGKILL: nothing but what it saved as it went) and continued
//! with `--resume`: the same code, the students back on their units by their tokens, and the same
//! log and months as a class that never stopped; SIGTERM saves the class and writes the debrief.

use crate::serve::{connect, get, next, say, Socket};
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `pioneer serve` process and what it printed.
struct Server {
    child: Child,
    /// `ws://127.0.0.1:PORT/ws`
    url: String,
    code: String,
    /// The teacher's token, where it printed one (a new class).
    token: Option<String>,
}

/// A test that fails leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The teacher's page may send 10 messages a second: the test's teacher keeps under it.
async fn paced(teacher: &mut Socket, msg: Value) {
    tokio::time::sleep(Duration::from_millis(110)).await;
    say(teacher, msg).await;
}

/// Start `pioneer serve ARGS` on a free loopback port and read its first lines.
fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .arg("serve")
        .args(args)
        .args(["--bind", "127.0.0.1", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("pioneer serve starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let (mut url, mut code, mut token) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.expect("reads");
        if let Some(rest) = line.trim().strip_prefix("students: ") {
            let mut w = rest.split_whitespace();
            let at = w.next().expect("an address");
            url = Some(format!("{}ws", at.replace("http://", "ws://")));
            code = w.skip_while(|x| *x != "code").nth(1).map(str::to_string);
        }
        if let Some(t) = line.split("?token=").nth(1) {
            token = t
                .split_whitespace()
                .next()
                .filter(|t| t.chars().all(|c| c.is_ascii_hexdigit()))
                .map(str::to_string);
        }
        if line.starts_with("Ctrl-C ends the class") {
            break;
        }
    }
    // The rest of its output (the last lines) read on, so that the process never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url: url.expect("the students' address printed"),
        code: code.expect("the code printed"),
        token,
    }
}

/// The class's month as its folder holds it.
fn saved_month(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("class.json")).ok()?;
    serde_json::from_str::<Value>(&text).ok()?["month"].as_u64()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("waits") {
            return s;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "pioneer serve did not stop within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the students do at month `t` (the same in every class): each decides now and then, and
/// the teacher pulls a lever.
async fn play_month(t: u32, teacher: &mut Socket, students: &mut [Socket]) {
    for (i, s) in students.iter_mut().enumerate() {
        if (t as usize + i).is_multiple_of(4) {
            let yes = if (t / 4).is_multiple_of(2) { "yes" } else { "no" };
            let publicity = ["low", "medium", "high"][(t as usize + i) % 3];
            say(
                s,
                json!({"type": "choose", "agenda": yes, "invent": "model", "push": yes, "publicity": publicity}),
            )
            .await;
            next(s, "chosen").await;
        }
    }
    if t == 3 || t == 27 {
        paced(
            teacher,
            json!({"type": "lever", "lever": "signal", "value": if t == 3 { "0.8" } else { "0.3" }}),
        )
        .await;
        next(teacher, "lever").await;
    }
    paced(teacher, json!({"type": "step"})).await;
    assert_eq!(next(teacher, "stepped").await["month"], t + 1);
}

/// The teacher's socket, by `token`.
async fn teacher(url: &str, token: &str) -> Socket {
    let mut t = connect(url).await;
    say(&mut t, json!({"type": "teacher", "token": token})).await;
    next(&mut t, "hello").await;
    t
}

const NAMES: [&str; 3] = ["Ann", "Bo", "Cy"];

/// Students join a new class: their sockets, tokens and units.
async fn join(url: &str, code: &str) -> (Vec<Socket>, Vec<String>, Vec<u64>) {
    let (mut socks, mut tokens, mut units) = (Vec::new(), Vec::new(), Vec::new());
    for name in NAMES {
        let mut s = connect(url).await;
        say(&mut s, json!({"type": "join", "code": code, "name": name})).await;
        let j = next(&mut s, "joined").await;
        tokens.push(j["token"].as_str().expect("token").to_string());
        units.push(j["unit"].as_u64().expect("unit"));
        socks.push(s);
    }
    (socks, tokens, units)
}

/// The class's log and months: `/log.csv` and the debrief's steps.csv, as the teacher gets them.
async fn outcome(url: &str, token: &str) -> (String, String) {
    let body = |(code, text): (u16, String)| {
        assert_eq!(code, 200, "{text}");
        text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).expect("a body")
    };
    let log = body(get(url, &format!("/log.csv?token={token}")).await);
    let steps = body(get(url, &format!("/debrief/steps.csv?token={token}")).await);
    (log, steps)
}

fn folder(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pioneer-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

const MONTHS: u32 = 40;
const KILLED_AT: u32 = 18;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_killed_mid_game_resumes_to_the_same_bits() {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml");

    // The class that never stops.
    let whole = folder("class-whole");
    let mut a = serve(&[scenario, "--seed", "11", "--out", whole.to_str().expect("utf-8")]);
    let token_a = a.token.clone().expect("a new class prints the teacher's token");
    let mut t = teacher(&a.url, &token_a).await;
    let (mut students, _, units_a) = join(&a.url, &a.code).await;
    for m in 0..MONTHS {
        play_month(m, &mut t, &mut students).await;
    }
    let (log_a, steps_a) = outcome(&a.url, &token_a).await;
    let _ = a.child.kill();
    let _ = a.child.wait();

    // The same class, killed outright at month KILLED_AT once its folder holds that month.
    let dir = folder("class-killed");
    let mut b = serve(&[scenario, "--seed", "11", "--out", dir.to_str().expect("utf-8")]);
    let token_b = b.token.clone().expect("token");
    let mut t = teacher(&b.url, &token_b).await;
    let (mut students, tokens, units_b) = join(&b.url, &b.code).await;
    assert_eq!(units_b, units_a, "the same seed places the students alike");
    for m in 0..KILLED_AT {
        play_month(m, &mut t, &mut students).await;
    }
    let t0 = Instant::now();
    while saved_month(&dir) != Some(KILLED_AT.into()) {
        assert!(t0.elapsed() < Duration::from_secs(10), "class.json never showed month {KILLED_AT}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.child.kill().expect("SIGKILL");
    let _ = b.child.wait();
    drop((t, students));

    // Resumed: the code as before, the teacher's old token opens it, each student's token brings
    // them back to their unit; the rest of the lesson as in the class that never stopped.
    let mut c = serve(&["--resume", dir.to_str().expect("utf-8")]);
    assert_eq!(c.code, b.code, "the same join code");
    assert!(c.token.is_none(), "a resumed class prints no new token unless asked");
    let mut t = teacher(&c.url, &token_b).await;
    assert_eq!(next(&mut t, "month").await["month"], KILLED_AT);
    let mut students = Vec::new();
    for (tok, unit) in tokens.iter().zip(&units_b) {
        let mut s = connect(&c.url).await;
        say(&mut s, json!({"type": "rejoin", "token": tok})).await;
        assert_eq!(next(&mut s, "joined").await["unit"], *unit);
        students.push(s);
    }
    for m in KILLED_AT..MONTHS {
        play_month(m, &mut t, &mut students).await;
    }
    let (log_c, steps_c) = outcome(&c.url, &token_b).await;
    assert_eq!(log_c, log_a, "the resumed class's log is the whole class's");
    assert_eq!(steps_c, steps_a, "the resumed class's months are the whole class's, bit for bit");

    // SIGTERM: exit 0, the class saved at its last month and its debrief written.
    let _ = std::fs::remove_dir_all(dir.join("debrief"));
    let term = Command::new("kill")
        .args(["-TERM", &c.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let status = wait_exit(&mut c.child);
    assert!(status.success(), "SIGTERM ends the class with exit 0: {status:?}");
    assert_eq!(saved_month(&dir), Some(MONTHS.into()));
    let steps = std::fs::read_to_string(dir.join("debrief/steps.csv")).expect("the debrief written on SIGTERM");
    assert_eq!(steps, steps_a);
    drop((t, students));

    // A new class in that folder is refused (it holds a class to resume), and a damaged save names
    // its file and field.
    let again = Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(["serve", scenario, "--out", dir.to_str().expect("utf-8"), "--port", "0"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let saved = std::fs::read_to_string(dir.join("class.json")).expect("saved");
    let mut v: Value = serde_json::from_str(&saved).expect("json");
    v["records_fnv"] = json!("0000000000000000");
    std::fs::write(dir.join("class.json"), v.to_string()).expect("writes");
    let bad = Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(["serve", "--resume", dir.to_str().expect("utf-8"), "--port", "0"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("class.json") && err.contains("records_fnv"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&whole);
}
