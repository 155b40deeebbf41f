//! A played run: players' policies for some units and a teacher's levers, applied at month
//! boundaries from a log, on the CPU; the log as CSV (what the classroom writes, `--decisions` reads).

use crate::backend::cpu::run_months;
use crate::error::{CsvInput, InputError};
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
            // Every unit of the population (the others never adopt).
            for (b, _) in m.mandate_mask.iter_mut().zip(&m.member).filter(|(_, &inside)| inside) {
                *b |= 1 << at;
            }
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
            for &u in units.iter().filter(|&&u| m.member[u as usize]) {
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
/// --decisions`): the records, `[month][record]` flat, and the end state. A log holds no lever
/// that a run cannot carry (`read_log` refuses a mandate or pilot past the table of
/// `MAX_LEVERS`, and a class refuses to queue one); one in a log built in code is skipped, as
/// `pull` refuses it.
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

/// One row of a decision log (`name`: the student's, for people; the replay ignores it).
pub fn log_row(d: &Decision, name: &str, s: &mut String) {
    let p = &d.policy;
    s.push_str(&format!(
        "{},{},{},{},{},{},{},{},{},,\n",
        d.month,
        d.student,
        crate::output::csv_plain(name),
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

/// The lever names a log may hold.
const LEVERS: [&str; 5] = ["space", "signal", "mandate", "pilot", "recognise"];

/// Read a log for a world of `units` units and a run of `months` on the parameters `prm` (the
/// scenario's, before any lever): months ascending, units that exist, choices and levers by
/// name, and no more mandates or pilots than the run has room for beside the scenario's own
/// (`MAX_LEVERS` each). The columns `learn`, `lever` and `value` may be missing (the model's
/// pick; no levers). Errors name the file, the line and the column that holds the bad byte or
/// value.
pub fn read_log(path: &Path, units: usize, prm: &Params, months: u32) -> Result<Log, InputError> {
    let rungs = prm.innov[0].rungs;
    let src = CsvInput::read(path)?;
    let (mut rdr, headers) = src.reader()?;
    let expected = LOG_HEADER.trim_end();
    let mut cols = [0usize; 7];
    for (c, name) in cols
        .iter_mut()
        .zip(["month", "student", "unit", "agenda", "invent", "push", "publicity"])
    {
        *c = src.require(&headers, name, expected)?;
    }
    let [c_month, c_student, c_unit, c_agenda, c_invent, c_push, c_publicity] = cols;
    let (c_learn, c_lever, c_value) = (
        src.find(&headers, "learn")?,
        src.find(&headers, "lever")?,
        src.find(&headers, "value")?,
    );
    // Room left in the run's tables of mandates and pilots, and the line of each taken.
    let scenario = [prm.n_mandates as usize, prm.n_pilots as usize];
    let mut taken: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    let mut log = Log::default();
    let (mut last, mut last_line) = (0u64, 0usize);
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec).map_err(|e| src.error(e, Some(&headers)))? {
        let at = |c: usize, field: &str, m: String| src.at(src.cell_line(&rec, c), field, m);
        let get = |c: usize| rec.get(c).unwrap_or("");
        let opt = |c: Option<usize>| c.map_or("", get);
        let num = |c: usize, field: &str| -> Result<u64, InputError> {
            get(c)
                .parse::<u64>()
                .map_err(|_| at(c, field, format!("`{}` is not a whole number", get(c))))
        };
        let month = num(c_month, "month")?;
        if month == 0 || month > months as u64 {
            return Err(at(c_month, "month", format!("{month}: the run has months 1 to {months}")));
        }
        if last > month {
            return Err(at(
                c_month,
                "month",
                format!("{month} after {last} (line {last_line}): months must not go back; the log is in the order it was applied"),
            ));
        }
        (last, last_line) = (month, src.cell_line(&rec, c_month));
        if let Some(c_lever) = c_lever.filter(|&c| !get(c).is_empty()) {
            let (lever, value) = (get(c_lever), opt(c_value));
            if !LEVERS.contains(&lever) {
                return Err(at(c_lever, "lever", format!("`{lever}`: allowed {}", LEVERS.join(", "))));
            }
            let pulled = Lever::parse(lever, value, units, rungs).map_err(|m| at(c_value.unwrap_or(c_lever), "value", m))?;
            let table = match pulled {
                Lever::Mandate { .. } => Some(0),
                Lever::Pilot(_) => Some(1),
                _ => None,
            };
            if let Some(k) = table {
                let line = src.cell_line(&rec, c_lever);
                if scenario[k] + taken[k].len() >= MAX_LEVERS {
                    let earlier: Vec<String> = taken[k].iter().map(usize::to_string).collect();
                    return Err(src.at(
                        line,
                        "lever",
                        format!(
                            "a {lever} too many: a run holds at most {MAX_LEVERS} {lever}s, and the scenario has {} of its own{}; a class refuses more, so no class wrote this log",
                            scenario[k],
                            if earlier.is_empty() { String::new() } else { format!(" and this log {} (lines {})", earlier.len(), earlier.join(", ")) }
                        ),
                    ));
                }
                taken[k].push(line);
            }
            log.levers.push(Pull {
                month: month as u32,
                lever: pulled,
            });
            continue;
        }
        let unit = num(c_unit, "unit")?;
        if unit >= units as u64 {
            return Err(at(c_unit, "unit", format!("{unit}: the world has units 0 to {}", units - 1)));
        }
        let student = num(c_student, "student")?;
        let student =
            u32::try_from(student).map_err(|_| at(c_student, "student", format!("{student}: a student's number is 0 to {}", u32::MAX)))?;
        let choice = |c: usize, field: &str| match get(c) {
            "model" => Ok(Choice::Model),
            "yes" => Ok(Choice::Yes),
            "no" => Ok(Choice::No),
            other => Err(at(c, field, format!("`{other}`: allowed model, yes or no"))),
        };
        let publicity = publicity_level(get(c_publicity)).ok_or_else(|| {
            at(
                c_publicity,
                "publicity",
                format!("`{}`: allowed model, low, medium or high", get(c_publicity)),
            )
        })?;
        let learn = match (c_learn, opt(c_learn)) {
            (_, "") => Learn::Model,
            (Some(c), l) => match Learn::from_name(l) {
                Some(Learn::Unit(u)) if u as usize >= units => {
                    return Err(at(c, "learn", format!("`{l}`: the world has units 0 to {}", units - 1)))
                }
                Some(learn) => learn,
                None => {
                    return Err(at(
                        c,
                        "learn",
                        format!("`{l}`: allowed model, neighbour, exemplar, parent, leader or unit:N"),
                    ))
                }
            },
            (None, _) => Learn::Model,
        };
        log.decisions.push(Decision {
            month: month as u32,
            student,
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

    /// The classroom's parameters, and a file holding `body`.
    fn log_file(name: &str, body: impl AsRef<[u8]>) -> (std::path::PathBuf, Params) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml");
        let sc = crate::scenario::Scenario::load(Path::new(path)).expect("classroom");
        let (_, prm) = sc.build().expect("builds");
        let dir = std::env::temp_dir().join(format!("pioneer-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write");
        (p, prm)
    }

    #[test]
    fn a_log_is_read_and_every_bad_cell_is_named_at_its_line_and_column() {
        let good =
            format!("{LOG_HEADER}1,,teacher,,,,,,,pilot,3 4\n1,0,Ann,12,yes,model,exemplar,yes,high,,\n13,,teacher,,,,,,,mandate,2 36\n");
        let (p, prm) = log_file("good.csv", &good);
        let log = read_log(&p, 39, &prm, 240).expect("reads");
        assert_eq!((log.decisions.len(), log.levers.len()), (1, 2));
        let row = "1,0,Ann,12,yes,model,exemplar,yes,high,,";
        let mut cases: Vec<(String, usize, &str)> = vec![
            // Months: not a number, 0, past the run, going back.
            (format!("{LOG_HEADER}x,0,Ann,12,yes,model,model,yes,high,,\n"), 2, "month"),
            (format!("{LOG_HEADER}0,0,Ann,12,yes,model,model,yes,high,,\n"), 2, "month"),
            (format!("{LOG_HEADER}241,0,Ann,12,yes,model,model,yes,high,,\n"), 2, "month"),
            (format!("{LOG_HEADER}5,0,Ann,12,yes,model,model,yes,high,,\n{row}\n"), 3, "month"),
            // Units that do not exist, students past u32, choices by name.
            (format!("{LOG_HEADER}1,0,Ann,39,yes,model,model,yes,high,,\n"), 2, "unit"),
            (format!("{LOG_HEADER}1,0,Ann,-1,yes,model,model,yes,high,,\n"), 2, "unit"),
            (format!("{LOG_HEADER}1,4294967296,Ann,1,yes,model,model,yes,high,,\n"), 2, "student"),
            (format!("{LOG_HEADER}1,0,Ann,1,maybe,model,model,yes,high,,\n"), 2, "agenda"),
            (format!("{LOG_HEADER}1,0,Ann,1,yes,model,model,nan,high,,\n"), 2, "push"),
            (format!("{LOG_HEADER}1,0,Ann,1,yes,model,model,yes,0.7,,\n"), 2, "publicity"),
            (format!("{LOG_HEADER}1,0,Ann,1,yes,model,unit:39,yes,high,,\n"), 2, "learn"),
            (format!("{LOG_HEADER}1,0,Ann,1,yes,model,teacher,yes,high,,\n"), 2, "learn"),
            // Levers: unknown, bad values, a unit that does not exist.
            (format!("{LOG_HEADER}1,,teacher,,,,,,,storm,\n"), 2, "lever"),
            (format!("{LOG_HEADER}1,,teacher,,,,,,,space,inf\n"), 2, "value"),
            (format!("{LOG_HEADER}1,,teacher,,,,,,,signal,-0.5\n"), 2, "value"),
            (format!("{LOG_HEADER}1,,teacher,,,,,,,pilot,3 39\n"), 2, "value"),
            (format!("{LOG_HEADER}1,,teacher,,,,,,,mandate,9 36\n"), 2, "value"),
            // Rows cut short or too long: the column at fault, not `month`.
            (format!("{LOG_HEADER}1,0,Ann,12,yes,model,exemplar\n"), 2, "push"),
            (format!("{LOG_HEADER}{row},x\n"), 2, "value"),
            (format!("{LOG_HEADER}\n\n1,0\n"), 4, "name"),
            // A name over two lines: the unit below it is on the second.
            (format!("{LOG_HEADER}1,0,\"A\nnn\",x,yes,model,model,yes,high,,\n"), 3, "unit"),
            // The header: a column missing or named twice.
            ("month,student,name,unit,agenda,invent,push\n".to_string(), 1, "publicity"),
            (LOG_HEADER.replace("lever", "unit"), 1, "unit"),
        ];
        // A ninth mandate or pilot, where the scenario has none.
        for (lever, value) in [("mandate", "1 12"), ("pilot", "3")] {
            let mut text = LOG_HEADER.to_string();
            for t in 1..=9 {
                text.push_str(&format!("{t},,teacher,,,,,,,{lever},{value}\n"));
            }
            cases.push((text, 10, "lever"));
        }
        for (body, line, field) in &cases {
            let (p, _) = log_file("bad.csv", body);
            let e = read_log(&p, 39, &prm, 240).expect_err(body);
            assert_eq!((e.line, e.field.as_deref()), (Some(*line), Some(*field)), "{body}: {e}");
            assert_eq!(e.file.as_deref(), Some(p.as_path()));
        }
        // Eight of each fit; beside two of the scenario's own, only six.
        let mut eight = LOG_HEADER.to_string();
        for t in 1..=8 {
            eight.push_str(&format!("{t},,teacher,,,,,,,mandate,1 12\n{t},,teacher,,,,,,,pilot,3\n"));
        }
        let (p, _) = log_file("eight.csv", &eight);
        assert_eq!(read_log(&p, 39, &prm, 240).expect("eight fit").levers.len(), 16);
        let own = Params {
            n_mandates: 2,
            n_pilots: 2,
            ..prm
        };
        let e = read_log(&p, 39, &own, 240).expect_err("six fit");
        assert_eq!((e.line, e.field.as_deref()), (Some(14), Some("lever")), "{e}");
        assert!(e.message.contains("the scenario has 2 of its own"), "{e}");
    }

    #[test]
    fn broken_utf8_in_a_log_is_named_in_its_column() {
        for (body, line, field) in [
            (
                &b"month,student,name,unit,agenda,invent,learn,push,publicity,lever,value\n1,0,A\xffn,12,yes,model,model,yes,high,,\n"[..],
                2,
                "name",
            ),
            (
                b"month,student,name,unit,agenda,invent,learn,push,publicity,lever,value\n1,0,Ann,12,yes,model,model,yes,hi\xe9,,\n",
                2,
                "publicity",
            ),
            (
                b"month,student,name,unit,agenda,invent,learn,push,publicity,lever,value\n\n1,,teacher,,,,,,,pilot,3 \xff\n",
                3,
                "value",
            ),
            (b"month,student,na\xffme,unit\n", 1, "column 3"),
        ] {
            let (p, prm) = log_file("utf8.csv", body);
            let e = read_log(&p, 39, &prm, 240).expect_err("broken UTF-8");
            assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{e}");
        }
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
