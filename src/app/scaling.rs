//! `pioneer bench --scaling`: agent-months per second against the number of runs (1 … 65,536)
//! and against the world's size (grids of 100 … 1,000,000 units), as far as memory and time allow.

use super::bench::{self, BenchArgs};
use super::budget::{self, Footprint};
use super::run::backend;
use crate::backend::Backend;
use crate::error::{Error, InputError, Result};
use crate::model::RunId;
use crate::plot::scaling::{scaling_chart, Curve, Point};
use crate::scenario::Scenario;
use std::path::PathBuf;

/// Runs measured on the scenario's world, as far as memory and time allow.
pub const RUNS: [u32; 9] = [1, 4, 16, 64, 256, 1024, 4096, 16_384, 65_536];
/// Grid worlds measured (columns × rows; one parent per column).
pub const GRIDS: [(usize, usize); 5] = [(10, 10), (40, 25), (100, 100), (400, 250), (1000, 1000)];

/// Options of `pioneer bench --scaling` (those of `bench` it shares: scenario, backend, threads).
#[derive(Debug, Clone)]
pub struct ScalingArgs {
    pub bench: BenchArgs,
    /// Months of each measured batch (short: the curves are about size, not time).
    pub months: u32,
    /// Runs of each grid world.
    pub grid_runs: u32,
    /// A curve stops growing after a point whose stepping took longer than this.
    pub max_seconds: f64,
    /// Where `scaling.csv`, `scaling.png` and `scaling.svg` go.
    pub out: PathBuf,
}

/// One measured batch.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Measured {
    /// `runs` or `units`: which curve the point belongs to.
    pub curve: &'static str,
    pub world: String,
    pub runs: u32,
    pub units: usize,
    pub months: u32,
    pub step_seconds: f64,
    pub agent_months_per_second: f64,
    /// Bytes of state of one unit in one run, and of the whole batch.
    pub state_bytes_per_unit_run: f64,
    pub batch_state_bytes: u64,
}

/// What `--scaling` measured, and why each curve stopped where it did.
#[derive(Debug, Clone)]
pub struct Scaling {
    pub backend: String,
    pub points: Vec<Measured>,
    pub stopped: Vec<String>,
    pub files: Vec<PathBuf>,
}

pub fn scaling(a: &ScalingArgs) -> Result<Scaling> {
    if a.months == 0 || a.months > crate::scenario::MAX_MONTHS {
        let msg = format!("{}: allowed 1 to {}", a.months, crate::scenario::MAX_MONTHS);
        return Err(InputError::new(msg).field("--months").into());
    }
    if a.grid_runs == 0 {
        return Err(InputError::new("must be at least 1").field("--grid-runs").into());
    }
    if !(a.max_seconds.is_finite() && a.max_seconds > 0.0) {
        let msg = format!("{}: give the seconds a point may take, a positive number", a.max_seconds);
        return Err(InputError::new(msg).field("--max-seconds").into());
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(format!("cannot create {}", a.out.display()), e))?;
    let be = backend(&a.bench.backend, a.bench.threads)?;
    let mut base = bench::scenario_or_baseline(a.bench.scenario.as_deref())?;
    base.spec.months = a.months;
    base.set_by_flag("months");
    let mut out = Scaling {
        backend: be.describe(),
        points: Vec::new(),
        stopped: Vec::new(),
        files: Vec::new(),
    };
    // Against runs, on the scenario's world.
    let runs: Vec<u32> = RUNS.to_vec();
    curve(be.as_ref(), "runs", &base, &runs, a.max_seconds, &mut out)?;
    // Against units, on grids.
    for &(w, h) in &GRIDS {
        let mut sc = base.clone();
        sc.spec.name = Some(format!("grid {w}×{h}"));
        let world = &mut sc.spec.world;
        world.kind = "grid".to_string();
        (world.width, world.height, world.parents) = (Some(w), Some(h), Some(w));
        (world.provinces, world.prefectures, world.counties, world.neighbours) = (None, None, None, None);
        (world.units, world.edges) = (None, None);
        let before = out.points.len();
        curve(be.as_ref(), "units", &sc, &[a.grid_runs], a.max_seconds, &mut out)?;
        let last = out.points.last().filter(|_| out.points.len() > before);
        if last.is_none_or(|p| p.step_seconds > a.max_seconds) {
            if let Some(p) = last {
                out.stopped.push(format!(
                    "units: stopped after {} units: that batch took {:.1} s (--max-seconds {})",
                    p.units, p.step_seconds, a.max_seconds
                ));
            }
            break;
        }
    }
    write(a, &mut out)?;
    Ok(out)
}

/// Measure `sc` at each number of runs in turn, stopping before a batch that memory cannot hold
/// and after one that took longer than `max_seconds`.
fn curve(be: &dyn Backend, name: &'static str, sc: &Scenario, runs: &[u32], max_seconds: f64, out: &mut Scaling) -> Result<()> {
    let fp = Footprint::of(sc)?;
    let (model, prm) = sc.build()?;
    let units = model.world.len();
    let months = sc.spec.months;
    for &r in runs {
        let need = fp.world_bytes().saturating_add(fp.batch_run_bytes().saturating_mul(r as u64));
        if need > budget::allowed() {
            out.stopped.push(format!(
                "{name}: stopped before {r} runs × {units} units: they would need about {:.1} GiB, more than this machine allows ({:.1} GiB)",
                budget::gib(need),
                budget::gib(budget::allowed())
            ));
            return Ok(());
        }
        let ids: Vec<RunId> = (0..r).map(|i| RunId::new(sc.spec.seed, 0, i)).collect();
        // Small batches are over in milliseconds: the median of three of them.
        let quick = out.points.last().is_none_or(|p| p.step_seconds < 1.0);
        let seconds = bench::time_batch(be, &model, &prm, &ids, months, if quick { 3 } else { 1 })?;
        out.points.push(Measured {
            curve: name,
            world: sc.name(),
            runs: r,
            units,
            months,
            step_seconds: seconds,
            agent_months_per_second: units as f64 * r as f64 * months as f64 / seconds,
            state_bytes_per_unit_run: fp.state_bytes() as f64 / units.max(1) as f64,
            batch_state_bytes: fp.state_bytes().saturating_mul(r as u64),
        });
        if seconds > max_seconds && name == "runs" {
            out.stopped.push(format!(
                "runs: stopped after {r} runs: that batch took {seconds:.1} s (--max-seconds {max_seconds})"
            ));
            return Ok(());
        }
    }
    Ok(())
}

/// `scaling.csv` and the chart, each written whole under a temporary name first.
fn write(a: &ScalingArgs, s: &mut Scaling) -> Result<()> {
    let csv_path = a.out.join("scaling.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    for p in &s.points {
        w.serialize(p).map_err(|e| Error::Backend(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Backend(e.to_string()))?;
    crate::output::write_atomic(&csv_path, &bytes)?;
    s.files.push(csv_path);
    let pick = |curve: &str| -> Vec<Point> {
        s.points
            .iter()
            .filter(|p| p.curve == curve)
            .map(|p| Point {
                x: if curve == "runs" { p.runs as f64 } else { p.units as f64 },
                rate: p.agent_months_per_second,
                bytes: p.batch_state_bytes as f64,
            })
            .collect()
    };
    let (by_runs, by_units) = (pick("runs"), pick("units"));
    let world = s
        .points
        .iter()
        .find(|p| p.curve == "runs")
        .map_or(String::new(), |p| format!("{}, {} units", p.world, p.units));
    let runs_label = format!("runs in the batch ({world})");
    let units_label = format!("units (grids, {} runs)", a.grid_runs);
    let stem = a.out.join("scaling");
    let title = format!("pioneer bench --scaling: {} months, {}", a.months, s.backend);
    scaling_chart(
        &stem,
        &title,
        &Curve {
            x_label: &runs_label,
            points: &by_runs,
        },
        &Curve {
            x_label: &units_label,
            points: &by_units,
        },
    )
    .map_err(|e| Error::Backend(e.to_string()))?;
    s.files.push(stem.with_extension("png"));
    s.files.push(stem.with_extension("svg"));
    Ok(())
}
