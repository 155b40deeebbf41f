//! The event-history panel (`pioneer run --panel year|month`): one row per run, unit, innovation
//! and period while the unit is at risk, and the period it adopts, with covariates lagged a period.

use crate::backend::cpu::run_months;
use crate::model::fixed::to_f64;
use crate::model::params::{Params, NEVER};
use crate::model::trace::NoTrace;
use crate::model::{agg, init_batch, Model, RunId};
use crate::state::{route, RunMut};
use crate::world::NO_PARENT;
use std::fmt::Write as _;

/// The covariates, each read at the end of the period before the row's (the lag). The last,
/// `years_at_risk`, is the time the unit had been at risk by then: the months from the run's
/// start to the period's start, in years (0 in the first period, with years and months alike).
pub const COVARIATES: [&str; 18] = [
    "share_nbr_adopted",
    "n_nbr_adopted",
    "parent_adopted",
    "exemplar_exists",
    "mandate_active",
    "pilot",
    "incentive",
    "ambition",
    "publicity",
    "gap",
    "performance",
    "legitimacy",
    "backing",
    "capacity",
    "resistance",
    "firms",
    "leader_tenure",
    "years_at_risk",
];

/// The header of panel.csv: a run's rows start with `run`, a sweep's with `point,replicate`.
pub fn header(label: &str) -> String {
    format!(
        "{label},unit,name,level,parent,innovation,period,adopt,depth,route,{}\n",
        COVARIATES.join(",")
    )
}

/// The periods of `--panel year|month`, in months.
pub fn period(flag: Option<&str>) -> Result<Option<u32>, crate::error::InputError> {
    match flag {
        None => Ok(None),
        Some("year") => Ok(Some(12)),
        Some("month") => Ok(Some(1)),
        Some(other) => Err(crate::error::InputError::new(format!("`{other}`: allowed `year` or `month`")).field("--panel")),
    }
}

/// The type of a panel column in Parquet.
pub fn column_kind(c: &str) -> crate::output::sweep::Kind {
    use crate::output::sweep::Kind;
    match c {
        "name" | "parent" | "route" => Kind::Str,
        "run" | "point" | "replicate" | "unit" | "level" | "innovation" | "period" | "adopt" | "depth" | "n_nbr_adopted"
        | "parent_adopted" | "exemplar_exists" | "mandate_active" | "pilot" => Kind::Int,
        _ => Kind::F64,
    }
}

/// What the rows read of a run at a period's end.
struct Snapshot {
    /// Month of the snapshot (0: the start).
    month: u32,
    /// `[k * n + i]`: adopted innovation k by then.
    adopted: Vec<bool>,
    /// `[k]`: an exemplar of innovation k exists.
    exemplar: Vec<bool>,
    /// Per unit: incentive, ambition, publicity, gap, performance, legitimacy, backing, capacity,
    /// resistance, firms, leader tenure in years.
    unit: Vec<[f64; 11]>,
}

fn snapshot(m: &Model, prm: &Params, run: &RunMut, month: u32) -> Snapshot {
    let n = m.world.len();
    let kn = prm.n_innov as usize;
    let adopted = (0..kn * n)
        .map(|at| run.adopt_month[at] != NEVER && run.adopt_month[at] <= month)
        .collect();
    let exemplar = (0..kn).map(|k| run.ex_unit[k] != NEVER).collect();
    let unit = (0..n)
        .map(|i| {
            let (incentive, gap) = crate::model::trace::incentive_and_gap(m, prm, run, i);
            [
                to_f64(incentive),
                to_f64(run.ambition[i]),
                to_f64(run.mu[i]),
                to_f64(gap),
                to_f64(run.p[i]),
                to_f64(run.l[i]),
                to_f64(run.b[i]),
                to_f64(run.cap[i]),
                to_f64(run.phi[i]),
                to_f64(m.world.firms[i]),
                run.tenure[i] as f64 / 12.0,
            ]
        })
        .collect();
    Snapshot {
        month,
        adopted,
        exemplar,
        unit,
    }
}

/// Replay run `id` (rows starting `label`: its run index, or its point and replicate) on the CPU — the same run as in any batch — and append its
/// panel rows for periods of `period` months (the last period may be shorter) to `s`.
pub fn rows(m: &Model, prm: &Params, id: RunId, label: &str, months: u32, period: u32, s: &mut String) {
    let n = m.world.len();
    let kn = prm.n_innov as usize;
    // One run with its own parameters: its point is 0 of this one-run batch (the key is the run's).
    let mut state = init_batch(m, &[*prm], &[RunId { point: 0, ..id }]);
    let rl = agg::record_len(kn);
    let mut rec = vec![0u32; rl];
    let mut views = state.runs_mut();
    let Some(run) = views.first_mut() else { return };
    let mut prev = snapshot(m, prm, run, 0);
    for t in 1..=months {
        rec.fill(0);
        run_months(m, prm, id.key, run, &mut rec, t, t, &mut NoTrace, &|_| {});
        if t % period != 0 && t != months {
            continue;
        }
        let cur = snapshot(m, prm, run, t);
        let p = t.div_ceil(period);
        for k in 0..kn {
            for i in 0..n {
                let at = k * n + i;
                if prev.adopted[at] {
                    continue;
                }
                let adopt = cur.adopted[at];
                let nbrs = m.world.neighbours(i);
                let n_adopted = nbrs.iter().filter(|&&j| prev.adopted[k * n + j as usize]).count();
                let share = if nbrs.is_empty() {
                    0.0
                } else {
                    n_adopted as f64 / nbrs.len() as f64
                };
                let parent = m.world.parent[i];
                let parent_adopted = parent != NO_PARENT && prev.adopted[k * n + parent as usize];
                let tm = prev.month;
                let mandate = (0..prm.n_mandates as usize).any(|mi| {
                    let md = &prm.mandates[mi];
                    md.innov as usize == k && (m.mandate_mask[i] >> mi) & 1 == 1 && md.start <= tm && tm <= md.deadline
                });
                let pilot = (0..prm.n_pilots as usize).any(|pi| {
                    let pl = &prm.pilots[pi];
                    pl.innov as usize == k && (m.pilot_mask[i] >> pi) & 1 == 1 && pl.month <= tm
                });
                let parent_id = if parent == NO_PARENT {
                    String::new()
                } else {
                    super::csv_plain(&m.world.ids[parent as usize])
                };
                let (depth, how) = if adopt {
                    (run.depth[at], route::NAMES[run.route[at] as usize])
                } else {
                    (0, "")
                };
                let _ = write!(
                    s,
                    "{label},{i},{},{},{parent_id},{k},{p},{},{depth},{how},{share:.6},{n_adopted},{},{},{},{}",
                    super::csv_plain(&m.world.names[i]),
                    m.world.level[i],
                    u8::from(adopt),
                    u8::from(parent_adopted),
                    u8::from(prev.exemplar[k]),
                    u8::from(mandate),
                    u8::from(pilot),
                );
                for v in &prev.unit[i] {
                    let _ = write!(s, ",{v:.6}");
                }
                // Every unit in the panel is at risk from month 0 (a unit adopted before month 1
                // never is), so its time at risk is the lag's month; shortest exact form.
                let _ = write!(s, ",{}", f64::from(tm) / 12.0);
                s.push('\n');
            }
        }
        prev = cur;
    }
}
