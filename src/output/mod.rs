//! What a run writes: steps.csv, summary.csv, units.csv, events.csv and manifest.json.
//! Every file goes to a temporary name first and is renamed when complete.

pub mod folder;
pub mod panel;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod sweep;
pub mod table;

use crate::backend::BatchOutput;
use crate::error::{Error, Result};
use crate::model::agg;
use crate::model::fixed::to_f64;
use crate::model::params::Params;
use crate::model::params::NEVER;
use crate::model::trace::Event;
use crate::model::{Model, RunId};
use crate::scenario::MAX_RUNGS;
use crate::state::outcome;
use crate::state::{route, stage};
use crate::world::MAX_LEVELS;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being written under `<name>.tmp`; `commit` renames it into place. Dropped without
/// commit, the temporary file is removed, so no half-written file ever looks finished.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<std::io::BufWriter<std::fs::File>>,
    /// The fingerprint of what was written so far.
    digest: table::Digest,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let f = std::fs::File::create(&tmp).map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            out: Some(std::io::BufWriter::new(f)),
            digest: table::Digest::default(),
        })
    }
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.digest.add(bytes);
        let tmp = self.tmp.clone();
        match self.out.as_mut() {
            Some(o) => o
                .write_all(bytes)
                .map_err(|e| Error::io(format!("cannot write {}", tmp.display()), e)),
            None => Ok(()),
        }
    }
    /// The bytes written so far and their FNV-1a hash.
    pub fn digest(&self) -> table::Digest {
        self.digest
    }
    pub fn commit(mut self) -> Result<()> {
        if let Some(o) = self.out.take() {
            let f = o
                .into_inner()
                .map_err(|e| Error::io(format!("cannot write {}", self.tmp.display()), e.into_error()))?;
            f.sync_all()
                .map_err(|e| Error::io(format!("cannot write {}", self.tmp.display()), e))?;
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(format!("cannot rename {} into place", self.tmp.display()), e))?;
        put_in_place();
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.is_some() {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Fault injection for the kill tests: with `PIONEER_DIE_AFTER_WRITES=N` in the environment, the
/// process aborts (as a kill would: no destructor or clean-up runs) just after the Nth file or
/// folder is put in place. Without it, this is one relaxed load and add.
pub fn put_in_place() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LIMIT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let limit = *LIMIT.get_or_init(|| {
        std::env::var("PIONEER_DIE_AFTER_WRITES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX)
    });
    if COUNT.fetch_add(1, Ordering::Relaxed) + 1 == limit {
        std::process::abort();
    }
}

/// Write a whole file atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Where each run of a batch sits in the output: its id and its row in the batch output, and
/// the parameter points the ids refer to.
pub struct RunRows<'a> {
    pub ids: &'a [RunId],
    pub out: &'a BatchOutput,
    pub params: &'a [Params],
}

/// The columns of steps.csv after `point,replicate,month,innovation`: name, and whether the
/// value is a count (printed whole) rather than a share or mean (printed with 6 decimals).
pub fn steps_columns(model: &Model) -> Vec<(String, bool)> {
    let mut c = vec![("adopters".to_string(), true), ("share".to_string(), false)];
    for l in 0..MAX_LEVELS.min(model.world.n_levels().max(1)) {
        c.push((format!("adopters_level{l}"), true));
    }
    for r in &route::NAMES[1..7] {
        c.push((format!("new_{r}"), true));
    }
    for s in &stage::NAMES[1..] {
        c.push((s.to_string(), true));
    }
    c.push(("idle".into(), true));
    for m in ["mean_p", "mean_e", "mean_l", "mean_i"] {
        c.push((m.into(), false));
    }
    c.push(("promotions".into(), true));
    c.push(("recognitions".into(), true));
    for d in 1..=MAX_RUNGS {
        c.push((format!("depth_{d}"), true));
    }
    c.push(("complete".into(), true));
    c.push(("mean_b".into(), false));
    c.push(("rung_attempts".into(), true));
    c.push(("rung_failures".into(), true));
    c
}

/// The values of `steps_columns` for innovation k in a month record of `kn` innovations.
pub fn step_values(model: &Model, rec: &[u32], kn: usize, k: usize, out: &mut Vec<f64>) {
    // Means are over the world's units; the share adopted over the population's.
    let (n, pop) = (model.world.len() as f64, model.population() as f64);
    let levels = MAX_LEVELS.min(model.world.n_levels().max(1));
    let g = agg::global_base(kn);
    let b = k * agg::PER_INNOV;
    let mean = |at: usize| agg::split_sum(rec, at) as f64 / (n * 65535.0);
    out.clear();
    let a = rec[b + agg::ADOPTERS];
    out.push(a as f64);
    out.push(a as f64 / pop);
    out.extend((0..levels).map(|l| rec[b + agg::BY_LEVEL + l] as f64));
    out.extend((1..7).map(|ro| rec[b + agg::BY_ROUTE + ro] as f64));
    out.extend((0..4).map(|st| rec[b + agg::BY_STAGE + st] as f64));
    out.push(rec[g + agg::IDLE] as f64);
    for at in [agg::SUM_P, agg::SUM_E, agg::SUM_L, agg::SUM_I] {
        out.push(mean(g + at));
    }
    out.push(rec[g + agg::PROMOTIONS] as f64);
    out.push(rec[g + agg::RECOGNITIONS] as f64);
    out.extend((0..MAX_RUNGS as usize).map(|d| rec[b + agg::DEPTH + d] as f64));
    out.push(rec[b + agg::COMPLETE] as f64);
    out.push(mean(g + agg::SUM_B));
    out.push(rec[b + agg::RUNG_ATTEMPTS] as f64);
    out.push(rec[b + agg::RUNG_FAILURES] as f64);
}

/// Append `,v1,v2,…` to `s`: counts whole, the rest with 6 decimals (all with 6 when `means`).
pub fn write_values(cols: &[(String, bool)], values: &[f64], means: bool, s: &mut String) {
    for ((_, count), v) in cols.iter().zip(values) {
        if *count && !means {
            let _ = write!(s, ",{v}");
        } else {
            let _ = write!(s, ",{v:.6}");
        }
    }
}

/// Header of steps.csv.
pub fn steps_header(model: &Model) -> String {
    let mut h = String::from("run,point,replicate,month,innovation");
    for (c, _) in steps_columns(model) {
        let _ = write!(h, ",{c}");
    }
    h.push('\n');
    h
}

/// Rows of steps.csv for every run and month (one row per innovation).
pub fn steps_rows(model: &Model, rows: &RunRows, s: &mut String) {
    let kn = rows.out.state.innov;
    let cols = steps_columns(model);
    let mut values = Vec::with_capacity(cols.len());
    for (r, id) in rows.ids.iter().enumerate() {
        for t in 1..=rows.out.months {
            let rec = rows.out.record(r, t);
            for k in 0..kn {
                let _ = write!(s, "{},{},{},{},{}", r, id.point, id.replicate, t, k);
                step_values(model, rec, kn, k, &mut values);
                write_values(&cols, &values, false, s);
                s.push('\n');
            }
        }
    }
}

/// The per-run summary of one innovation.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// First month with at least 10 / 50 / 90 % of units adopted.
    pub t10: Option<u32>,
    pub t50: Option<u32>,
    pub t90: Option<u32>,
    pub final_share: f64,
    /// Share of the run's adoptions (seeded ones excluded) that were invented.
    pub share_invented: f64,
    /// Distinct design variants among adopters.
    pub variants: usize,
    /// Gini coefficient of legitimacy L over units at the end.
    pub gini_l: f64,
    /// (v2) Mean depth of the adopters at the end (0 without adopters).
    pub mean_depth: f64,
    /// (v2) Share of the adopters at the full depth of the ladder at the end.
    pub complete_share: f64,
}

/// Gini coefficient of integer values (0 when all are equal or all are 0).
pub fn gini(values: &[u32]) -> f64 {
    let mut v: Vec<u64> = values.iter().map(|&x| x as u64).collect();
    v.sort_unstable();
    let n = v.len() as f64;
    let total: u64 = v.iter().sum();
    if total == 0 || v.is_empty() {
        return 0.0;
    }
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, &x)| (2.0 * (i as f64 + 1.0) - n - 1.0) * x as f64)
        .sum();
    weighted / (n * total as f64)
}

/// Summaries of run r: one per innovation, over the units of `m`'s population.
pub fn summarise(m: &Model, out: &BatchOutput, r: usize) -> Vec<Summary> {
    let st = &out.state;
    let (n, kn, pop) = (st.units, st.innov, m.population());
    let l: Vec<u32> = (0..n).filter(|&i| m.member[i]).map(|i| st.l[r * n + i]).collect();
    let gini_l = gini(&l);
    (0..kn)
        .map(|k| {
            let first =
                |num: usize| (1..=out.months).find(|&t| out.record(r, t)[k * agg::PER_INNOV + agg::ADOPTERS] as usize * 10 >= num * pop);
            let base = (r * kn + k) * n;
            let months = &st.adopt_month[base..base + n];
            let routes = &st.route[base..base + n];
            let mut variants: Vec<u32> = (0..n).filter(|&i| months[i] != NEVER).map(|i| st.variant[base + i]).collect();
            variants.sort_unstable();
            variants.dedup();
            let made: Vec<u32> = (0..n)
                .filter(|&i| months[i] != NEVER && routes[i] != route::SEEDED)
                .map(|i| routes[i])
                .collect();
            let invented = made.iter().filter(|&&x| x == route::INVENTED).count();
            let last = out.record(r, out.months);
            let adopters = last[k * agg::PER_INNOV + agg::ADOPTERS];
            let depth_sum: u64 = (0..MAX_RUNGS as usize)
                .map(|d| (d as u64 + 1) * last[k * agg::PER_INNOV + agg::DEPTH + d] as u64)
                .sum();
            let per_adopter = |x: f64| if adopters == 0 { 0.0 } else { x / adopters as f64 };
            Summary {
                mean_depth: per_adopter(depth_sum as f64),
                complete_share: per_adopter(last[k * agg::PER_INNOV + agg::COMPLETE] as f64),
                t10: first(1),
                t50: first(5),
                t90: first(9),
                final_share: adopters as f64 / pop as f64,
                share_invented: if made.is_empty() {
                    0.0
                } else {
                    invented as f64 / made.len() as f64
                },
                variants: variants.len(),
                gini_l,
            }
        })
        .collect()
}

fn opt(x: Option<u32>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

pub const SUMMARY_HEADER: &str =
    "run,point,replicate,innovation,t10,t50,t90,final_share,share_invented,variants,gini_l,mean_depth,complete_share\n";

/// Rows of summary.csv.
pub fn summary_rows(model: &Model, rows: &RunRows, s: &mut String) {
    for (r, id) in rows.ids.iter().enumerate() {
        for (k, sm) in summarise(model, rows.out, r).iter().enumerate() {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{:.6},{:.6},{},{:.6},{:.6},{:.6}",
                r,
                id.point,
                id.replicate,
                k,
                opt(sm.t10),
                opt(sm.t50),
                opt(sm.t90),
                sm.final_share,
                sm.share_invented,
                sm.variants,
                sm.gini_l,
                sm.mean_depth,
                sm.complete_share
            );
        }
    }
}

pub const UNITS_HEADER: &str = "run,unit,name,level,innovation,adopted_month,route,quality,variant,depth,rung_months,full_month,ambition,publicity,incentive,promoted_later\n";

/// Rows of units.csv: per run, unit and innovation. (v2) `rung_months` lists the month of each
/// rung reached, `;`-separated; `ambition`, `publicity` and `incentive` are the adopting
/// leader's at adoption; `promoted_later` is 1 or 0 after that leader's first ranking, empty
/// before it, after a retirement and for seeded designs.
pub fn units_rows(model: &Model, rows: &RunRows, s: &mut String) {
    let st = &rows.out.state;
    let (n, kn) = (st.units, st.innov);
    for (r, id) in rows.ids.iter().enumerate() {
        let prm = &rows.params[id.point as usize];
        for i in 0..n {
            for k in 0..kn {
                let at = (r * kn + k) * n + i;
                let m = st.adopt_month[at];
                let _ = write!(s, "{},{},{},{},{}", r, i, csv_field(&model.world.names[i]), model.world.level[i], k);
                if m == NEVER {
                    let _ = writeln!(s, ",,,,,0,,,,,,");
                    continue;
                }
                let d = st.depth[at];
                let rungs: Vec<String> = (1..=d).map(|j| st.rung_month(r, k, i, j).to_string()).collect();
                let full = if d == prm.innov[k].rungs {
                    st.rung_month(r, k, i, d).to_string()
                } else {
                    String::new()
                };
                let x = st.ad_extra[at];
                let seeded = st.route[at] == route::SEEDED;
                let lead = |v: u32| if seeded { String::new() } else { format!("{:.6}", to_f64(v)) };
                let promoted = match outcome::fate(x) {
                    outcome::PROMOTED => "1",
                    outcome::NOT_PROMOTED => "0",
                    _ => "",
                };
                let _ = writeln!(
                    s,
                    ",{},{},{:.6},{},{},{},{},{},{},{},{}",
                    m,
                    route::NAMES[st.route[at] as usize],
                    to_f64(st.quality[at]),
                    st.variant[at],
                    d,
                    rungs.join(";"),
                    full,
                    lead(st.ad_leader[at] & 0xFFFF),
                    lead(st.ad_leader[at] >> 16),
                    lead(outcome::incentive(x)),
                    promoted
                );
            }
        }
    }
}

/// Quote a CSV field when needed.
pub fn csv_field(s: &str) -> String {
    let s = inert(s);
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// A text as one CSV cell that needs no quoting (commas, quotes and line breaks become spaces),
/// made inert for spreadsheets as `csv_field` does.
pub fn csv_plain(s: &str) -> String {
    inert(s)
        .chars()
        .map(|c| if matches!(c, ',' | '"' | '\n' | '\r') { ' ' } else { c })
        .collect()
}

/// A text cell that a spreadsheet would run as a formula (one starting with `=`, `+`, `-`, `@`, a
/// tab or a carriage return, and not a number) gets a leading `'`, which spreadsheets show as
/// text; numbers such as `-0.5` and every other text are kept as they are.
pub fn inert(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.trim().parse::<f64>().is_err();
    if risky {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

pub const EVENTS_HEADER: &str = "month,unit,name,from,to,innovation,incentive,gap,theta,signal,demand,prob,source,source_quality,delta,quality,variant,legitimacy_before,legitimacy,rung,hurdle,resistance,backing_before,backing,source_unit,what\n";

/// One row of events.csv. `legitimacy_before` and `legitimacy` are L at the start of the month
/// and after the event. (v2) `rung` is the rung attempted or reached (the depth of the
/// source for a design, of the unit for a recognition), `hurdle` its hurdle h_j, `backing_before`
/// and `backing` the upper backing B before and after (the pitch, a rung, a recognition),
/// `delta` the novelty among peers for a rung reached; `source_unit` names the unit a learned
/// design came from.
pub fn event_row(model: &Model, e: &Event, s: &mut String) {
    let name = |j: u32| {
        if j == NEVER {
            String::new()
        } else {
            csv_field(&model.world.names[j as usize])
        }
    };
    let source = if e.what.starts_with("leader") {
        name(e.source)
    } else {
        route::NAMES.get(e.source as usize).copied().unwrap_or("").to_string()
    };
    let _ = writeln!(
        s,
        "{},{},{},{},{},{},{:.4},{:.4},{:.4},{:.4},{:.4},{:.4},{},{:.4},{:.4},{:.4},{},{:.4},{:.4},{},{:.4},{:.4},{:.4},{:.4},{},{}",
        e.month,
        e.unit,
        csv_field(&model.world.names[e.unit as usize]),
        e.from_name(),
        e.to_name(),
        e.k,
        to_f64(e.incentive),
        to_f64(e.gap),
        to_f64(e.theta),
        to_f64(e.signal),
        to_f64(e.demand),
        e.prob as f64 / 65535.0,
        source,
        to_f64(e.source_q),
        to_f64(e.delta),
        to_f64(e.quality),
        e.variant,
        to_f64(e.legitimacy_before),
        to_f64(e.legitimacy),
        e.rung,
        e.hurdle as f64 / 65535.0,
        to_f64(e.resistance),
        to_f64(e.backing_before),
        to_f64(e.backing),
        name(e.source_unit),
        csv_field(e.what)
    );
}
