//! The classroom server over real sockets (`pioneer serve`'s router on a loopback port): a teacher
//! and students play, reconnect, and misbehave; the server refuses what it must and goes on.

use futures_util::{SinkExt, StreamExt};
use pioneer::scenario::Scenario;
use pioneer::serve::classroom::Classroom;
use pioneer::serve::ws::{Clock, Game};
use pioneer::serve::Shared;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub(crate) type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn start() -> (String, Arc<Shared>) {
    start_on(1).await
}

/// The classroom scenario, its grid `scale` times as wide and high.
pub(crate) async fn start_on(scale: u32) -> (String, Arc<Shared>) {
    start_with(scale, roomy()).await
}

/// The classroom scenario, its grid `scale` times as wide and high, served within `limits`.
pub(crate) async fn start_with(scale: u32, limits: pioneer::serve::limits::Limits) -> (String, Arc<Shared>) {
    let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml"));
    let text = std::fs::read_to_string(path).expect("classroom");
    let text = text
        .replace("width = 6", &format!("width = {}", 6 * scale))
        .replace("height = 6", &format!("height = {}", 6 * scale));
    let sc = Scenario::parse(path, text).expect("classroom");
    let game = Game::new(
        Classroom::new(sc, 1, "ABCD".into()).expect("builds"),
        Clock {
            running: false,
            months_per_second: 2.0,
        },
        "teacher-secret",
    );
    let out = std::env::temp_dir().join(format!(
        "pioneer-it-{}-debrief-{scale}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&out);
    let shared = Shared::with_limits(game, out, limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(pioneer::serve::run(listener, shared.clone(), std::future::pending()));
    (format!("ws://{addr}/ws"), shared)
}

/// Bounds for tests whose many clients all come from loopback, one address: the class's own,
/// but without the bounds per address (tests/it/limits.rs tests those).
pub(crate) fn roomy() -> pioneer::serve::limits::Limits {
    pioneer::serve::limits::Limits {
        per_address: 100_000,
        connections: 100_000,
        joins_burst: 100_000.0,
        ..pioneer::serve::limits::Limits::for_class(200)
    }
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// GET `path` from the server of socket address `url` (plain HTTP/1.1): the status and body.
pub(crate) async fn get(url: &str, path: &str) -> (u16, String) {
    get_with(url, path, "").await
}

/// GET with `headers` (each line ending in CRLF): the status and the whole answer, headers too.
pub(crate) async fn get_with(url: &str, path: &str, headers: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = url.trim_start_matches("ws://").trim_end_matches("/ws");
    let mut tcp = tokio::net::TcpStream::connect(host).await.expect("connects");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n");
    tcp.write_all(req.as_bytes()).await.expect("asks");
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut bytes))
        .await
        .expect("answers within 30 s")
        .expect("reads");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    (status, text)
}

pub(crate) async fn connect(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url).await.expect("connects").0
}

pub(crate) async fn say(s: &mut Socket, v: Value) {
    s.send(Message::Text(v.to_string().into())).await.expect("sends");
}

/// The next message of `kind` (others skipped), within 5 s.
pub(crate) async fn next(s: &mut Socket, kind: &str) -> Value {
    let wait = async {
        loop {
            match s.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(&t).expect("json");
                    if v["type"] == kind {
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the socket ended waiting for `{kind}`: {other:?}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("no `{kind}` within 5 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_class_plays_over_sockets_and_the_log_replays_it() {
    let (url, shared) = start().await;
    let mut teacher = connect(&url).await;
    say(&mut teacher, json!({"type": "teacher", "token": "teacher-secret"})).await;
    assert_eq!(next(&mut teacher, "hello").await["code"], "ABCD");
    assert_eq!(next(&mut teacher, "month").await["month"], 0);

    let mut students = Vec::new();
    let mut units = Vec::new();
    let mut tokens = Vec::new();
    for name in ["Ann", "Bo", "Cy"] {
        let mut s = connect(&url).await;
        say(&mut s, json!({"type": "join", "code": "ABCD", "name": name})).await;
        let j = next(&mut s, "joined").await;
        units.push(j["unit"].as_u64().expect("unit"));
        tokens.push(j["token"].as_str().expect("token").to_string());
        students.push(s);
    }
    units.sort();
    units.dedup();
    assert_eq!(units.len(), 3, "three different units");
    let choice = json!({"type": "choose", "agenda": "yes", "invent": "model", "learn": "exemplar", "push": "yes", "publicity": "high"});
    say(&mut students[0], choice).await;
    next(&mut students[0], "chosen").await;
    // The teacher's levers: they go into the log and the replay.
    for (lever, value) in [
        ("signal", "0.8"),
        ("space", "0.9"),
        ("pilot", "0 1 2"),
        ("mandate", "1 60"),
        ("recognise", ""),
    ] {
        say(&mut teacher, json!({"type": "lever", "lever": lever, "value": value})).await;
        assert_eq!(next(&mut teacher, "lever").await["from_month"], 1, "{lever}");
    }
    say(&mut students[1], json!({"type": "lever", "lever": "recognise"})).await;
    assert_eq!(
        next(&mut students[1], "error").await["message"],
        "only the teacher's page controls the class"
    );
    say(&mut teacher, json!({"type": "lever", "lever": "pilot", "value": "9999"})).await;
    assert!(next(&mut teacher, "error").await["message"].as_str().expect("why").contains("9999"));
    for _ in 0..3 {
        say(&mut teacher, json!({"type": "step"})).await;
        next(&mut teacher, "stepped").await;
    }
    let view = loop {
        let v = next(&mut students[0], "unit").await;
        if v["month"] == 3 {
            break v;
        }
    };
    assert_eq!(view["panel"]["policy"]["agenda"], "yes");
    assert_eq!(view["panel"]["policy"]["learn"], "exemplar");
    assert_eq!(view["panel"]["publicity"], 1.0);
    let t = loop {
        let v = next(&mut teacher, "month").await;
        if v["month"] == 3 {
            break v;
        }
    };
    assert_eq!(t["students"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        t["levers"]["signal"],
        pioneer::model::fixed::to_f64(pioneer::model::fixed::q16(0.8))
    );
    assert_eq!(t["levers"]["mandates"].as_array().map(Vec::len), Some(1));
    let routed: u64 = t["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .map(|r| r["units"].as_u64().expect("count"))
        .sum();
    assert_eq!(
        routed,
        (t["curve"][2].as_f64().expect("share") * 39.0).round() as u64,
        "every adopter has a route"
    );
    assert_eq!(t["levers"]["pilots"][0]["units"], 3);

    // A reload: the same unit, by the token.
    let unit0 = shared.game().class.student(&tokens[0]).expect("ann").unit;
    drop(students.remove(0));
    let mut again = connect(&url).await;
    say(&mut again, json!({"type": "rejoin", "token": tokens[0]})).await;
    assert_eq!(next(&mut again, "joined").await["unit"], unit0);

    // The clock: started, months pass; paused, they stop.
    say(&mut teacher, json!({"type": "speed", "months_per_second": 20.0})).await;
    say(&mut teacher, json!({"type": "start"})).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    say(&mut teacher, json!({"type": "pause"})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let paused_at = shared.game().class.month;
    assert!(paused_at > 4, "months passed while running: {paused_at}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(shared.game().class.month, paused_at, "no month while paused");

    // The debrief: the teacher's, written into --out and downloadable.
    let (code, _) = get(&url, "/debrief/?token=guess").await;
    assert_eq!(code, 403);
    let (code, page) = get(&url, "/debrief/?token=teacher-secret").await;
    assert_eq!(code, 200, "{page}");
    assert!(page.contains("rankings.csv"));
    let (code, report) = get(&url, "/debrief/report.html?token=teacher-secret").await;
    assert_eq!(code, 200);
    for part in [
        "The class",
        "The teacher's levers",
        "a pilot in",
        "Each student's trace",
        "Ann",
        "class-vs-model.png",
    ] {
        assert!(report.contains(part), "the report lacks {part}");
    }
    let (code, decisions) = get(&url, "/debrief/decisions.csv?token=teacher-secret").await;
    assert_eq!(code, 200);
    assert!(decisions.contains(",teacher,,,,,,,signal,0.8"), "{decisions}");
    assert_eq!(get(&url, "/debrief/..%2Fsecret?token=teacher-secret").await.0, 404);
    assert!(shared.debrief_dir().join("units.csv").exists() && shared.debrief_dir().join("traces.csv").exists());

    let g = shared.game();
    assert_eq!(g.class.log.levers.len(), 5);
    assert_eq!(&g.class.replayed(), g.class.state(), "the decision log replays the class");

    // And `pioneer run --decisions` replays it from the CSV the teacher downloads.
    let dir = std::env::temp_dir().join(format!("pioneer-it-{}-class-replay", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("decisions.csv");
    std::fs::write(&log, g.class.log_csv()).expect("writes");
    let months = g.class.month.to_string();
    let run = |log: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
            .args([
                "run",
                "scenarios/classroom.toml",
                "--replicates",
                "1",
                "--seed",
                "1",
                "--months",
                &months,
                "--decisions",
            ])
            .arg(log)
            .arg("--out")
            .arg(dir.join("run"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("runs")
    };
    let o = run(&log);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let steps = std::fs::read_to_string(dir.join("run/steps.csv")).expect("steps.csv");
    let head: Vec<&str> = steps.lines().next().expect("header").split(',').collect();
    let col = head.iter().position(|h| *h == "adopters").expect("adopters");
    for (t, line) in steps.lines().skip(1).enumerate() {
        let adopters: u32 = line.split(',').nth(col).expect("cell").parse().expect("number");
        assert_eq!(adopters, g.class.record(t as u32 + 1)[0], "month {}: adopters", t + 1);
    }
    std::fs::write(
        &log,
        "month,student,name,unit,agenda,invent,push,publicity\n1,0,Ann,999,yes,model,yes,high\n",
    )
    .expect("writes");
    let o = run(&log);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("decisions.csv:2: field `unit`"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every route but the pages, their assets and the socket is the teacher's: a walk over the
/// router's routes (and one it does not have) without the token, with a wrong one, and with the
/// token as the cookie the teacher's page keeps, as `?token=` and as a bearer token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_but_the_pages_needs_the_teachers_token() {
    let (url, shared) = start().await;
    // A month played, so that there is a debrief to show.
    assert!(shared.game().class.step());
    // Every route the router makes (read from its source, so that a route added later is walked
    // too), the debrief's files for `{file}`.
    let source = include_str!("../../src/serve/mod.rs");
    let routes: Vec<&str> = source.split(".route(\"").skip(1).filter_map(|r| r.split('"').next()).collect();
    assert!(routes.len() >= 10, "{routes:?}");
    let mut teachers: Vec<String> = Vec::new();
    for r in routes.iter().filter(|r| !pioneer::serve::access::PUBLIC.contains(r)) {
        match r.strip_suffix("{file}") {
            Some(dir) => teachers.extend(pioneer::serve::debrief::FILES.iter().map(|(f, _)| format!("{dir}{f}"))),
            None => teachers.push(r.to_string()),
        }
    }
    assert!(
        ["/log.csv", "/debrief/", "/projector", "/join.svg"]
            .iter()
            .all(|r| teachers.iter().any(|t| t == r)),
        "{teachers:?}"
    );
    let cookie = "Cookie: pioneer_teacher=teacher-secret\r\n";
    for path in &teachers {
        for (how, headers, query) in [
            ("no token", "", ""),
            ("a wrong cookie", "Cookie: pioneer_teacher=guess\r\n", ""),
            ("a wrong query", "", "?token=guess"),
            ("a wrong bearer", "Authorization: Bearer guess\r\n", ""),
            ("a longer token", "Cookie: pioneer_teacher=teacher-secretX\r\n", ""),
        ] {
            let (code, body) = get_with(&url, &format!("{path}{query}"), headers).await;
            assert_eq!(code, 403, "{path} with {how}: {body}");
            assert!(
                !body.contains("Ann") && !body.contains("month,"),
                "{path} with {how} leaked: {body}"
            );
        }
        for (how, headers, query) in [
            ("the cookie", cookie, ""),
            ("the query", "", "?token=teacher-secret"),
            ("a bearer token", "Authorization: Bearer teacher-secret\r\n", ""),
        ] {
            let (code, body) = get_with(&url, &format!("{path}{query}"), headers).await;
            assert_eq!(code, 200, "{path} with {how}: {body}");
        }
    }
    // A route nobody made is the teacher's too: nothing added later is open by mistake.
    assert_eq!(get(&url, "/admin").await.0, 403);
    assert_eq!(get_with(&url, "/admin", cookie).await.0, 404);
    // The pages and their assets are open; the socket checks each message itself.
    for path in ["/", "/teacher", "/style.css", "/common.js", "/student.js", "/teacher.js"] {
        let (code, body) = get(&url, path).await;
        assert_eq!(code, 200, "{path}: {body}");
        assert!(!body.contains("teacher-secret"), "{path} shows the token");
    }
    // The printed address keeps the token in a cookie and drops it from the address bar.
    let (code, head) = get(&url, "/teacher?token=teacher-secret").await;
    assert_eq!(code, 303, "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nlocation: /teacher\r\n"), "{head}");
    let set = lower.lines().find(|l| l.starts_with("set-cookie:")).unwrap_or_default().to_string();
    for part in ["pioneer_teacher=teacher-secret", "httponly", "samesite=strict", "path=/"] {
        assert!(set.contains(part), "the cookie lacks {part}: {set}");
    }
    assert_eq!(get(&url, "/teacher?token=guess").await.0, 403);
    // The debrief's links carry no token: the cookie does.
    let (_, page) = get_with(&url, "/debrief/", cookie).await;
    assert!(page.contains("href=\"/debrief/report.html\"") && !page.contains("token="), "{page}");
}

/// A teacher's page that kept the cookie says hello without a token; a socket without the
/// cookie cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_teachers_socket_is_known_by_its_cookie() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let (url, _shared) = start().await;
    let mut s = connect(&url).await;
    say(&mut s, json!({"type": "teacher", "token": ""})).await;
    let e = next(&mut s, "error").await;
    assert!(e["message"].as_str().unwrap_or_default().contains("wrong teacher token"), "{e}");
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert("Cookie", "pioneer_teacher=teacher-secret".parse().expect("header"));
    let mut s = tokio_tungstenite::connect_async(req).await.expect("connects").0;
    say(&mut s, json!({"type": "teacher", "token": ""})).await;
    let hello = next(&mut s, "hello").await;
    assert_eq!(hello["role"], "teacher", "{hello}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_refused_and_the_class_goes_on() {
    let (url, shared) = start().await;
    let mut teacher = connect(&url).await;
    say(&mut teacher, json!({"type": "teacher", "token": "teacher-secret"})).await;
    next(&mut teacher, "hello").await;

    let mut intruder = connect(&url).await;
    say(&mut intruder, json!({"type": "teacher", "token": "guess"})).await;
    assert_eq!(next(&mut intruder, "error").await["message"], "wrong teacher token");
    say(&mut intruder, json!({"type": "step"})).await;
    next(&mut intruder, "error").await;
    say(&mut intruder, json!({"type": "join", "code": "WXYZ", "name": "Eve"})).await;
    next(&mut intruder, "error").await;
    intruder.send(Message::Text("{not json".into())).await.expect("sends");
    next(&mut intruder, "error").await;
    say(
        &mut intruder,
        json!({"type": "choose", "agenda": "yes", "invent": "model", "push": "yes", "publicity": "0.99"}),
    )
    .await;
    next(&mut intruder, "error").await;
    // Flooding: past the burst, refused.
    for _ in 0..40 {
        say(&mut intruder, json!({"type": "step"})).await;
    }
    let mut throttled = false;
    for _ in 0..40 {
        if next(&mut intruder, "error").await["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("too many"))
        {
            throttled = true;
            break;
        }
    }
    assert!(throttled, "a flood is throttled");
    // An oversized frame closes that socket only.
    let mut big = connect(&url).await;
    let _ = big.send(Message::Text("x".repeat(10_000).into())).await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match big.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                _ => {}
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(ended, "the oversized socket is closed");
    // The teacher still runs the class.
    say(&mut teacher, json!({"type": "step"})).await;
    assert_eq!(next(&mut teacher, "stepped").await["month"], 1);
    assert_eq!(shared.game().class.month, 1, "nobody but the teacher moved the clock");
    assert!(shared.refused.lock().expect("log").len() >= 5, "refusals are logged");
}

/// Load: 60 students on loopback sockets play a whole 20-year game at the fastest clock, each
/// changing their policy every quarter second; every acknowledged decision is logged and applied
/// (the log replays the class). Prints the month rate the server held and its memory (a
/// measurement, recorded in results/bench/, not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_students_play_a_whole_game_and_nothing_is_lost() {
    // 144 districts on a 12 × 12 grid: a unit for each of 60 students.
    let (url, shared) = start_on(2).await;
    let mut teacher = connect(&url).await;
    say(&mut teacher, json!({"type": "teacher", "token": "teacher-secret"})).await;
    next(&mut teacher, "hello").await;
    let mut joined = Vec::new();
    for i in 0..60 {
        let mut s = connect(&url).await;
        say(&mut s, json!({"type": "join", "code": "ABCD", "name": format!("s{i}")})).await;
        next(&mut s, "joined").await;
        joined.push(s);
    }
    say(&mut teacher, json!({"type": "speed", "months_per_second": 50.0})).await;
    let t0 = std::time::Instant::now();
    say(&mut teacher, json!({"type": "start"})).await;
    let mut tasks = Vec::new();
    for (i, mut s) in joined.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut acked: Vec<u64> = Vec::new();
            let mut n = 0u32;
            loop {
                let yes = (n + i as u32).is_multiple_of(2);
                let level = ["low", "medium", "high", "model"][(n % 4) as usize];
                let (agenda, push) = if yes { ("yes", "yes") } else { ("model", "no") };
                let choice = json!({"type": "choose", "agenda": agenda, "invent": "model", "push": push, "publicity": level});
                if s.send(Message::Text(choice.to_string().into())).await.is_err() {
                    break;
                }
                n += 1;
                // Read until the acknowledgement (views in between), or the game's end.
                let got = tokio::time::timeout(Duration::from_secs(5), async {
                    loop {
                        match s.next().await {
                            Some(Ok(Message::Text(t))) => {
                                let v: Value = serde_json::from_str(&t).expect("json");
                                if v["type"] == "chosen" || v["type"] == "error" {
                                    return Some(v);
                                }
                                if v["type"] == "unit" && v["month"] == v["months"] {
                                    return None;
                                }
                            }
                            Some(Ok(_)) => {}
                            _ => return None,
                        }
                    }
                })
                .await
                .ok()
                .flatten();
                match got {
                    Some(v) if v["type"] == "chosen" => acked.push(v["from_month"].as_u64().expect("month")),
                    Some(v) => panic!("student {i} refused: {v}"),
                    None => break,
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            (i, acked)
        }));
    }
    // The month rate as the teacher's page sees it: from the start to month 240 on its screen.
    let seconds = loop {
        let v = tokio::time::timeout(Duration::from_secs(30), next(&mut teacher, "month"))
            .await
            .expect("months arrive");
        if v["month"] == 240 {
            break t0.elapsed().as_secs_f64();
        }
    };
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await.expect("student task"));
    }
    let g = shared.game();
    assert_eq!(g.class.month, 240, "the game ran to its end");
    // Every acknowledged decision is in the log for its month (the last of a student's month).
    let mut total = 0;
    for (i, months) in &acked {
        let mut distinct = months.clone();
        distinct.dedup();
        for m in distinct.iter().filter(|&&m| m <= 240) {
            assert!(
                g.class.log.decisions.iter().any(|d| d.student == *i as u32 && d.month as u64 == *m),
                "student {i}'s decision for month {m} is logged"
            );
            total += 1;
        }
    }
    assert!(total > 60 * 10, "decisions made: {total}");
    assert_eq!(&g.class.replayed(), g.class.state(), "the log replays the class");
    let rss = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM")).map(String::from))
        .unwrap_or_default();
    eprintln!(
        "load: 60 students, 240 months in {seconds:.2} s ({:.1} months/s at a clock of 50), {} decisions logged ({total} acknowledged month-decisions), {} refused; test process {rss}",
        240.0 / seconds,
        g.class.log.decisions.len(),
        shared.refused.lock().expect("log").len()
    );
}
