//! The class kept in its folder as it goes (`class.json`, written whole and renamed in), and read
//! back by `pioneer serve --resume DIR`: the same code, tokens and bits as if it never stopped.

use super::classroom::{Classroom, Decision, Lever, Ranking, Student, TraceLine};
use super::ws::{Clock, Game};
use crate::error::InputError;
use crate::scenario::{Scenario, ScenarioSpec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file in the class's folder.
pub const FILE: &str = "class.json";
/// What its `pioneer` field says.
const KIND: &str = "classroom 1";

/// A lever as the file keeps it: its log name and value (read back with `Lever::parse`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedLever {
    pub month: u32,
    pub lever: String,
    pub value: String,
}

/// A student as the file keeps them: the token's digest, never the token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedStudent {
    pub id: u32,
    pub name: String,
    pub token_sha256: String,
    pub unit: usize,
}

/// Everything a class is: the scenario (its file's text as read, and the spec the class ran),
/// the seed and code, the tokens' digests, the clock, the decision log and what waits for the
/// next month, and what the pages show (events, rankings, traces); and a fingerprint of the
/// months' records to check the replay against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved {
    pub pioneer: String,
    pub scenario_path: PathBuf,
    pub scenario_text: String,
    pub spec: ScenarioSpec,
    pub seed: u64,
    pub code: String,
    pub teacher_sha256: String,
    pub months_per_second: f64,
    pub locked: bool,
    pub resets: u32,
    pub month: u32,
    pub names: Vec<String>,
    pub students: Vec<SavedStudent>,
    pub decisions: Vec<Decision>,
    pub levers: Vec<SavedLever>,
    pub pending: Vec<Decision>,
    pub pending_levers: Vec<SavedLever>,
    pub events: Vec<String>,
    pub rankings: Vec<Ranking>,
    pub traces: Vec<TraceLine>,
    pub records_fnv: String,
}

/// The class as it stands (taken under the game's lock: clones, no writing).
pub fn snapshot(g: &Game) -> Saved {
    let c = &g.class;
    let lever = |month: u32, l: &Lever| SavedLever {
        month,
        lever: l.name().to_string(),
        value: l.value(),
    };
    Saved {
        pioneer: KIND.into(),
        // Whole, so that a class resumed from another folder finds the files the scenario names.
        scenario_path: std::path::absolute(&c.scenario.path).unwrap_or_else(|_| c.scenario.path.clone()),
        scenario_text: c.scenario.source().to_string(),
        spec: c.scenario.spec.clone(),
        seed: c.seed,
        code: c.code.clone(),
        teacher_sha256: g.teacher_hash.clone(),
        months_per_second: g.clock.months_per_second,
        locked: c.locked,
        resets: g.resets,
        month: c.month,
        names: c.names.clone(),
        students: c
            .students
            .iter()
            .map(|s| SavedStudent {
                id: s.id,
                name: s.name.clone(),
                token_sha256: s.token_hash.clone(),
                unit: s.unit,
            })
            .collect(),
        decisions: c.log.decisions.clone(),
        levers: c.log.levers.iter().map(|p| lever(p.month, &p.lever)).collect(),
        pending: c.pending_decisions().to_vec(),
        pending_levers: c.pending_levers().iter().map(|l| lever(c.month + 1, l)).collect(),
        events: c.events.clone(),
        rankings: c.rankings.clone(),
        traces: c.traces.clone(),
        records_fnv: c.records_fnv(),
    }
}

/// `saved` as the file holds it.
pub fn text(saved: &Saved) -> String {
    // Plain data (strings, numbers, lists): serde_json cannot fail on it.
    serde_json::to_string(saved).unwrap_or_default()
}

/// Write the saved class's `text` into `dir` whole (a temporary file renamed over the last).
pub fn write(text: &str, dir: &Path) -> crate::error::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(format!("cannot make {}", dir.display()), e))?;
    crate::output::write_atomic(&dir.join(FILE), text.as_bytes())
}

/// The class saved in `dir`, rebuilt: its scenario from the text it was read from, its months
/// replayed from the log, checked against the records' fingerprint. Every fault names the file.
pub fn resume(dir: &Path) -> Result<Game, InputError> {
    let path = dir.join(FILE);
    let bad = |m: String| InputError::new(m).file(&path);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        bad(format!(
            "cannot read the saved class: {e}; `--resume` takes the folder a class was served into (its `--out`)"
        ))
    })?;
    let s: Saved =
        serde_json::from_str(&text).map_err(|e| InputError::new(format!("not a saved class: {e}")).file(&path).line(e.line()))?;
    if s.pioneer != KIND {
        return Err(bad(format!("`pioneer` is {:?}: this pioneer reads {KIND:?}", s.pioneer)).field("pioneer"));
    }
    let sc = Scenario::parse(&s.scenario_path, s.scenario_text.clone())
        .and_then(|sc| sc.with_spec(s.spec.clone()))
        .map_err(|e| bad(format!("its scenario: {e}")).field("spec"))?;
    let mut c = Classroom::new(sc, s.seed, s.code.clone()).map_err(|e| bad(format!("its scenario: {e}")).field("spec"))?;
    let n = c.model.world.len();
    let rungs = c.params.innov[0].rungs;
    let lever = |l: &SavedLever, field: &str| {
        Lever::parse(&l.lever, &l.value, n, rungs).map_err(|m| bad(format!("month {}: {m}", l.month)).field(field))
    };
    let check = |d: &Decision, field: &str| -> Result<(), InputError> {
        let fault = if d.unit >= n {
            Some(format!("unit {} of {n}", d.unit))
        } else if d.student as usize >= s.names.len() {
            Some(format!("student {} of {}", d.student, s.names.len()))
        } else if d.policy.publicity.is_some_and(|m| m > crate::model::fixed::ONE) {
            Some("publicity past 1".into())
        } else {
            None
        };
        fault.map_or(Ok(()), |f| Err(bad(format!("month {}: {f}", d.month)).field(field)))
    };
    if s.month > c.months() {
        return Err(bad(format!("month {} of a {}-month scenario", s.month, c.months())).field("month"));
    }
    // The months again, each with the levers and decisions the log gives it.
    for t in 1..=s.month {
        for l in s.levers.iter().filter(|l| l.month == t) {
            c.lever(lever(l, "levers")?)
                .map_err(|r| bad(format!("month {t}: {}", r.0)).field("levers"))?;
        }
        for d in s.decisions.iter().filter(|d| d.month == t) {
            check(d, "decisions")?;
            c.queue(*d);
        }
        c.step();
    }
    if let Some(d) = s.decisions.iter().find(|d| d.month == 0 || d.month > s.month) {
        return Err(bad(format!("a decision for month {} in a class saved at month {}", d.month, s.month)).field("decisions"));
    }
    if c.records_fnv() != s.records_fnv {
        return Err(bad(format!(
            "its log replays to other months than were saved (records {} here, {} saved): the scenario's world files changed since?",
            c.records_fnv(),
            s.records_fnv
        ))
        .field("records_fnv"));
    }
    for l in &s.pending_levers {
        c.lever(lever(l, "pending_levers")?).map_err(|r| bad(r.0).field("pending_levers"))?;
    }
    for d in &s.pending {
        check(d, "pending")?;
        c.queue(*d);
    }
    if let Some(st) = s.students.iter().find(|st| st.unit >= n || st.id as usize >= s.names.len()) {
        return Err(bad(format!("student {} ({}) at unit {}", st.id, st.name, st.unit)).field("students"));
    }
    c.students = s
        .students
        .iter()
        .map(|st| Student {
            id: st.id,
            name: st.name.clone(),
            token_hash: st.token_sha256.clone(),
            unit: st.unit,
        })
        .collect();
    c.names = s.names;
    c.locked = s.locked;
    (c.events, c.rankings, c.traces) = (s.events, s.rankings, s.traces);
    let speed = s.months_per_second.clamp(super::ws::MIN_SPEED, super::ws::MAX_SPEED);
    let mut g = Game::new(
        c,
        Clock {
            running: false,
            months_per_second: speed,
        },
        "",
    );
    g.teacher_hash = s.teacher_sha256;
    g.resets = s.resets;
    Ok(g)
}
