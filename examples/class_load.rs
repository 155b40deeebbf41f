//! A class under load, measured (a benchmark, not a test): `pioneer serve` started as a teacher
//! starts it, its teacher's page and N students on sockets of their own, the clock at S months/s.
//!
//! Each student decides once on every month they see (as a keen student's page would send it). Printed:
//! decisions sent, applied (answered "chosen") and logged (rows of `/log.csv`: a decision equal to
//! the one in force is not a new row), refusals, the months whose view the teacher's page got and
//! the bytes of those views, and the server's peak memory (`VmHWM`). Every client comes from a
//! loopback address of its own (127.1.x.y), as each student's device would, so the server's
//! bounds are the class's own. Results go in `results/bench/classroom.md`.
//!
//! ```sh
//! cargo build --release && cargo run --release --example class_load -- STUDENTS SPEED [SIDE]
//! ```
//!
//! SIDE: the classroom grid's side (6 by default grows to hold the students; 70 is a 4,903-unit
//! world). The server is `target/release/pioneer`, or `$PIONEER`.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn arg<T: std::str::FromStr>(i: usize, name: &str, default: Option<T>) -> T {
    match std::env::args().nth(i) {
        Some(a) => a.parse().unwrap_or_else(|_| fail(&format!("{name}: not a number: {a}"))),
        None => default.unwrap_or_else(|| fail("usage: class_load STUDENTS SPEED [SIDE]")),
    }
}

fn fail(why: &str) -> ! {
    eprintln!("class_load: {why}");
    std::process::exit(2)
}

/// A socket to `port` on loopback from the address of client `i` (127.1.x.y).
async fn socket(i: usize, port: u16) -> Socket {
    let src = std::net::Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8);
    let s = tokio::net::TcpSocket::new_v4().unwrap_or_else(|e| fail(&format!("socket: {e}")));
    s.bind((src, 0).into()).unwrap_or_else(|e| fail(&format!("bind {src}: {e}")));
    let tcp = s
        .connect(([127, 0, 0, 1], port).into())
        .await
        .unwrap_or_else(|e| fail(&format!("connect: {e}")));
    let url = format!("ws://127.0.0.1:{port}/ws");
    tokio_tungstenite::client_async(url, tokio_tungstenite::MaybeTlsStream::Plain(tcp))
        .await
        .unwrap_or_else(|e| fail(&format!("upgrade: {e}")))
        .0
}

async fn say(s: &mut Socket, v: Value) {
    s.send(Message::Text(v.to_string().into()))
        .await
        .unwrap_or_else(|e| fail(&format!("send: {e}")));
}

/// The next message of type `kind`, skipping others.
async fn next(s: &mut Socket, kind: &str) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), s.next()).await;
        let Ok(Some(Ok(Message::Text(t)))) = m else {
            if matches!(m, Ok(Some(Ok(_)))) {
                continue;
            }
            fail(&format!("no {kind} message: {m:?}"))
        };
        let v: Value = serde_json::from_str(&t).unwrap_or_else(|e| fail(&format!("json: {e}")));
        if v["type"] == kind {
            return v;
        }
        if v["type"] == "error" {
            fail(&format!("refused: {}", v["message"]));
        }
    }
}

/// The server's peak and current memory, in kB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

/// The CPU seconds `pid` has used (user and system), from `/proc/PID/stat`.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's name (which is in parentheses and may hold spaces).
    let after: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
    let ticks = |i: usize| after.get(i).and_then(|t| t.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// `GET path` with the teacher's token, the body.
fn get(port: u16, path: &str, token: &str) -> String {
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_or_else(|e| fail(&format!("connect: {e}")));
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).unwrap_or_else(|e| fail(&format!("write: {e}")));
    let mut body = String::new();
    let _ = tcp.read_to_string(&mut body);
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let students: usize = arg(1, "STUDENTS", None);
    let speed: f64 = arg(2, "SPEED", None);
    let side: u32 = arg(3, "SIDE", Some((6..).find(|s| s * s >= students as u32).unwrap_or(6)));
    let bin = std::env::var("PIONEER").unwrap_or_else(|_| "target/release/pioneer".into());
    let dir = std::env::temp_dir().join(format!("pioneer-class-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
    let text = std::fs::read_to_string("scenarios/classroom.toml").unwrap_or_else(|e| fail(&format!("scenarios/classroom.toml: {e}")));
    let text = text
        .replace("width = 6", &format!("width = {side}"))
        .replace("height = 6", &format!("height = {side}"));
    let scenario = dir.join("class.toml");
    std::fs::write(&scenario, text).unwrap_or_else(|e| fail(&format!("{e}")));

    let mut server = Command::new(&bin)
        .arg("serve")
        .arg(&scenario)
        .args(["--bind", "127.0.0.1", "--port", "0", "--speed", &speed.to_string(), "--out"])
        .arg(dir.join("class"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("{bin}: {e} (cargo build --release first)")));
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap_or_else(|| fail("no stdout"))).lines();
    let (mut port, mut code, mut token) = (None, None, None);
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        if let Some(rest) = line.trim().strip_prefix("students: ") {
            let mut w = rest.split_whitespace();
            port = w
                .next()
                .and_then(|a| a.trim_end_matches('/').rsplit(':').next()?.parse::<u16>().ok());
            code = w.skip_while(|x| *x != "code").nth(1).map(str::to_string);
        }
        if let Some(t) = line.split("?token=").nth(1) {
            token = t.split_whitespace().next().map(str::to_string);
        }
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    let (Some(port), Some(code), Some(token)) = (port, code, token) else {
        fail("the server printed no address, code or token")
    };
    std::thread::spawn(move || for _ in lines {});
    let pid = server.id();
    let (idle_kb, _) = memory(pid);

    let mut teacher = socket(0, port).await;
    say(&mut teacher, json!({"type": "teacher", "token": token})).await;
    next(&mut teacher, "hello").await;
    let world = next(&mut teacher, "world").await;
    let world_bytes = world.to_string().len();
    let mut joined = Vec::new();
    for i in 0..students {
        let mut s = socket(i + 1, port).await;
        say(&mut s, json!({"type": "join", "code": code, "name": format!("s{i}")})).await;
        next(&mut s, "joined").await;
        joined.push(s);
    }
    let t0 = Instant::now();
    let (cpu0, own0) = (cpu_seconds(&pid.to_string()), cpu_seconds("self"));
    say(&mut teacher, json!({"type": "start"})).await;
    let mut tasks = Vec::new();
    for (i, mut s) in joined.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let (mut sent, mut applied, mut refused) = (0u64, 0u64, 0u64);
            let mut seen = std::collections::BTreeSet::new();
            while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(30), s.next()).await {
                let Message::Text(t) = m else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
                match v["type"].as_str() {
                    Some("unit") => {
                        // A view of a month already seen (another change that month) is not decided on.
                        if !seen.insert(v["month"].as_u64().unwrap_or(0)) {
                            continue;
                        }
                        if v["month"] == v["months"] {
                            break;
                        }
                        let agenda = if (sent + i as u64).is_multiple_of(3) { "yes" } else { "model" };
                        let publicity = ["low", "high"][(sent % 2) as usize];
                        let choice = json!({"type": "choose", "agenda": agenda, "invent": "model", "push": "no", "publicity": publicity});
                        if s.send(Message::Text(choice.to_string().into())).await.is_err() {
                            break;
                        }
                        sent += 1;
                    }
                    Some("chosen") => applied += 1,
                    Some("error") => refused += 1,
                    _ => {}
                }
            }
            (sent, applied, refused, seen.range(1..).count() as u64)
        }));
    }
    let (mut months, mut views, mut bytes, mut largest) = (std::collections::BTreeSet::new(), 0usize, 0usize, 0usize);
    let mut peak_kb = 0;
    let months_total = loop {
        let v = next(&mut teacher, "month").await;
        let n = v.to_string().len();
        bytes += n;
        views += 1;
        largest = largest.max(n);
        months.insert(v["month"].as_u64().unwrap_or(0));
        peak_kb = peak_kb.max(memory(pid).1);
        if v["month"] == v["months"] {
            break v["months"].as_u64().unwrap_or(0);
        }
    };
    let played = t0.elapsed().as_secs_f64();
    let (cpu, own) = (cpu_seconds(&pid.to_string()) - cpu0, cpu_seconds("self") - own0);
    let (mut sent, mut applied, mut refused, mut seen) = (0, 0, 0, 0);
    for t in tasks {
        let (s, a, r, m) = t.await.unwrap_or_else(|e| fail(&format!("a student's task: {e}")));
        sent += s;
        applied += a;
        refused += r;
        seen += m;
    }
    let log = get(port, "/log.csv", &token);
    let logged = log
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1).is_some_and(|s| !s.is_empty()))
        .count();
    let (hwm_kb, _) = memory(pid);
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let units = world["names"].as_array().map_or(0, Vec::len);
    println!(
        "{students} students at {speed} months/s, {units} units: {sent} decisions sent, {applied} applied, {logged} logged, {refused} refused; \
         students saw {seen} of {} month views; the teacher's page saw {} of {months_total} months in {played:.1} s; \
         its views: the world once ({world_bytes} B), then {views} of {} B on average ({largest} B at most); \
         server memory: {idle_kb} kB idle, {} kB at its peak; CPU while playing: the server {cpu:.1} s, these clients {own:.1} s",
        students as u64 * months_total,
        months.range(1..=months_total).count(),
        bytes / views.max(1),
        hwm_kb.max(peak_kb),
    );
}
