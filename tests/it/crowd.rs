//! A full class at the fastest clock: 200 students each deciding on every month they see, and the
//! teacher's page; no ordinary student is refused, every decision applied is logged, and the
//! teacher's curve holds every month.

use crate::serve::{connect, next, say, start_on};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_students_decide_every_month_at_the_fastest_clock() {
    // 324 districts on an 18 × 18 grid: a unit for each of the 200.
    let (url, shared) = start_on(3).await;
    let mut teacher = connect(&url).await;
    say(&mut teacher, json!({"type": "teacher", "token": "teacher-secret"})).await;
    next(&mut teacher, "hello").await;
    let mut joined = Vec::new();
    for i in 0..200 {
        let mut s = connect(&url).await;
        say(&mut s, json!({"type": "join", "code": "ABCD", "name": format!("s{i}")})).await;
        next(&mut s, "joined").await;
        joined.push(s);
    }
    say(&mut teacher, json!({"type": "speed", "months_per_second": 50.0})).await;
    say(&mut teacher, json!({"type": "start"})).await;
    let mut tasks = Vec::new();
    for (i, mut s) in joined.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            // On every month seen, a decision (as a keen student's page would send it).
            let (mut sent, mut acked, mut refused) = (0u32, Vec::new(), Vec::new());
            while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(20), s.next()).await {
                let Message::Text(t) = m else { continue };
                let v: Value = serde_json::from_str(&t).expect("json");
                match v["type"].as_str() {
                    Some("unit") if v["month"] == v["months"] => break,
                    Some("unit") => {
                        let agenda = if (sent + i as u32).is_multiple_of(3) { "yes" } else { "model" };
                        let publicity = ["low", "high"][(sent % 2) as usize];
                        let choice = json!({"type": "choose", "agenda": agenda, "invent": "model", "push": "no", "publicity": publicity});
                        if s.send(Message::Text(choice.to_string().into())).await.is_err() {
                            break;
                        }
                        sent += 1;
                    }
                    Some("chosen") => acked.push(v["from_month"].as_u64().expect("month")),
                    Some("error") => refused.push(v["message"].to_string()),
                    _ => {}
                }
            }
            (i, sent, acked, refused)
        }));
    }
    let mut months_seen = std::collections::BTreeSet::new();
    let last = loop {
        let v = tokio::time::timeout(Duration::from_secs(60), next(&mut teacher, "month"))
            .await
            .expect("months arrive");
        months_seen.insert(v["month"].as_u64().expect("month"));
        if v["month"] == 240 {
            break v;
        }
    };
    let (mut sent, mut applied) = (0, 0);
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("student task"));
    }
    let g = shared.game();
    for (i, s, acked, refused) in &results {
        assert!(refused.is_empty(), "student {i} was refused: {refused:?}");
        sent += s;
        applied += acked.len();
        for m in acked.iter().filter(|&&m| m <= 240) {
            assert!(
                g.class.log.decisions.iter().any(|d| d.student == *i as u32 && d.month as u64 == *m),
                "student {i}'s decision for month {m} is logged"
            );
        }
    }
    assert!(applied > 200 * 20, "decisions applied: {applied}");
    // The teacher's curve holds every month, equal to the class's own records.
    let curve: Vec<f64> = last["curve"]
        .as_array()
        .expect("curve")
        .iter()
        .map(|v| v.as_f64().expect("share"))
        .collect();
    let own = g.class.curve(0);
    assert_eq!(curve.len(), 240);
    // (JSON's shortest decimals: equal to the last bit or two.)
    assert!(curve.iter().zip(&own).all(|(a, b)| (a - b).abs() < 1e-12), "{curve:?} vs {own:?}");
    assert_eq!(&g.class.replayed(), g.class.state(), "the log replays the class");
    eprintln!(
        "crowd: 200 students at 50 months/s: {sent} decisions sent, {applied} applied, {} logged; the teacher's page saw {} of 240 months; {} refused",
        g.class.log.decisions.len(),
        months_seen.range(1..=240).count(),
        shared.refused.lock().expect("log").len()
    );
}
