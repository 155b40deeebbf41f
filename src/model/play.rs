//! A played run: players' policies for some units, applied at month boundaries from a decision
//! log, on the CPU; the log as CSV (what the classroom writes and `pioneer run --decisions` reads).

use crate::backend::cpu::run_months;
use crate::error::InputError;
use crate::model::fixed::ONE;
use crate::model::params::Params;
use crate::model::trace::{Choice, NoTrace, Played, Policy, Tracer};
use crate::model::{agg, init_batch, Model, RunId};
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

/// One month of a one-run batch with the players' policies (publicity set first, then the month),
/// `inner` watching it: the month's record and the tracer.
pub fn step_month<T: Tracer>(
    m: &Model,
    prm: &Params,
    key: u32,
    state: &mut BatchState,
    policy: &[Policy],
    t: u32,
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
    (rec, tr.inner)
}

/// Replay a class from its decision log: run 0 of `seed` for `months`, each decision applied
/// before its month. The class's state, to the bit.
pub fn replay(m: &Model, prm: &Params, seed: u64, log: &[Decision], months: u32) -> BatchState {
    replay_records(m, prm, seed, log, months).1
}

/// Replay run 0 of `seed` with `log`, keeping every month's record (for `pioneer run
/// --decisions`): the records, `[month][record]` flat, and the end state.
pub fn replay_records(m: &Model, prm: &Params, seed: u64, log: &[Decision], months: u32) -> (Vec<u32>, BatchState) {
    let id = RunId::new(seed, 0, 0);
    let mut state = init_batch(m, &[*prm], &[id]);
    let mut policy = vec![Policy::default(); m.world.len()];
    let mut records = Vec::with_capacity(months as usize * agg::record_len(prm.n_innov as usize));
    let mut next = 0;
    for t in 1..=months {
        while next < log.len() && log[next].month == t {
            policy[log[next].unit] = log[next].policy;
            next += 1;
        }
        records.extend(step_month(m, prm, id.key, &mut state, &policy, t, NoTrace).0);
    }
    (records, state)
}

/// The header of a decision log.
pub const LOG_HEADER: &str = "month,student,name,unit,agenda,invent,push,publicity\n";

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
    let name: String = name
        .chars()
        .map(|c| if matches!(c, ',' | '"' | '\n' | '\r') { ' ' } else { c })
        .collect();
    s.push_str(&format!(
        "{},{},{},{},{},{},{},{}\n",
        d.month,
        d.student,
        name,
        d.unit,
        choice_name(d.policy.agenda),
        choice_name(d.policy.invent),
        choice_name(d.policy.push),
        publicity_name(d.policy.publicity)
    ));
}

/// Read a decision log for a world of `units` units and a run of `months`: months ascending,
/// units that exist, choices by name. Errors name the file, line and column.
pub fn read_log(path: &Path, units: usize, months: u32) -> Result<Vec<Decision>, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::new(format!("cannot read the decisions: {e}")).file(path))?;
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(&bytes[..]);
    let at = |line: u64, field: &str, m: String| InputError::new(m).file(path).line(line as usize).field(field);
    let headers = rdr
        .headers()
        .map_err(|e| at(1, "month", format!("cannot read the header row: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| at(1, name, format!("missing column `{name}`: the header is {}", LOG_HEADER.trim_end())))
    };
    let cols = ["month", "student", "unit", "agenda", "invent", "push", "publicity"].map(col);
    let [c_month, c_student, c_unit, c_agenda, c_invent, c_push, c_publicity] = {
        let mut out = [0usize; 7];
        for (o, c) in out.iter_mut().zip(cols) {
            *o = c?;
        }
        out
    };
    let mut log: Vec<Decision> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| at(e.position().map_or(0, |p| p.line()), "month", format!("cannot read the row: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |c: usize| rec.get(c).unwrap_or("");
        let num = |c: usize, field: &str| -> Result<u64, InputError> {
            get(c)
                .parse::<u64>()
                .map_err(|_| at(line, field, format!("`{}` is not a whole number", get(c))))
        };
        let month = num(c_month, "month")?;
        if month == 0 || month > months as u64 {
            return Err(at(line, "month", format!("{month}: the run has months 1 to {months}")));
        }
        if log.last().is_some_and(|d| (d.month as u64) > month) {
            return Err(at(
                line,
                "month",
                "months must not go back: the log is in the order it was applied".into(),
            ));
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
        log.push(Decision {
            month: month as u32,
            student: num(c_student, "student")?.min(u32::MAX as u64) as u32,
            unit: unit as usize,
            policy: Policy {
                agenda: choice(c_agenda, "agenda")?,
                invent: choice(c_invent, "invent")?,
                push: choice(c_push, "push")?,
                publicity,
            },
        });
    }
    Ok(log)
}
