//! The teacher's hold on a class over real sockets: the world sent once and months as what
//! changed, lock, remove, and reset (students kept or cleared, the old log archived).

use crate::serve::{connect, next, say, start, Socket};
use serde_json::{json, Value};

async fn join(url: &str, name: &str) -> (Socket, Value) {
    let mut s = connect(url).await;
    say(&mut s, json!({"type": "join", "code": "ABCD", "name": name})).await;
    let v = next(&mut s, "joined").await;
    (s, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_teacher_locks_removes_and_resets_and_the_old_log_is_kept() {
    let (url, shared) = start().await;
    let mut teacher = connect(&url).await;
    say(&mut teacher, json!({"type": "teacher", "token": "teacher-secret"})).await;
    assert!(next(&mut teacher, "hello").await["join"].is_array());
    // The world once, then the month: per unit only what a month changes.
    let world = next(&mut teacher, "world").await;
    assert_eq!(world["names"].as_array().map(Vec::len), Some(39));
    assert_eq!(world["band"]["median"].as_array().map(Vec::len), Some(240));
    let month = next(&mut teacher, "month").await;
    assert_eq!(month["depth"].as_array().map(Vec::len), Some(39));
    assert!(month.get("units").is_none() && month.get("band").is_none(), "{month}");

    let (mut ann, a) = join(&url, "Ann").await;
    let ann_token = a["token"].as_str().expect("token").to_string();
    let ann_unit = a["unit"].as_u64().expect("unit");
    // Locked: nobody new gets in, and the page says why; unlocked: they do.
    say(&mut teacher, json!({"type": "lock", "locked": true})).await;
    assert_eq!(next(&mut teacher, "locked").await["locked"], true);
    let mut bo = connect(&url).await;
    say(&mut bo, json!({"type": "join", "code": "ABCD", "name": "Bo"})).await;
    let e = next(&mut bo, "error").await;
    assert!(e["message"].as_str().is_some_and(|m| m.contains("locked")), "{e}");
    assert!(next(&mut teacher, "month").await["locked"] == true);
    // A student of the class still comes back while it is locked.
    let mut ann2 = connect(&url).await;
    say(&mut ann2, json!({"type": "rejoin", "token": ann_token})).await;
    assert_eq!(next(&mut ann2, "joined").await["unit"], ann_unit);
    say(&mut teacher, json!({"type": "lock", "locked": false})).await;
    next(&mut teacher, "locked").await;
    let (mut bo, _) = {
        drop(bo);
        join(&url, "Bo").await
    };

    // Ann plays three months, then the teacher removes her: her pages are told, her token no
    // longer joins, her unit is free for another.
    say(
        &mut ann,
        json!({"type": "choose", "agenda": "yes", "invent": "yes", "push": "yes", "publicity": "high"}),
    )
    .await;
    next(&mut ann, "chosen").await;
    for _ in 0..3 {
        say(&mut teacher, json!({"type": "step"})).await;
        next(&mut teacher, "stepped").await;
    }
    let id = shared.game().class.students.iter().find(|s| s.name == "Ann").expect("Ann").id;
    say(&mut teacher, json!({"type": "remove", "student": id})).await;
    assert_eq!(next(&mut teacher, "removed").await["student"], id);
    assert!(next(&mut ann, "removed").await["message"]
        .as_str()
        .is_some_and(|m| m.contains("removed")));
    next(&mut ann2, "removed").await;
    let mut again = connect(&url).await;
    say(&mut again, json!({"type": "rejoin", "token": ann_token})).await;
    assert_eq!(next(&mut again, "error").await["message"], "unknown student token");
    let mut cy = connect(&url).await;
    say(&mut cy, json!({"type": "join", "code": "ABCD", "name": "Cy", "unit": ann_unit})).await;
    assert_eq!(next(&mut cy, "joined").await["unit"], ann_unit);
    // Who is online: the teacher's list says it of each student.
    let mut m = next(&mut teacher, "month").await;
    while m["students"].as_array().map(Vec::len) != Some(2) {
        m = next(&mut teacher, "month").await;
    }
    let names: Vec<(&str, bool)> = m["students"]
        .as_array()
        .expect("students")
        .iter()
        .map(|s| (s["name"].as_str().unwrap_or(""), s["online"] == true))
        .collect();
    assert_eq!(names, [("Bo", true), ("Cy", true)]);
    say(&mut teacher, json!({"type": "step"})).await;
    next(&mut teacher, "stepped").await;
    {
        let g = shared.game();
        assert_eq!(&g.class.replayed(), g.class.state(), "the log replays a removal");
        // Ann's decisions are still hers in the log.
        assert!(
            g.class.log_csv().lines().filter(|l| l.contains(",Ann,")).count() >= 2,
            "{}",
            g.class.log_csv()
        );
    }

    // A reset needs to be told what to do with the students.
    let before = shared.game().class.log_csv();
    say(&mut teacher, json!({"type": "reset", "seed": 7})).await;
    assert!(next(&mut teacher, "error").await["message"]
        .as_str()
        .is_some_and(|m| m.contains("students")));
    say(&mut teacher, json!({"type": "reset", "seed": 7, "students": "keep"})).await;
    let r = next(&mut teacher, "reset").await;
    assert_eq!(r["archived"], "decisions-before-reset-1.csv");
    // A new world for the new seed (its band), and the students kept on their units.
    assert_eq!(next(&mut teacher, "world").await["type"], "world");
    let archived = shared.out.join("decisions-before-reset-1.csv");
    let kept = (0..50).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::read_to_string(&archived).ok()
    });
    assert_eq!(kept.as_deref(), Some(before.as_str()), "the old log is archived whole");
    assert_eq!(shared.game().class.students.len(), 2);
    assert_eq!(shared.game().class.month, 0);
    say(&mut teacher, json!({"type": "reset", "seed": 8, "students": "clear"})).await;
    assert_eq!(next(&mut teacher, "reset").await["archived"], "decisions-before-reset-2.csv");
    next(&mut bo, "removed").await;
    next(&mut cy, "removed").await;
    assert!(shared.game().class.students.is_empty());
    // Names are free again after a clear: Bo joins anew.
    let (_bo, b) = join(&url, "Bo").await;
    assert!(b["token"].is_string());
}
