//! A played run: players' policies for some units and a teacher's levers, applied at month
//! boundaries from a log, on the CPU; the log as CSV (what the classroom writes, `--decisions` reads).

use crate::backend::cpu::run_months;
use crate::error::InputError;
use crate::model::fixed::{q16, to_f64, ONE};
use crate::model::params::{Mandate, Params, Pilot, Sched, MAX_LEVERS};
use crate::model::trace::{Choice, Learn, NoTrace, Played, Policy, Tracer};
use crate::model::{agg, init_batch, rules, Model, RunId};
use crate::state::BatchState;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A policy chosen for a unit, applied before month `month` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub month: u32,
    pub student: u32,
    pub unit: usize,
    pub policy: Policy,
}

/// A teacher's lever, on the class's innovation (the scenario's first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lever {
    /// Institutional space S(t) from this month on (Q16), in place of the scenario's schedule.
    Space(u32),
    /// The upper signal u(t) from this month on (Q16, before recognition boosts).
    Signal(u32),
    /// A mandate from the centre to every unit: reach `depth` rungs within `months` months.
    Mandate { depth: u32, months: u32 },
    /// A pilot: these units put the innovation on their agenda this month.
    Pilot(Vec<u32>),
    /// A recognition round at the end of this month, over the window so far.
    Recognise,
}

/// Compliance with a teacher's mandate (a scenario mandate's default).
pub const MANDATE_COMPLIANCE: f64 = 0.9;

impl Lever {
    /// Its name in the log.
    pub fn name(&self) -> &'static str {
        match self {
            Lever::Space(_) => "space",
            Lever::Signal(_) => "signal",
            Lever::Mandate { .. } => "mandate",
            Lever::Pilot(_) => "pilot",
            Lever::Recognise => "recognise",
        }
    }

    /// Its value in the log: a share, `depth months`, or the piloted units.
    pub fn value(&self) -> String {
        match self {
            Lever::Space(v) | Lever::Signal(v) => share_text(*v),
            Lever::Mandate { depth, months } => format!("{depth} {months}"),
            Lever::Pilot(units) => units.iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
            Lever::Recognise => String::new(),
        }
    }

    /// Read a lever from its log name and value, for a world of `units` units whose innovation
    /// has `rungs` rungs.
    pub fn parse(name: &str, value: &str, units: usize, rungs: u32) -> Result<Lever, String> {
        let share = || -> Result<u32, String> {
            match value.parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) => Ok(q16(v)),
                _ => Err(format!("`{value}`: a share from 0 to 1")),
            }
        };
        match name {
            "space" => Ok(Lever::Space(share()?)),
            "signal" => Ok(Lever::Signal(share()?)),
            "mandate" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let (Some(d), Some(m), 2) = (parts.first(), parts.get(1), parts.len()) else {
                    return Err(format!("`{value}`: a mandate is `depth months`, e.g. `2 36`"));
                };
                let depth = d.parse::<u32>().ok().filter(|d| (1..=rungs).contains(d));
                let months = m.parse::<u32>().ok().filter(|m| (1..=1200).contains(m));
                match (depth, months) {
                    (Some(depth), Some(months)) => Ok(Lever::Mandate { depth, months }),
                    (None, _) => Err(format!("`{d}`: the depth is 1 to {rungs}")),
                    (_, None) => Err(format!("`{m}`: the months are 1 to 1200")),
                }
            }
            "pilot" => {
                let mut out = Vec::new();
                for u in value.split_whitespace() {
                    match u.parse::<u32>() {
                        Ok(u) if (u as usize) < units => out.push(u),
                        _ => return Err(format!("`{u}`: the world has units 0 to {}", units.saturating_sub(1))),
                    }
                }
                if out.is_empty() {
                    return Err("a pilot names at least one unit".into());
                }
                Ok(Lever::Pilot(out))
            }
            "recognise" => Ok(Lever::Recognise),
            other => Err(format!("`{other}`: allowed space, signal, mandate, pilot or recognise")),
        }
    }
}

/// The shortest decimal that reads back as the Q16 share `v`.
fn share_text(v: u32) -> String {
    (0..=5)
        .map(|d| format!("{:.*}", d, to_f64(v)))
        .find(|s| s.parse::<f64>().is_ok_and(|x| q16(x) == v))
        .unwrap_or_else(|| to_f64(v).to_string())
}

/// A lever pulled before month `month`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub month: u32,
    pub lever: Lever,
}

/// A class's log: the students' decisions and the teacher's levers, each in the order applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    pub decisions: Vec<Decision>,
    pub levers: Vec<Pull>,
}

/// Pull `lever` before month `t` on the played model and parameters: true if it asks for a
/// recognition at the end of the month. A full table of mandates or pilots is refused.
pub fn pull(m: &mut Model, prm: &mut Params, t: u32, lever: &Lever) -> Result<bool, String> {
    match lever {
        Lever::Space(v) => prm.space = Sched::constant(*v),
        Lever::Signal(v) => prm.innov[0].signal = Sched::constant(*v),
        Lever::Mandate { depth, months } => {
            let at = prm.n_mandates as usize;
            if at >= MAX_LEVERS {
                return Err(format!("a run has at most {MAX_LEVERS} mandates"));
            }
            prm.mandates[at] = Mandate {
                innov: 0,
                start: t,
                deadline: t + months - 1,
                compliance: q16(MANDATE_COMPLIANCE),
                depth: (*depth).min(prm.innov[0].rungs),
                _pad: [0; 3],
            };
            prm.n_mandates += 1;
            m.mandate_mask.iter_mut().for_each(|b| *b |= 1 << at);
        }
        Lever::Pilot(units) => {
            let at = prm.n_pilots as usize;
            if at >= MAX_LEVERS {
                return Err(format!("a run has at most {MAX_LEVERS} pilots"));
            }
            prm.pilots[at] = Pilot {
                innov: 0,
                month: t,
                _pad: [0; 2],
            };
            prm.n_pilots += 1;
            for &u in units {
                m.pilot_mask[u as usize] |= 1 << at;
            }
        }
        Lever::Recognise => return Ok(true),
    }
    Ok(false)
}

/// One month of a one-run batch with the players' policies (publicity set first, then the month,
/// then a recognition out of turn if `recognise`), `inner` watching it: the month's record and
/// the tracer.
#[allow(clippy::too_many_arguments)]
pub fn step_month<T: Tracer>(
    m: &Model,
    prm: &Params,
    key: u32,
    state: &mut BatchState,
    policy: &[Policy],
    t: u32,
    recognise: bool,
    inner: T,
) -> (Vec<u32>, T) {
    let mut rec = vec![0u32; agg::record_len(prm.n_innov as usize)];
    let mut views = state.runs_mut();
    let run = &mut views[0];
    for (i, p) in policy.iter().enumerate() {
        if let Some(mu) = p.publicity {
            run.mu[i] = mu;
        }
    }
    let mut tr = Played { inner, policy };
    run_months(m, prm, key, run, &mut rec, t, t, &mut tr, &|_| {});
    if recognise {
        rules::recognise_now(prm, run, &mut rec, t, &mut tr);
    }
    (rec, tr.inner)
}

/// Replay a class from its log: run 0 of `seed` for `months`, each decision and lever applied
/// before its month. The class's state, to the bit.
pub fn replay(m: &Model, prm: &Params, seed: u64, log: &Log, months: u32) -> BatchState {
    replay_records(m, prm, seed, log, months).1
}

/// Replay run 0 of `seed` with `log`, keeping every month's record (for `pioneer run
/// --decisions`): the records, `[month][record]` flat, and the end state. A lever the class
/// could not pull (a full table) is skipped here as it was there.
pub fn replay_records(m: &Model, prm: &Params, seed: u64, log: &Log, months: u32) -> (Vec<u32>, BatchState) {
    let id = RunId::new(seed, 0, 0);
    let mut state = init_batch(m, &[*prm], &[id]);
    let (mut m, mut prm) = (m.clone(), *prm);
    let mut policy = vec![Policy::default(); m.world.len()];
    let mut records = Vec::with_capacity(months as usize * agg::record_len(prm.n_innov as usize));
    let (mut next, mut lever) = (0, 0);
    for t in 1..=months {
        let mut recognise = false;
        while lever < log.levers.len() && log.levers[lever].month == t {
            recognise |= pull(&mut m, &mut prm, t, &log.levers[lever].lever).unwrap_or(false);
            lever += 1;
        }
        while next < log.decisions.len() && log.decisions[next].month == t {
            policy[log.decisions[next].unit] = log.decisions[next].policy;
            next += 1;
        }
        records.extend(step_month(&m, &prm, id.key, &mut state, &policy, t, recognise, NoTrace).0);
    }
    (records, state)
}

/// The header of a decision log.
pub const LOG_HEADER: &str = "month,student,name,unit,agenda,invent,learn,push,publicity,lever,value\n";

fn choice_name(c: Choice) -> &'static str {
    match c {
        Choice::Model => "model",
        Choice::Yes => "yes",
        Choice::No => "no",
    }
}

/// A publicity level's name (what students choose from): low, medium, high, or model.
pub fn publicity_name(mu: Option<u32>) -> &'static str {
    match mu {
        None => "model",
        Some(0) => "low",
        Some(ONE) => "high",
        Some(_) => "medium",
    }
}

/// The Q16 publicity of a level's name.
pub fn publicity_level(name: &str) -> Option<Option<u32>> {
    match name {
        "model" => Some(None),
        "low" => Some(Some(0)),
        "medium" => Some(Some(ONE / 2)),
        "high" => Some(Some(ONE)),
        _ => None,
    }
}

/// A name made safe for a CSV field.
pub fn plain(name: &str) -> String {
    name.chars()
        .map(|c| if matches!(c, ',' | '"' | '\n' | '\r') { ' ' } else { c })
        .collect()
}

/// One row of a decision log (`name`: the student's, for people; the replay ignores it).
pub fn log_row(d: &Decision, name: &str, s: &mut String) {
    let p = &d.policy;
    s.push_str(&format!(
        "{},{},{},{},{},{},{},{},{},,\n",
        d.month,
        d.student,
        plain(name),
        d.unit,
        choice_name(p.agenda),
        choice_name(p.invent),
        p.learn.name(),
        choice_name(p.push),
        publicity_name(p.publicity)
    ));
}

/// One row of a teacher's lever.
pub fn lever_row(p: &Pull, s: &mut String) {
    s.push_str(&format!("{},,teacher,,,,,,,{},{}\n", p.month, p.lever.name(), p.lever.value()));
}

/// The log as CSV, month by month (a month's levers before its decisions); `name(student)` gives
/// each student's name. `read_log` reads it back.
pub fn write_log<'a>(log: &Log, name: impl Fn(u32) -> &'a str) -> String {
    let mut s = String::from(LOG_HEADER);
    let (mut d, mut l) = (0, 0);
    while d < log.decisions.len() || l < log.levers.len() {
        let lever_first = l < log.levers.len() && (d >= log.decisions.len() || log.levers[l].month <= log.decisions[d].month);
        if lever_first {
            lever_row(&log.levers[l], &mut s);
            l += 1;
        } else {
            let x = &log.decisions[d];
            log_row(x, name(x.student), &mut s);
            d += 1;
        }
    }
    s
}

/// Read a log for a world of `units` units, an innovation of `rungs` rungs and a run of
/// `months`: months ascending, units that exist, choices and levers by name. The columns
/// `learn`, `lever` and `value` may be missing (the model's pick; no levers). Errors name the
/// file, line and column.
pub fn read_log(path: &Path, units: usize, rungs: u32, months: u32) -> Result<Log, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::new(format!("cannot read the decisions: {e}")).file(path))?;
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(&bytes[..]);
    let at = |line: u64, field: &str, m: String| InputError::new(m).file(path).line(line as usize).field(field);
    let headers = rdr
        .headers()
        .map_err(|e| at(1, "month", format!("cannot read the header row: {e}")))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let col =
        |name: &str| find(name).ok_or_else(|| at(1, name, format!("missing column `{name}`: the header is {}", LOG_HEADER.trim_end())));
    let cols = ["month", "student", "unit", "agenda", "invent", "push", "publicity"].map(col);
    let [c_month, c_student, c_unit, c_agenda, c_invent, c_push, c_publicity] = {
        let mut out = [0usize; 7];
        for (o, c) in out.iter_mut().zip(cols) {
            *o = c?;
        }
        out
    };
    let (c_learn, c_lever, c_value) = (find("learn"), find("lever"), find("value"));
    let mut log = Log::default();
    let mut last = 0u64;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| at(e.position().map_or(0, |p| p.line()), "month", format!("cannot read the row: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |c: usize| rec.get(c).unwrap_or("");
        let opt = |c: Option<usize>| c.map_or("", get);
        let num = |c: usize, field: &str| -> Result<u64, InputError> {
            get(c)
                .parse::<u64>()
                .map_err(|_| at(line, field, format!("`{}` is not a whole number", get(c))))
        };
        let month = num(c_month, "month")?;
        if month == 0 || month > months as u64 {
            return Err(at(line, "month", format!("{month}: the run has months 1 to {months}")));
        }
        if last > month {
            return Err(at(
                line,
                "month",
                "months must not go back: the log is in the order it was applied".into(),
            ));
        }
        last = month;
        let lever = opt(c_lever);
        if !lever.is_empty() {
            let lever = Lever::parse(lever, opt(c_value), units, rungs).map_err(|m| {
                let field = if m.contains("allowed space") { "lever" } else { "value" };
                at(line, field, m)
            })?;
            log.levers.push(Pull {
                month: month as u32,
                lever,
            });
            continue;
        }
        let unit = num(c_unit, "unit")?;
        if unit >= units as u64 {
            return Err(at(line, "unit", format!("{unit}: the world has units 0 to {}", units - 1)));
        }
        let choice = |c: usize, field: &str| match get(c) {
            "model" => Ok(Choice::Model),
            "yes" => Ok(Choice::Yes),
            "no" => Ok(Choice::No),
            other => Err(at(line, field, format!("`{other}`: allowed model, yes or no"))),
        };
        let publicity = publicity_level(get(c_publicity)).ok_or_else(|| {
            at(
                line,
                "publicity",
                format!("`{}`: allowed model, low, medium or high", get(c_publicity)),
            )
        })?;
        let learn = match opt(c_learn) {
            "" => Learn::Model,
            l => match Learn::from_name(l) {
                Some(Learn::Unit(u)) if u as usize >= units => {
                    return Err(at(line, "learn", format!("`{l}`: the world has units 0 to {}", units - 1)))
                }
                Some(learn) => learn,
                None => {
                    return Err(at(
                        line,
                        "learn",
                        format!("`{l}`: allowed model, neighbour, exemplar, parent, leader or unit:N"),
                    ))
                }
            },
        };
        log.decisions.push(Decision {
            month: month as u32,
            student: num(c_student, "student")?.min(u32::MAX as u64) as u32,
            unit: unit as usize,
            policy: Policy {
                agenda: choice(c_agenda, "agenda")?,
                invent: choice(c_invent, "invent")?,
                learn,
                push: choice(c_push, "push")?,
                publicity,
            },
        });
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::params::NEVER;
    use crate::model::trace::EventLog;
    use crate::state::route;

    /// Run the classroom for 240 months with `policy`, keeping every event.
    fn played(policy: &[Policy]) -> (Vec<crate::model::trace::Event>, BatchState, Model) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml");
        let sc = crate::scenario::Scenario::load(Path::new(path)).expect("classroom");
        let (m, prm) = sc.build().expect("builds");
        let id = RunId::new(1, 0, 0);
        let mut state = init_batch(&m, &[prm], &[id]);
        let mut events = Vec::new();
        for t in 1..=240 {
            events.extend(
                step_month(&m, &prm, id.key, &mut state, policy, t, false, EventLog::default())
                    .1
                    .events,
            );
        }
        (events, state, m)
    }

    #[test]
    fn a_player_learns_from_the_source_they_pick_whenever_it_is_in_sight() {
        let learned = |e: &&crate::model::trace::Event| e.what.starts_with("design: learned");
        // Everyone learns from their parent when the parent has adopted.
        let (events, state, m) = played(&vec![
            Policy {
                learn: Learn::Parent,
                ..Policy::default()
            };
            39
        ]);
        let mut from_parent = 0;
        for e in events.iter().filter(learned) {
            let parent = m.world.parent[e.unit as usize];
            if e.source == route::PARENT {
                from_parent += 1;
            } else {
                assert!(
                    parent == crate::world::NO_PARENT || state.adopt_month[parent as usize] >= e.month,
                    "{e:?}"
                );
            }
        }
        let (alone, ..) = played(&vec![Policy::default(); 39]);
        let alone_parent = alone.iter().filter(learned).filter(|e| e.source == route::PARENT).count();
        assert!(from_parent > alone_parent, "{from_parent} vs {alone_parent} learned from a parent");
        // Everyone learns from one named neighbour (their first) when it has adopted.
        let policy: Vec<Policy> = (0..39)
            .map(|i| {
                let first = m.world.neighbours(i).first().copied().unwrap_or(NEVER);
                Policy {
                    learn: Learn::Unit(first),
                    ..Policy::default()
                }
            })
            .collect();
        let (events, state, _) = played(&policy);
        let mut named = 0;
        for e in events.iter().filter(learned) {
            let Learn::Unit(first) = policy[e.unit as usize].learn else {
                unreachable!()
            };
            if e.source_unit == first {
                named += 1;
            } else {
                assert!(first == NEVER || state.adopt_month[first as usize] >= e.month, "{e:?}");
            }
        }
        assert!(named > 0);
        assert_eq!(Learn::from_name(&Learn::Unit(7).name()), Some(Learn::Unit(7)));
    }

    #[test]
    fn levers_read_back_as_written() {
        let levers = [
            Lever::Space(q16(0.9)),
            Lever::Signal(q16(0.05)),
            Lever::Signal(12345),
            Lever::Mandate { depth: 2, months: 36 },
            Lever::Pilot(vec![3, 0, 7]),
            Lever::Recognise,
        ];
        for l in levers {
            assert_eq!(Lever::parse(l.name(), &l.value(), 8, 4), Ok(l.clone()), "{l:?} as {}", l.value());
        }
        assert_eq!(Lever::Space(q16(0.9)).value(), "0.9");
        assert!(Lever::parse("pilot", "8", 8, 4).is_err(), "no unit 8");
        assert!(Lever::parse("pilot", "", 8, 4).is_err());
        assert!(Lever::parse("mandate", "5 36", 8, 4).is_err(), "deeper than the ladder");
        assert!(Lever::parse("mandate", "2", 8, 4).is_err());
        assert!(Lever::parse("space", "1.5", 8, 4).is_err());
        assert!(Lever::parse("storm", "", 8, 4).is_err());
    }
}
