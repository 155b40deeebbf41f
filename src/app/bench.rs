//! `pioneer bench`: agent-months per second of stepping, end-to-end seconds, and the share of a
//! memory-bandwidth floor reached. A measurement, never a test: it prints figures, may record them.

use super::budget::{self, Footprint};
use super::run::{backend, run_chunked};
use crate::backend::gpu::bytes_per_agent_month;
use crate::error::{Error, Result};
use crate::model::{init_batch, RunId};
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Memory bandwidth assumed when none is given: about what an H100 measured (GPU.md).
pub const DEFAULT_BANDWIDTH_GBS: f64 = 3000.0;

/// The bundled baseline, used when no scenario is given.
pub const BASELINE: &str = include_str!("../../scenarios/baseline.toml");

/// Options of `pioneer bench`.
#[derive(Debug, Clone, Default)]
pub struct BenchArgs {
    pub scenario: Option<PathBuf>,
    pub backend: String,
    pub runs: u32,
    pub months: Option<u32>,
    pub reps: u32,
    pub threads: Option<usize>,
    /// Append the result as one JSON line to this file.
    pub record: Option<PathBuf>,
    /// Assumed memory bandwidth of the device in GB/s, for the floor (3000 ≈ an H100).
    pub bandwidth_gbs: f64,
}

/// Figures of one benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchResult {
    /// The build: crate version and commit (`-dirty` for uncommitted changes).
    pub version: String,
    pub commit: String,
    pub scenario: String,
    pub backend: String,
    pub runs: u32,
    pub units: usize,
    pub months: u32,
    pub innovations: usize,
    /// Median over repetitions of the stepping time (initial state excluded).
    pub step_seconds: f64,
    pub agent_months_per_second: f64,
    /// Whole command: load, build, init, step, summaries.
    pub end_to_end_seconds: f64,
    /// Bytes one agent-month must move at the least (`gpu::bytes_per_agent_month`).
    pub bytes_per_agent_month: f64,
    /// The memory bandwidth assumed for the floor, GB/s (`--bandwidth-gbs`).
    pub bandwidth_gbs: f64,
    /// Agent-months per second if stepping were bound only by that bandwidth.
    pub floor_agent_months_per_second: f64,
    /// Measured / floor, in percent.
    pub percent_of_floor: f64,
    /// Bytes of state one unit holds in one run (`Footprint::state_bytes` per unit).
    pub state_bytes_per_unit_run: f64,
}

/// Median seconds of stepping `ids` through `months` over `reps` repetitions, after a short
/// warm-up batch; each repetition starts from a fresh initial state, which is not timed.
pub fn time_batch(
    be: &dyn crate::backend::Backend,
    model: &crate::model::Model,
    prm: &crate::model::params::Params,
    ids: &[RunId],
    months: u32,
    reps: u32,
) -> Result<f64> {
    run_chunked(be, model, &[*prm], &ids[..1], months.min(12), 1, &|_| {})?;
    let mut times = Vec::new();
    for _ in 0..reps.max(1) {
        let init = init_batch(model, &[*prm], ids);
        let t = Instant::now();
        let out = be.run_batch(model, &[*prm], ids, init, months, &|_| {})?;
        times.push(t.elapsed().as_secs_f64());
        std::hint::black_box(out);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The scenario at `path`, or the bundled baseline without one.
pub fn scenario_or_baseline(path: Option<&Path>) -> Result<Scenario> {
    match path {
        Some(p) => Ok(Scenario::load(p)?),
        None => Ok(Scenario::parse(Path::new("scenarios/baseline.toml"), BASELINE.to_string())?),
    }
}

pub fn bench(a: &BenchArgs) -> Result<BenchResult> {
    let t0 = Instant::now();
    let mut sc = scenario_or_baseline(a.scenario.as_deref())?;
    for (flag, v) in [("--runs", a.runs), ("--reps", a.reps)] {
        if v == 0 {
            return Err(crate::error::InputError::new("must be at least 1").field(flag).into());
        }
    }
    if !(a.bandwidth_gbs.is_finite() && a.bandwidth_gbs >= 0.0) {
        return Err(crate::error::InputError::new(format!(
            "{}: give the device's memory bandwidth in GB/s, a positive number (0: the default, {DEFAULT_BANDWIDTH_GBS})",
            a.bandwidth_gbs
        ))
        .field("--bandwidth-gbs")
        .into());
    }
    let months = a.months.unwrap_or(sc.spec.months);
    if months == 0 || months > crate::scenario::MAX_MONTHS {
        return Err(
            crate::error::InputError::new(format!("{months}: allowed 1 to {}", crate::scenario::MAX_MONTHS))
                .field("--months")
                .into(),
        );
    }
    if a.months.is_some() {
        sc.spec.months = months;
        sc.set_by_flag("months");
    }
    sc.set_by_flag("runs");
    // The batch lives twice (its start and its end) while it is timed; checked before building.
    let fp = Footprint::of(&sc)?;
    let runs = a.runs as u64;
    let need = fp.world_bytes().saturating_add(fp.batch_run_bytes().saturating_mul(runs));
    budget::check(&sc, &fp, "runs", runs, need, "use fewer --runs or --months, or a smaller world")?;
    let (model, prm) = sc.build()?;
    let be = backend(&a.backend, a.threads)?;
    let ids: Vec<RunId> = (0..a.runs).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let step = time_batch(be.as_ref(), &model, &prm, &ids, months, a.reps)?;
    let units = model.world.len();
    let agent_months_per_second = (units as f64 * ids.len() as f64 * months as f64) / step;
    let bytes = bytes_per_agent_month(units, sc.spec.innovation.len());
    let bandwidth_gbs = if a.bandwidth_gbs > 0.0 {
        a.bandwidth_gbs
    } else {
        DEFAULT_BANDWIDTH_GBS
    };
    let floor = bandwidth_gbs * 1e9 / bytes;
    let res = BenchResult {
        version: env!("CARGO_PKG_VERSION").to_string(),
        commit: env!("PIONEER_GIT_HASH").to_string(),
        scenario: sc.name(),
        backend: be.describe(),
        runs: ids.len() as u32,
        units,
        months,
        innovations: sc.spec.innovation.len(),
        step_seconds: step,
        agent_months_per_second,
        end_to_end_seconds: t0.elapsed().as_secs_f64(),
        bytes_per_agent_month: bytes,
        bandwidth_gbs,
        floor_agent_months_per_second: floor,
        percent_of_floor: 100.0 * agent_months_per_second / floor,
        state_bytes_per_unit_run: fp.state_bytes() as f64 / units.max(1) as f64,
    };
    if let Some(path) = &a.record {
        use std::io::Write;
        let line = serde_json::to_string(&res).map_err(|e| Error::Backend(e.to_string()))?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        writeln!(f, "{line}").map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    }
    Ok(res)
}
