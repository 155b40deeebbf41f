//! `pioneer run`: a scenario's replicates on a backend, written as CSVs, a chart and a manifest.
//! Large batches are split into chunks of runs; results do not depend on the split.

use super::budget::{self, Footprint};
use super::load_scenario;
use crate::analysis::compare::FitUntil;
use crate::analysis::observed::{self, Comparison, Observed};
use crate::backend::auto::Auto;
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::backend::{Backend, BatchOutput};
use crate::error::{Error, InputError, Result};
use crate::model::agg;
use crate::model::params::Params;
use crate::model::{init_batch, Model, RunId};
use crate::output::{self, RunRows};
use crate::plot::{self, Band};
use crate::scenario::Scenario;
use crate::state::BatchState;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `pioneer run`.
#[derive(Debug, Clone, Default)]
pub struct RunArgs {
    pub scenario: PathBuf,
    pub replicates: Option<u32>,
    pub seed: Option<u64>,
    pub months: Option<u32>,
    pub out: Option<PathBuf>,
    pub backend: String,
    pub units: bool,
    pub threads: Option<usize>,
    /// Most runs per batch (default: all at once).
    pub batch: Option<usize>,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// Write the animation of run 0 (`animation.gif`).
    pub animate: bool,
    /// Its frames (implies `animate`; default one a month, at most `MAX_FRAMES`).
    pub frames: Option<u32>,
    /// Observed adoption data (`year,count` or `year,share`) to set against the first
    /// innovation's band; needs `start_year` in the scenario.
    pub observed: Option<PathBuf>,
    /// Fit the yardsticks to the observed years up to this one (a year, or `half`: by whose end
    /// half of the eventual adopters had adopted) and forecast the rest.
    pub fit_until: Option<String>,
    /// Write report.html too.
    pub report: bool,
    /// Write the event-history panel with periods of a `year` or a `month`.
    pub panel: Option<String>,
    /// A class's decision log (`pioneer serve`'s decisions.csv): replay run 0 with it, on the CPU.
    pub decisions: Option<PathBuf>,
}

/// Frames of an animation unless `--frames` says otherwise.
pub const MAX_FRAMES: u32 = 240;
/// Largest world drawn on a map or animated (a dot per unit and frame).
pub const MAP_MAX_UNITS: u64 = 200_000;
/// Largest world whose map is also written as SVG (an element per unit and panel).
pub const MAP_SVG_MAX_UNITS: usize = 50_000;

/// What a run produced (for the text summary and for tests).
pub struct RunResult {
    pub scenario: Scenario,
    pub model: Model,
    /// The parameter points the runs refer to (`ids[r].point`).
    pub params: Vec<Params>,
    pub ids: Vec<RunId>,
    pub output: BatchOutput,
    pub out_dir: PathBuf,
    pub backend: String,
    pub seconds: f64,
    /// The observed data and how the run compares with them.
    pub observed: Option<(Observed, Comparison)>,
}

/// Pick the backend named on the command line: `cpu`, `gpu` (an error with the way to get an
/// adapter when there is none) or `auto` (a hardware GPU if there is one, else the CPU, with a
/// one-line note on stderr saying which).
pub fn backend(name: &str, threads: Option<usize>) -> Result<Box<dyn Backend>> {
    if let Some(t) = threads {
        let most = max_threads();
        if !(1..=most).contains(&t) {
            return Err(InputError::new(format!(
                "{t}: allowed 1 to {most} (this machine has {} cores; leave --threads out to use them all)",
                cores()
            ))
            .field("--threads")
            .into());
        }
    }
    match name {
        "cpu" => Ok(Box::new(Cpu { threads, isa: None })),
        "gpu" => match Gpu::new(None) {
            Ok(g) => Ok(Box::new(g)),
            Err(e) => Err(InputError::new(e.to_string()).field("--backend").into()),
        },
        "" | "auto" => match Gpu::new_auto() {
            Ok(g) => {
                eprintln!("pioneer: using GPU adapter {} ({})", g.adapter_name(), g.api());
                Ok(Box::new(Auto::new(g, Cpu { threads, isa: None })))
            }
            Err(why) => {
                eprintln!("pioneer: {why}, using the CPU");
                Ok(Box::new(Cpu { threads, isa: None }))
            }
        },
        other => Err(InputError::new(format!("`{other}`: allowed `cpu`, `gpu` or `auto`"))
            .field("--backend")
            .into()),
    }
}

/// Cores this machine offers (1 when it cannot tell).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Most CPU threads `--threads` may ask for: four per core, and at least 64 (more only adds
/// switching; thousands would exhaust the machine before the first month).
pub fn max_threads() -> usize {
    (4 * cores()).max(64)
}

/// Run `ids` in chunks of at most `batch` runs and join the outputs in order.
pub fn run_chunked(
    be: &dyn Backend,
    model: &Model,
    params: &[Params],
    ids: &[RunId],
    months: u32,
    batch: usize,
    progress: crate::backend::Progress,
) -> Result<BatchOutput> {
    run_chunked_until(be, model, params, ids, months, batch, progress, &|| Ok(()))
}

/// `run_chunked`, asking `go_on` before each chunk (its error stops the run).
#[allow(clippy::too_many_arguments)]
pub fn run_chunked_until(
    be: &dyn Backend,
    model: &Model,
    params: &[Params],
    ids: &[RunId],
    months: u32,
    batch: usize,
    progress: crate::backend::Progress,
    go_on: &dyn Fn() -> Result<()>,
) -> Result<BatchOutput> {
    let mut aggs = Vec::new();
    let mut states = Vec::new();
    let mut record_len = agg::record_len(params.first().map_or(0, |p| p.n_innov as usize));
    for chunk in ids.chunks(batch.max(1)) {
        go_on()?;
        let init = init_batch(model, params, chunk);
        let out = be.run_batch(model, params, chunk, init, months, progress)?;
        record_len = out.record_len;
        aggs.extend_from_slice(&out.agg);
        states.push(out.state);
    }
    Ok(BatchOutput {
        agg: aggs,
        record_len,
        months,
        state: BatchState::concat(states),
    })
}

/// `pioneer run`.
pub fn run(a: &RunArgs) -> Result<RunResult> {
    let sc = load_scenario(&a.scenario, a.replicates, a.seed, a.months)?;
    if a.batch == Some(0) {
        return Err(InputError::new("must be at least 1").field("--batch").into());
    }
    let runs = sc.spec.replicates as u64;
    let batch = a.batch.unwrap_or(runs as usize).min(runs as usize);
    let months = sc.spec.months;
    let frames = match a.frames {
        Some(f) if !(1..=months).contains(&f) => {
            return Err(InputError::new(format!("{f}: allowed 1 to the run's {months} months"))
                .field("--frames")
                .into())
        }
        Some(f) => Some(f),
        None => a.animate.then_some(months.min(MAX_FRAMES)),
    };
    let period = output::panel::period(a.panel.as_deref())?;
    let fp = Footprint::of(&sc)?;
    if frames.is_some() && fp.world.units > MAP_MAX_UNITS {
        return Err(InputError::new(format!(
            "a world of about {} units is too large to animate (at most {MAP_MAX_UNITS}): leave --animate and --frames out",
            fp.world.units
        ))
        .field(if a.frames.is_some() { "--frames" } else { "--animate" })
        .into());
    }
    // Sizes are checked from the numbers before anything is built.
    budget::check(
        &sc,
        &fp,
        "replicates",
        runs,
        fp.run_bytes(runs, batch as u64, a.units)
            .saturating_add(period.map_or(0, |p| fp.panel_text(runs, p))),
        budget::FEWER_RUNS,
    )?;
    let out_dir = a.out.clone().unwrap_or_else(|| Path::new("out").join(sc.name()));
    // Refuse a folder of someone else's files, or a sweep's, before any work.
    match crate::output::folder::holds(&out_dir, "--out")? {
        crate::output::folder::Holds::Other(names) => {
            return Err(InputError::new(format!(
                "{} holds files that are not a pioneer output ({}); give a new or empty folder",
                out_dir.display(),
                names.join(", ")
            ))
            .field("--out")
            .into())
        }
        crate::output::folder::Holds::Pioneer { sweep: true } => {
            return Err(
                InputError::new(format!("{} holds a sweep; give another folder for a run", out_dir.display()))
                    .field("--out")
                    .into(),
            )
        }
        _ => {}
    }
    // Ctrl-C or SIGTERM, from before anything is written: the run stops before its next chunk,
    // or before its files are swapped in, and leaves the output folder as it was.
    let signals = super::signals::Signals::listen()?;
    // The staging folder is made now, so an unwritable --out is said before any work.
    let staged = crate::output::folder::Staged::begin(&out_dir, "--out")?;
    let start_year = match (&a.observed, sc.spec.start_year) {
        (Some(_), None) => {
            return Err(sc
                .err(
                    "start_year",
                    "--observed needs the calendar year of month 1: add `start_year = 2014` (say) to the scenario",
                )
                .into())
        }
        (_, y) => y.unwrap_or(0),
    };
    let (model, prm) = sc.build()?;
    let decisions = match &a.decisions {
        Some(path) => {
            if sc.spec.replicates != 1 {
                return Err(
                    InputError::new("a class is one run: give --replicates 1 with --decisions (and the class's --seed)")
                        .field("--replicates")
                        .into(),
                );
            }
            Some(crate::model::play::read_log(path, model.world.len(), &prm, months)?)
        }
        None => None,
    };
    let obs = match &a.observed {
        Some(path) => {
            let o = observed::read_for(path, &model)?;
            observed::check_years(&o, start_year, months)?;
            Some(o)
        }
        None => None,
    };
    let until = match (&a.fit_until, &obs) {
        (Some(f), Some(o)) => FitUntil::parse(f)?.resolve(o)?,
        (Some(_), None) => {
            return Err(InputError::new("--fit-until holds back observed years: give --observed too")
                .field("--fit-until")
                .into())
        }
        (None, _) => None,
    };
    // Every input is checked before a backend (and a GPU driver) is touched.
    let be = backend(&a.backend, a.threads)?;
    let untouched = format!("interrupted: nothing was written; {} is as it was", out_dir.display());
    let ids: Vec<RunId> = (0..sc.spec.replicates).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let total = ids.len() as u64 * months as u64;
    let bar = if a.progress {
        indicatif::ProgressBar::new(total)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} run-months ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let tick = |d: u64| bar.inc(d);
    let start = Instant::now();
    let output = match &decisions {
        // A class's run: run 0 of the seed with the players' decisions, on the CPU.
        Some(log) => {
            let (agg, state) = crate::model::play::replay_records(&model, &prm, sc.spec.seed, log, months);
            BatchOutput {
                agg,
                record_len: agg::record_len(prm.n_innov as usize),
                months,
                state,
            }
        }
        None => run_chunked_until(be.as_ref(), &model, &[prm], &ids, months, batch, &tick, &|| {
            signals.check(|| untouched.clone())
        })?,
    };
    signals.check(|| untouched.clone())?;
    let seconds = start.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let observed = obs.map(|o| {
        let n = model.population() as f64;
        let share: Vec<Vec<f64>> = (0..ids.len())
            .map(|r| (1..=months).map(|t| output.record(r, t)[agg::ADOPTERS] as f64 / n).collect())
            .collect();
        // The first innovation's adoption month of every unit, run by run.
        let (n, kn) = (output.state.units, output.state.innov);
        let adopt: Vec<&[u32]> = (0..ids.len())
            .map(|r| &output.state.adopt_month[r * kn * n..r * kn * n + n])
            .collect();
        let c = crate::analysis::compare::compare_with_events(&o, &model, start_year, &share, &adopt, until);
        (o, c)
    });
    let res = RunResult {
        scenario: sc,
        model,
        params: vec![prm],
        ids,
        output,
        out_dir,
        backend: if decisions.is_some() {
            "cpu (a class replayed from its decisions)".into()
        } else {
            be.describe()
        },
        seconds,
        observed,
    };
    write_outputs_with(&res, a.units, frames, period, a.report, staged, |_| {
        signals.check(|| untouched.clone())
    })?;
    Ok(res)
}

/// Write steps.csv, summary.csv, units.csv (optional), the charts and manifest.json into a staging
/// folder beside the output folder, then swap it in whole: a kill at any moment leaves the
/// folder with the previous complete set of files or the new one, never a mixture.
pub fn write_outputs(
    res: &RunResult,
    units: bool,
    frames: Option<u32>,
    panel: Option<u32>,
    report: bool,
    staged: crate::output::folder::Staged,
) -> Result<()> {
    write_outputs_with(res, units, frames, panel, report, staged, |_| Ok(()))
}

/// `write_outputs`, with `extra` writing more files into the staging folder before the report
/// (the classroom's debrief adds the class's own tables there).
pub fn write_outputs_with(
    res: &RunResult,
    units: bool,
    frames: Option<u32>,
    panel: Option<u32>,
    report: bool,
    staged: crate::output::folder::Staged,
    extra: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    write_files(res, units, frames, panel, report, staged.path())?;
    extra(staged.path())?;
    if report {
        super::report::report(staged.path())?;
    }
    staged.commit()
}

fn write_files(res: &RunResult, units: bool, frames: Option<u32>, panel: Option<u32>, report: bool, dir: &Path) -> Result<()> {
    let rows = RunRows {
        ids: &res.ids,
        out: &res.output,
        params: &res.params,
    };
    let mut s = output::steps_header(&res.model);
    output::steps_rows(&res.model, &rows, &mut s);
    output::write_atomic(&dir.join("steps.csv"), s.as_bytes())?;
    let mut s = String::from(output::SUMMARY_HEADER);
    output::summary_rows(&res.model, &rows, &mut s);
    output::write_atomic(&dir.join("summary.csv"), s.as_bytes())?;
    if units {
        let mut s = String::from(output::UNITS_HEADER);
        output::units_rows(&res.model, &rows, &mut s);
        output::write_atomic(&dir.join("units.csv"), s.as_bytes())?;
    }
    if let Some(period) = panel {
        write_panel(res, period, dir)?;
    }
    let bands = bands(res);
    let points = res.observed.as_ref().map(|(o, c)| {
        use std::fmt::Write as _;
        let mut s = String::from(OBSERVED_HEADER);
        let first = c.first_year();
        for r in &c.rows {
            let [lg, bs] = c.yardsticks.map(|f| f.at(r.year as f64, first));
            let _ = writeln!(
                s,
                "{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
                r.year, r.month, r.observed, r.median, r.lo, r.hi, lg, bs
            );
        }
        (
            s,
            plot::Points {
                name: format!(
                    "observed ({}), RMSE {:.3}",
                    o.path.file_name().map_or(String::new(), |f| f.to_string_lossy().into_owned()),
                    c.rmse
                ),
                months: c.rows.iter().map(|r| r.month).collect(),
                share: c.rows.iter().map(|r| r.observed).collect(),
                fits: c.fitted_curves(),
                fitted_until: c.fitted_until_month(),
            },
        )
    });
    if let Some((text, _)) = &points {
        output::write_atomic(&dir.join("observed.csv"), text.as_bytes())?;
    }
    plot::diffusion_chart_observed(
        &dir.join("diffusion"),
        &format!(
            "{}: adopted and full depth (median, 5–95 % of {} runs)",
            res.scenario.name(),
            res.ids.len()
        ),
        &bands,
        points.as_ref().map(|p| &p.1),
    )
    .map_err(|e| Error::Backend(e.to_string()))?;
    let charts = draw_run_charts(res, dir, frames)?;
    let tables = output::table::digests(dir)?;
    let manifest = serde_json::json!({
        "pioneer": env!("CARGO_PKG_VERSION"),
        "commit": env!("PIONEER_GIT_HASH"),
        "command": "run",
        "scenario_file": res.scenario.path.display().to_string(),
        "scenario": res.scenario.spec,
        "seed": res.scenario.spec.seed,
        "replicates": res.ids.len(),
        "months": res.output.months,
        "units": res.model.world.len(),
        "backend": res.backend,
        "wall_seconds": res.seconds,
        "files": {
            "steps": "steps.csv",
            "summary": "summary.csv",
            "units": if units { Some("units.csv") } else { None },
            "chart": ["diffusion.png", "diffusion.svg"],
            "charts": charts,
            "observed": res.observed.as_ref().map(|_| "observed.csv"),
            "report": report.then_some("report.html"),
            "panel": panel.map(|_| ["panel.csv", "panel.parquet"]),
        },
        "tables": tables,
        "observed": res.observed.as_ref().map(|(o, c)| serde_json::json!({
            "file": o.path.display().to_string(),
            "start_year": res.scenario.spec.start_year,
            "rmse_share": c.rmse,
            "fit_until": c.forecast.map(|f| f.until),
            "years_to_10_50_90": {
                "observed": c.years_to.iter().map(|y| y.0).collect::<Vec<_>>(),
                "simulated_median": c.years_to.iter().map(|y| y.1).collect::<Vec<_>>(),
            },
            "yardsticks": c.yardsticks_json(),
        })),
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Backend(format!("manifest: {e}")))?;
    output::write_atomic(&dir.join("manifest.json"), text.as_bytes())
}

/// Diffusion bands (median and 5–95 %) per innovation: the share of units that adopted (depth
/// at least 1) and, for a ladder of several rungs, the share at its full depth.
pub fn bands(res: &RunResult) -> Vec<Band> {
    let n = res.model.population() as f64;
    let out = &res.output;
    let band = |name: String, word: usize| {
        let runs: Vec<Vec<f64>> = (0..res.ids.len())
            .map(|r| (1..=out.months).map(|t| out.record(r, t)[word] as f64 / n).collect())
            .collect();
        let (median, lo, hi) = plot::quantiles(&runs);
        Band {
            name,
            months: (1..=out.months).collect(),
            median,
            lo,
            hi,
        }
    };
    let mut bands = Vec::new();
    for (k, inn) in res.scenario.spec.innovation.iter().enumerate() {
        let base = k * agg::PER_INNOV;
        bands.push(band(format!("{}: adopted", inn.name), base + agg::ADOPTERS));
        if inn.rungs > 1 {
            bands.push(band(format!("{}: all {} rungs", inn.name, inn.rungs), base + agg::COMPLETE));
        }
    }
    bands
}

/// The short text summary printed at the end of a run.
pub fn text_summary(res: &RunResult) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} runs × {} units × {} months on {} in {:.2} s",
        res.scenario.name(),
        res.ids.len(),
        res.model.world.len(),
        res.output.months,
        res.backend,
        res.seconds
    );
    let sums: Vec<Vec<output::Summary>> = (0..res.ids.len()).map(|r| output::summarise(&res.model, &res.output, r)).collect();
    for (k, inn) in res.scenario.spec.innovation.iter().enumerate() {
        let med = |f: &dyn Fn(&output::Summary) -> Option<u32>| {
            let mut v: Vec<u32> = sums.iter().filter_map(|x| f(&x[k])).collect();
            v.sort_unstable();
            // Runs that never got there count as later than any month.
            v.get((sums.len() - 1) / 2).map_or_else(|| "never".to_string(), |m| m.to_string())
        };
        let mean = |f: &dyn Fn(&output::Summary) -> f64| sums.iter().map(|x| f(&x[k])).sum::<f64>() / sums.len() as f64;
        let _ = writeln!(
            s,
            "  {}: median months to 10/50/90 % = {}/{}/{}; mean final share {:.3}; adopters' mean depth {:.2} of {} rung{}, {:.1} % at full depth",
            inn.name,
            med(&|x| x.t10),
            med(&|x| x.t50),
            med(&|x| x.t90),
            mean(&|x| x.final_share),
            mean(&|x| x.mean_depth),
            inn.rungs,
            if inn.rungs == 1 { "" } else { "s" },
            100.0 * mean(&|x| x.complete_share)
        );
    }
    if let Some((o, c)) = &res.observed {
        let years = |observed: bool| {
            c.years_to
                .iter()
                .map(|&(o, m)| if observed { o } else { m }.map_or("never".to_string(), |v| v.to_string()))
                .collect::<Vec<_>>()
                .join("/")
        };
        let _ = writeln!(
            s,
            "  observed {} ({} years): RMSE of the share against the simulated median {:.3}; years to 10/50/90 %: observed {}, simulated {}",
            o.path.display(),
            c.rows.len(),
            c.rmse,
            years(true),
            years(false)
        );
        s.push_str(&c.yardstick_lines());
    }
    let _ = write!(s, "  wrote {}", res.out_dir.display());
    s
}

/// observed.csv: each observed year beside the simulated band at the year's last month.
/// The last two columns are the fitted yardsticks at the year's end (`analysis::yardstick`).
pub const OBSERVED_HEADER: &str = "year,month,observed_share,simulated_median,simulated_q05,simulated_q95,logistic,bass\n";

/// The files of innovation `k`'s charts: `<name>` alone, or `<name>-<k+1>` with several.
fn chart_stem(res: &RunResult, name: &str, k: usize) -> String {
    if res.output.state.innov > 1 {
        format!("{name}-{}", k + 1)
    } else {
        name.to_string()
    }
}

/// Draw the routes chart and the map of run 0 for each innovation, and with `frames` the
/// animation of run 0; returns the files written.
fn draw_run_charts(res: &RunResult, dir: &Path, frames: Option<u32>) -> Result<Vec<String>> {
    let fail = |e: crate::plot::PlotError| Error::Backend(e.to_string());
    let mut files = Vec::new();
    for k in 0..res.output.state.innov {
        let stem = chart_stem(res, "routes", k);
        crate::plot::routes::routes_chart(&dir.join(&stem), &routes_data(res, k)).map_err(fail)?;
        files.extend([format!("{stem}.png"), format!("{stem}.svg")]);
        let n = res.model.world.len();
        if n as u64 > MAP_MAX_UNITS {
            if k == 0 {
                eprintln!("pioneer: no map: it is drawn for worlds of at most {MAP_MAX_UNITS} units, and this one has {n}");
            }
            continue;
        }
        let map = map_run(res, 0, k);
        let stem = chart_stem(res, "map", k);
        let svg = n <= MAP_SVG_MAX_UNITS;
        crate::plot::map::map_chart(&dir.join(&stem), &map, svg).map_err(fail)?;
        files.push(format!("{stem}.png"));
        if svg {
            files.push(format!("{stem}.svg"));
        }
        if let Some(f) = frames {
            let name = format!("{}.gif", chart_stem(res, "animation", k));
            crate::plot::map::animation(&dir.join(&name), &map, f, 8).map_err(fail)?;
            files.push(name);
        }
    }
    Ok(files)
}

/// Run `r`'s units for the map of innovation `k`: positions, levels, the month of each rung.
pub fn map_run(res: &RunResult, r: usize, k: usize) -> crate::plot::map::MapRun {
    let (w, st) = (&res.model.world, &res.output.state);
    let n = w.len();
    let rung_months = (0..n)
        .map(|i| {
            let at = (r * st.innov + k) * n + i;
            if st.adopt_month[at] == crate::model::params::NEVER {
                return Vec::new();
            }
            (1..=st.depth[at]).map(|j| st.rung_month(r, k, i, j)).collect()
        })
        .collect();
    let spec = &res.scenario.spec;
    let tile = (spec.world.kind == "grid").then(|| {
        (
            1.0 / spec.world.width.unwrap_or(6) as f64,
            1.0 / spec.world.height.unwrap_or(6) as f64,
        )
    });
    crate::plot::map::MapRun {
        title: format!("{}: {}, run {r}", res.scenario.name(), spec.innovation[k].name),
        x: w.x.clone(),
        y: w.y.clone(),
        level: w.level.clone(),
        names: w.names.clone(),
        rung_months,
        rungs: res.params[res.ids[r].point as usize].innov[k].rungs,
        months: res.output.months,
        tile,
        geo: matches!(spec.world.kind.as_str(), "china-real" | "us-states"),
        member: res.model.member.clone(),
    }
}

/// Innovation `k`'s adoptions per year by route, the yearly hazard and the depth shares, over
/// every run.
pub fn routes_data(res: &RunResult, k: usize) -> crate::plot::routes::RoutesData {
    use crate::model::agg;
    let out = &res.output;
    let n = res.model.population() as f64;
    let runs = res.ids.len();
    let b = k * agg::PER_INNOV;
    let years = out.months.div_ceil(12) as usize;
    let mut per_year = vec![[0.0f64; 6]; years];
    let (mut new, mut risk) = (vec![0.0f64; years], vec![0.0f64; years]);
    let rungs = res.params[0].innov[k].rungs as usize;
    let mut depth = vec![vec![0.0f64; out.months as usize]; rungs];
    for r in 0..runs {
        for t in 1..=out.months {
            let rec = out.record(r, t);
            let y = (t as usize - 1) / 12;
            let fresh: u32 = (1..=6).map(|ro| rec[b + agg::BY_ROUTE + ro]).sum();
            if (t - 1) % 12 == 0 {
                // Not yet adopted at the start of the year.
                risk[y] += n - rec[b + agg::ADOPTERS].saturating_sub(fresh) as f64;
            }
            new[y] += fresh as f64;
            for (j, ro) in (1..=6).enumerate() {
                per_year[y][j] += rec[b + agg::BY_ROUTE + ro] as f64 / runs as f64;
            }
            let mut deeper = 0u32;
            for d in (1..=rungs).rev() {
                deeper += rec[b + agg::DEPTH + d - 1];
                depth[d - 1][t as usize - 1] += deeper as f64 / n / runs as f64;
            }
        }
    }
    let hazard = new
        .iter()
        .zip(&risk)
        .map(|(a, b)| if *b > 0.0 { a / b } else { f64::NAN })
        .collect();
    crate::plot::routes::RoutesData {
        title: format!(
            "{}: {} — routes, hazard and depth (mean of {} runs)",
            res.scenario.name(),
            res.scenario.spec.innovation[k].name,
            runs
        ),
        per_year,
        hazard,
        depth,
    }
}

/// panel.csv (and panel.parquet): each run replayed on the CPU, the runs in parallel, in order.
fn write_panel(res: &RunResult, period: u32, dir: &Path) -> Result<()> {
    use rayon::prelude::*;
    let parts: Vec<String> = (0..res.ids.len())
        .into_par_iter()
        .map(|r| {
            let mut s = String::new();
            let id = res.ids[r];
            let label = r.to_string();
            output::panel::rows(
                &res.model,
                &res.params[id.point as usize],
                id,
                &label,
                res.output.months,
                period,
                &mut s,
            );
            s
        })
        .collect();
    let mut file = output::AtomicFile::create(&dir.join("panel.csv"))?;
    file.write_all(output::panel::header("run").as_bytes())?;
    for p in &parts {
        file.write_all(p.as_bytes())?;
    }
    file.commit()?;
    #[cfg(feature = "parquet")]
    {
        let prov = output::parquet::Provenance {
            command: "run",
            seed: res.scenario.spec.seed,
            scenario_hash: output::parquet::scenario_hash(&res.scenario),
            extra: Vec::new(),
        };
        output::parquet::csv_to_parquet(
            &dir.join("panel.csv"),
            &dir.join("panel.parquet"),
            &output::panel::column_kind,
            &prov,
        )?;
    }
    Ok(())
}
