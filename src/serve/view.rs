//! What the pages are sent: the teacher's world once and each month's view of it, and a
//! student's view of their unit; built from the game under its lock, as JSON.

use super::classroom::Classroom;
use super::ws::Game;
use serde_json::{json, Value};

/// The teacher's world, sent once to a page and again after a reset: each unit's name, position
/// and level, the innovation's rungs, the calendar, and the model's band for the class's seed
/// with no players (what a month does not change).
pub fn world_view(game: &Game) -> Value {
    let c = &game.class;
    let w = &c.model.world;
    json!({
        "type": "world",
        "names": w.names,
        "x": w.x,
        "y": w.y,
        "level": w.level,
        "rungs": c.params.innov[0].rungs,
        "months": c.months(),
        "start_year": c.scenario.spec.start_year,
        "band": {"median": c.band.0, "lo": c.band.1, "hi": c.band.2},
    })
}

/// The teacher's view: the month, the clock, every unit (position, depth, adoption, student), the
/// curve, and the leaderboard of the tournament.
pub fn teacher_view(game: &Game) -> Value {
    let c = &game.class;
    let rho = crate::model::fixed::to_f64(c.params.rho);
    let w = &c.model.world;
    // Per unit, only what a month changes: the page was sent the rest once (`world_view`).
    let adopted: Vec<u32> = (0..w.len()).map(|i| c.unit_depth(i).0.unwrap_or(0)).collect();
    let depth: Vec<u32> = (0..w.len()).map(|i| c.unit_depth(i).1).collect();
    let (now, since) = (std::time::Instant::now(), game.presence.since);
    let deepest = w.level.iter().copied().max().unwrap_or(0);
    let mut board: Vec<(f64, usize)> = (0..w.len()).filter(|&i| w.level[i] == deepest).map(|i| (c.score(i), i)).collect();
    board.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let leaderboard: Vec<Value> = board
        .iter()
        .take(10)
        .map(|&(s, i)| {
            let student = c.students.iter().find(|st| st.unit == i).map(|st| st.name.clone());
            json!({"name": w.names[i], "score": s, "student": student, "depth": c.unit_depth(i).1})
        })
        .collect();
    json!({
        "type": "month",
        "month": c.month,
        "months": c.months(),
        "start_year": c.scenario.spec.start_year,
        "running": game.clock.running,
        "months_per_second": game.clock.months_per_second,
        "code": c.code,
        "seed": c.seed,
        "rungs": c.params.innov[0].rungs,
        "locked": c.locked,
        "adopted": adopted,
        "depth": depth,
        "curve": c.curve(0),
        "events": c.events.iter().rev().take(8).collect::<Vec<_>>(),
        "leaderboard": leaderboard,
        "students": c.students.iter().map(|s| {
            let (online, away) = game.presence.status(s.id, now, since);
            json!({"id": s.id, "name": s.name, "unit": s.unit, "unit_name": w.names[s.unit], "online": online, "away": away})
        }).collect::<Vec<_>>(),
        "decisions": c.log.decisions.len(),
        "levers": levers_view(c),
        "routes": routes_view(c),
        "rankings": c.rankings.iter().rev().take(8).map(|r| json!({"month": r.month, "name": r.name, "student": r.student, "promoted": r.promoted, "why": r.why(rho)})).collect::<Vec<_>>(),
        "promotions": c.rankings.iter().filter(|r| r.promoted).count(),
        "over": c.month >= c.months(),
    })
}

/// The routes of the adoptions so far (of the class's innovation): how many units got their
/// design each way.
fn routes_view(c: &Classroom) -> Value {
    use crate::state::route;
    let st = c.state();
    let mut counts = [0u32; route::COUNT];
    for i in 0..c.model.world.len() {
        if st.adopt_month[i] != crate::model::params::NEVER {
            counts[(st.route[i] as usize).min(route::COUNT - 1)] += 1;
        }
    }
    let routes: Vec<Value> = (1..route::COUNT)
        .filter(|&r| counts[r] > 0)
        .map(|r| json!({"route": route::NAMES[r], "units": counts[r]}))
        .collect();
    Value::Array(routes)
}

/// The levers in force and waiting: space and signal this month, the mandates and pilots of the
/// run (the scenario's and the teacher's), and what the next month will pull.
fn levers_view(c: &Classroom) -> Value {
    use crate::model::fixed::to_f64;
    let t = c.month.max(1);
    let p = &c.params;
    let mandates: Vec<Value> = p.mandates[..p.n_mandates as usize]
        .iter()
        .map(|m| json!({"from": m.start, "to": m.deadline, "depth": m.depth}))
        .collect();
    let pilots: Vec<Value> = p.pilots[..p.n_pilots as usize]
        .iter()
        .enumerate()
        .map(|(at, pl)| {
            let units = (0..c.model.world.len()).filter(|&u| c.model.pilot_mask[u] & (1 << at) != 0).count();
            json!({"month": pl.month, "units": units})
        })
        .collect();
    json!({
        "space": to_f64(p.space.at(t)),
        "signal": to_f64(p.innov[0].signal.at(t)),
        "mandates": mandates,
        "pilots": pilots,
        "pending": c.pending_levers().iter().map(|l| super::classroom::lever_text(l, &c.model.world.names)).collect::<Vec<_>>(),
    })
}

/// A student's view: the month and their unit's panel.
pub fn student_view(game: &Game, token: &str) -> Option<Value> {
    let s = game.class.student(token)?;
    // The student's story, newest first.
    let trace: Vec<String> = game
        .class
        .traces
        .iter()
        .rev()
        .filter(|l| l.student == s.id)
        .take(12)
        .map(|l| format!("month {}: {}", l.month, l.what))
        .collect();
    Some(json!({
        "type": "unit",
        "month": game.class.month,
        "months": game.class.months(),
        "start_year": game.class.scenario.spec.start_year,
        "running": game.clock.running,
        "student": s.name,
        "panel": game.class.unit_view(s.unit),
        "rankings": game.class.rankings.iter().filter(|r| r.unit == s.unit && r.student.as_deref() == Some(s.name.as_str())).map(|r| r.why(crate::model::fixed::to_f64(game.class.params.rho))).collect::<Vec<_>>(),
        "trace": trace,
    }))
}
