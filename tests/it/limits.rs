//! The server's bounds against hostile clients, over real sockets: connections per address and in
//! all, slow headers, silent sockets, and a search for the join code; the class plays on.

use crate::serve::{connect, get, next, say, start_with, Socket};
use futures_util::StreamExt;
use pioneer::serve::limits::Limits;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A TCP connection to `to` from the loopback address `src` (127.0.0.x: another device).
async fn tcp_from(src: &str, to: SocketAddr) -> TcpStream {
    let s = tokio::net::TcpSocket::new_v4().expect("socket");
    s.bind(format!("{src}:0").parse().expect("address")).expect("binds");
    s.connect(to).await.expect("connects")
}

/// A socket to the class from the loopback address `src`.
async fn ws_from(src: &str, url: &str) -> Socket {
    let tcp = tokio_tungstenite::MaybeTlsStream::Plain(tcp_from(src, addr(url)).await);
    tokio_tungstenite::client_async(url, tcp).await.expect("upgrades").0
}

fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("ws://").trim_end_matches("/ws").parse().expect("address")
}

/// Whether the server closes `tcp` within `within` (a read gives end of file or an error).
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 256];
    matches!(
        tokio::time::timeout(within, async {
            loop {
                match tcp.read(&mut b).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await,
        Ok(())
    )
}

fn tight() -> Limits {
    Limits {
        connections: 8,
        per_address: 4,
        header_timeout: Duration::from_secs(1),
        idle: Duration::from_millis(1500),
        ..Limits::for_class(36)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_bounded_per_address_and_in_all() {
    let (url, shared) = start_with(1, tight()).await;
    let to = addr(&url);
    // Four held from one device: a fifth from it is closed at once; another device gets in.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(tcp_from("127.0.0.2", to).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fifth = tcp_from("127.0.0.2", to).await;
    assert!(
        closed_within(&mut fifth, Duration::from_millis(500)).await,
        "a fifth from one device"
    );
    for _ in 0..4 {
        held.push(tcp_from("127.0.0.3", to).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(shared.connections(), 8);
    let mut ninth = tcp_from("127.0.0.4", to).await;
    assert!(closed_within(&mut ninth, Duration::from_millis(500)).await, "the ninth of 8");
    // Connections that send no headers are closed after the header timeout; then pages load.
    for t in &mut held {
        assert!(closed_within(t, Duration::from_secs(3)).await, "an idle connection is closed");
    }
    let (code, body) = get(&url, "/").await;
    assert_eq!(code, 200, "{body}");
    let said = shared.refused.lock().expect("log").join("\n");
    assert!(
        said.contains("from 127.0.0.2, the most one device may hold") && said.contains("the most this class allows"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_silent_sockets_are_closed_and_the_class_plays_on() {
    let (url, shared) = start_with(1, tight()).await;
    let to = addr(&url);
    // A student who plays: a page that reads (and so answers pings).
    let mut ann = connect(&url).await;
    say(&mut ann, json!({"type": "join", "code": "ABCD", "name": "Ann"})).await;
    next(&mut ann, "joined").await;
    // Her page reads all the while, as a browser does (and so answers every ping).
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
    let reading = {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = ann.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    let v: serde_json::Value = serde_json::from_str(&t).expect("json");
                    if v["type"] == "unit" {
                        seen.store(v["month"].as_u64().unwrap_or(u64::MAX), std::sync::atomic::Ordering::SeqCst);
                    }
                }
            }
        })
    };
    // Slowloris: a byte of headers every 300 ms, from three devices.
    let t0 = Instant::now();
    let mut slow = Vec::new();
    for src in ["127.0.0.5", "127.0.0.6", "127.0.0.7"] {
        let mut t = tcp_from(src, to).await;
        t.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.expect("writes");
        slow.push(t);
    }
    let trickle = async {
        loop {
            for t in slow.iter_mut() {
                if t.write_all(b"X").await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(4), trickle).await.is_ok(),
        "trickled headers are cut off"
    );
    assert!(t0.elapsed() < Duration::from_secs(4));
    // A socket that never reads never answers a ping: closed after the idle time.
    let mut silent = ws_from("127.0.0.8", &url).await;
    let before = shared.connections();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(shared.connections(), before - 1, "the silent socket is gone");
    assert!(matches!(silent.next().await, Some(Ok(_)) | Some(Err(_)) | None));
    // Ann's page answered every ping: still in the class, and sees the month the teacher steps.
    shared.game().class.step();
    let _ = shared.changed.send(());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1, "Ann sees month 1");
    assert!(!reading.is_finished(), "Ann's socket is open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_join_code_cannot_be_searched() {
    let (url, shared) = start_with(1, Limits::for_class(36)).await;
    // One device: six tries, then it waits (a new socket each time does not help).
    let mut answers = Vec::new();
    for i in 0..8 {
        let mut s = ws_from("127.0.0.9", &url).await;
        say(&mut s, json!({"type": "join", "code": format!("Z{i:04}"), "name": "x"})).await;
        answers.push(next(&mut s, "error").await["message"].as_str().unwrap_or("").to_string());
    }
    assert!(answers[..6].iter().all(|a| a.contains("not this class's code")), "{answers:?}");
    assert!(
        answers[6..].iter().all(|a| a.contains("too many joins from this device")),
        "{answers:?}"
    );
    // Many devices: 30 wrong codes in all, then nobody's join is tried, the right code neither.
    let mut wrong = 0;
    let mut waits = 0;
    for i in 0..40u32 {
        let src = format!("127.0.1.{}", i + 1);
        let mut s = ws_from(&src, &url).await;
        say(&mut s, json!({"type": "join", "code": "QQQQQ", "name": "x"})).await;
        let m = next(&mut s, "error").await["message"].as_str().unwrap_or("").to_string();
        if m.contains("not this class's code") {
            wrong += 1;
        } else if m.contains("too many wrong codes") {
            waits += 1;
        }
    }
    assert_eq!((wrong, waits), (30 - 6, 16), "six were tried already from 127.0.0.9");
    let mut right = ws_from("127.0.2.1", &url).await;
    say(&mut right, json!({"type": "join", "code": "ABCD", "name": "Ann"})).await;
    assert!(next(&mut right, "error").await["message"]
        .as_str()
        .is_some_and(|m| m.contains("try again in")));
    // Two seconds later the class's code gets in: the lock holds a search, not a class.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    say(&mut right, json!({"type": "join", "code": "ABCD", "name": "Ann"})).await;
    assert_eq!(next(&mut right, "joined").await["name"], "Ann");
    assert_eq!(shared.game().class.students.len(), 1);
}
