//! `pioneer sweep`: a sweep's points × replicates, block by block onto a backend, each block's
//! rows written and recorded as it finishes; interrupted, resumed, sharded, then made final.

use super::budget::{self, Footprint};
use super::run::{backend, run_chunked};
use super::signals::Signals;
use crate::error::{Error, InputError, Result};
use crate::experiment::ledger::{self, Done, Shard, SweepInfo};
use crate::experiment::Sweep;
use crate::model::params::Params;
use crate::model::{rng, Model, RunId};
use crate::output::folder::{holds, Holds, Staged};
use crate::output::sweep as table;
use crate::output::AtomicFile;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Options of `pioneer sweep`.
#[derive(Debug, Clone, Default)]
pub struct SweepArgs {
    pub sweep: PathBuf,
    pub backend: String,
    pub out: Option<PathBuf>,
    pub replicates: Option<u32>,
    pub months: Option<u32>,
    /// Points of the sampled design; overrides the sweep file's `points`.
    pub points: Option<usize>,
    /// The flag that gave `points` (`--points`, or `pioneer sensitivity`'s `--n`), for messages.
    pub points_flag: Option<&'static str>,
    /// `I/N`: run only this shard of the blocks.
    pub shard: Option<String>,
    pub resume: bool,
    pub force: bool,
    /// `run` (default), `mean` or `none`.
    pub steps: Option<String>,
    /// Also write the event-history panel: `year` or `month` periods.
    pub panel: Option<String>,
    pub threads: Option<usize>,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepResult {
    pub name: String,
    pub points: usize,
    pub replicates: u32,
    pub blocks: usize,
    pub shard: Shard,
    /// Blocks run now, and blocks found done (resumed).
    pub ran: usize,
    pub skipped: usize,
    pub out_dir: PathBuf,
    pub backend: String,
    pub seconds: f64,
    /// True when this call found the folder already complete and did nothing.
    pub already_complete: bool,
}

use ledger::TABLES;

/// The sweep's steps output.
fn steps_mode(s: Option<&str>) -> Result<&'static str> {
    match s.unwrap_or("run") {
        "run" => Ok("run"),
        "mean" => Ok("mean"),
        "none" => Ok("none"),
        other => Err(InputError::new(format!("`{other}`: allowed `run`, `mean` or `none`"))
            .field("--steps")
            .into()),
    }
}

/// The part of a scenario that makes its `Model` (world, lever masks, seeded designs, starting
/// values); points with equal keys share one model and one batch.
pub(crate) fn model_key(spec: &crate::scenario::ScenarioSpec) -> String {
    let issuers: Vec<&str> = spec.mandate.iter().map(|m| m.issuer.as_str()).collect();
    let pilots: Vec<&Vec<String>> = spec.pilot.iter().map(|p| &p.units).collect();
    serde_json::json!({
        "world": spec.world,
        "issuers": issuers,
        "pilots": pilots,
        "adopted": spec.adopted,
        "unit": spec.unit,
    })
    .to_string()
}

/// The folder's record of this sweep.
fn info(sw: &Sweep, shard: Shard, steps: &str, panel: Option<u32>) -> SweepInfo {
    SweepInfo {
        identity: sw.identity(),
        name: sw.name.clone(),
        sweep_file: std::fs::canonicalize(&sw.path)
            .unwrap_or_else(|_| sw.path.clone())
            .display()
            .to_string(),
        points: sw.n_points(),
        points_flag: sw.points_flag,
        replicates: sw.replicates,
        months: sw.months,
        seed: sw.seed,
        blocks: sw.blocks(),
        points_per_block: sw.points_per_block(),
        steps: steps.to_string(),
        panel,
        shard,
    }
}

/// `pioneer sweep`.
pub fn sweep(a: &SweepArgs) -> Result<SweepResult> {
    let t0 = Instant::now();
    let steps = steps_mode(a.steps.as_deref())?;
    let panel = crate::output::panel::period(a.panel.as_deref())?;
    let sw = Sweep::load_as(&a.sweep, a.replicates, a.months, a.points, a.points_flag.unwrap_or("--points"))?;
    let blocks = sw.blocks();
    let shard = match &a.shard {
        Some(s) => Shard::parse(s, blocks).map_err(|m| InputError::new(m).field("--shard"))?,
        None => Shard::new(1, 1, blocks),
    };
    check_sizes(&sw, steps, panel)?;
    let me = info(&sw, shard, steps, panel);
    let out_dir = a.out.clone().unwrap_or_else(|| Path::new("out").join(&sw.name));
    // Ctrl-C or SIGTERM are heard from before the folder is touched.
    let signals = Signals::listen()?;
    prepare_folder(&out_dir, &me, a.resume, a.force)?;
    let result = |ran, skipped, backend: String, already| SweepResult {
        name: sw.name.clone(),
        points: sw.n_points(),
        replicates: sw.replicates,
        blocks,
        shard,
        ran,
        skipped,
        out_dir: out_dir.clone(),
        backend,
        seconds: t0.elapsed().as_secs_f64(),
        already_complete: already,
    };
    if out_dir.join("manifest.json").is_file() {
        return Ok(result(0, shard.end_block - shard.first_block, String::new(), true));
    }
    let done: Vec<usize> = ledger::read_ledger(&out_dir)?.iter().map(|d| d.block).collect();
    let todo: Vec<usize> = (shard.first_block..shard.end_block).filter(|b| !done.contains(b)).collect();
    let skipped = (shard.end_block - shard.first_block) - todo.len();
    // Every input is checked before a backend is touched.
    let be = backend(&a.backend, a.threads)?;
    let runs_todo: u64 = todo.iter().map(|&b| sw.block_points(b).len() as u64 * sw.replicates as u64).sum();
    let bar = if a.progress {
        indicatif::ProgressBar::new(runs_todo)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} runs ({per_sec}, {eta} left) {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let points_todo: usize = todo.iter().map(|&b| sw.block_points(b).len()).sum();
    let mut points_done = 0;
    // The model of the last group, reused while points share it (a world is built once).
    let mut cache: Option<(String, Model)> = None;
    for (n, &b) in todo.iter().enumerate() {
        bar.set_message(format!("{points_done}/{points_todo} points, block {}/{}", n + 1, todo.len()));
        let finished = run_block(&sw, b, be.as_ref(), steps, panel, &out_dir, &signals, &bar, &mut cache)?;
        points_done += sw.block_points(b).len();
        if !finished {
            bar.abandon();
            return Err(signals.stopped(format!(
                "interrupted: {} of {} blocks of this {}are on disk in {}; `pioneer sweep {} --resume{}` runs the rest",
                skipped + n,
                shard.end_block - shard.first_block,
                if shard.count > 1 { "shard " } else { "sweep " },
                out_dir.display(),
                a.sweep.display(),
                [
                    a.replicates.map(|r| format!(" --replicates {r}")),
                    a.months.map(|m| format!(" --months {m}")),
                    a.points.map(|p| format!(" --points {p}")),
                    a.steps.as_ref().map(|s| format!(" --steps {s}")),
                    a.panel.as_ref().map(|s| format!(" --panel {s}")),
                    a.shard.as_ref().map(|s| format!(" --shard {s}")),
                    a.out.as_ref().map(|o| format!(" --out {}", o.display())),
                ]
                .into_iter()
                .flatten()
                .collect::<String>(),
            )));
        }
    }
    bar.finish_and_clear();
    let sources = vec![(out_dir.clone(), ledger::read_ledger(&out_dir)?)];
    check_coverage(&me, &sources, &[shard], shard.first_block..shard.end_block)?;
    finalize(&sw, &me, &sources, &out_dir, shard.count > 1, &be.describe(), t0)?;
    Ok(result(todo.len(), skipped, be.describe(), false))
}

/// Make `dir` ready for this sweep: new, or holding this sweep to resume, or (with `force`) a
/// pioneer output to replace. Anything else is refused.
fn prepare_folder(dir: &Path, me: &SweepInfo, resume: bool, force: bool) -> Result<()> {
    let refuse = |m: String| -> Result<()> { Err(InputError::new(m).field("--out").into()) };
    match holds(dir, "--out")? {
        Holds::Nothing => {}
        Holds::Other(names) => {
            return refuse(format!(
                "{} holds files that are not a pioneer output ({}); give a new or empty folder",
                dir.display(),
                names.join(", ")
            ))
        }
        Holds::Pioneer { sweep } => {
            let theirs = if sweep { ledger::read_info(dir)? } else { None };
            let same = theirs
                .as_ref()
                .is_some_and(|t| t.identity == me.identity && t.shard == me.shard && t.steps == me.steps && t.panel == me.panel);
            if force {
                std::fs::remove_dir_all(dir).map_err(|e| Error::io(format!("cannot clear {}", dir.display()), e))?;
            } else if same && resume {
                // Leftovers of a killed block.
                if let Ok(entries) = std::fs::read_dir(ledger::parts_dir(dir)) {
                    for e in entries.filter_map(|e| e.ok()) {
                        if e.file_name().to_string_lossy().ends_with(".tmp") {
                            let _ = std::fs::remove_file(e.path());
                        }
                    }
                }
                return Ok(());
            } else if same {
                return refuse(format!(
                    "{} already holds this sweep; add --resume to finish it, or --force to start over",
                    dir.display()
                ));
            } else if resume {
                let what = match theirs {
                    Some(t) if t.identity == me.identity => format!(
                        "shard {}/{} with steps `{}` and {}",
                        t.shard.index,
                        t.shard.count,
                        t.steps,
                        match t.panel {
                            Some(p) => format!("a panel of {p}-month periods"),
                            None => "no panel".into(),
                        }
                    ),
                    Some(t) => format!("the sweep `{}` ({}), not this one", t.name, t.sweep_file),
                    None => "the results of `pioneer run`".to_string(),
                };
                return refuse(format!("{} holds {what}; --resume continues only the same sweep", dir.display()));
            } else {
                return refuse(format!(
                    "{} holds another pioneer output; give another folder, or --force to replace it",
                    dir.display()
                ));
            }
        }
    }
    crate::output::folder::create(&ledger::parts_dir(dir), "--out")?;
    ledger::write_info(dir, me)
}

/// Bytes one run of a batch holds: its state twice (live and returned), its records and, with
/// `--steps run` or `--panel`, its rows as text.
fn run_bytes(fp: &Footprint, steps: &str, panel: Option<u32>) -> u64 {
    let text = if steps == "run" { fp.steps_text() } else { 0 };
    let text = text.saturating_add(panel.map_or(0, |p| fp.panel_text(1, p)));
    fp.state_bytes()
        .saturating_mul(2)
        .saturating_add(fp.records_bytes())
        .saturating_add(text)
}

/// Bytes of one run's metrics while its point runs (kept until the point's stats are written).
const METRICS_BYTES: u64 = std::mem::size_of::<[Option<f64>; 12]>() as u64;

/// Check, from the numbers alone and before anything is built or written, that each distinct
/// world of the sweep fits with at least one run at a time, and that a block's runs' metrics
/// fit beside it (a point's replicates are all kept until its quantiles are taken).
fn check_sizes(sw: &Sweep, steps: &str, panel: Option<u32>) -> Result<()> {
    for p in sw.world_points() {
        let sc = sw.scenario(p)?;
        let fp = Footprint::of(&sc)?;
        let need = fp.world_bytes().saturating_add(run_bytes(&fp, steps, panel));
        budget::check(&sc, &fp, "months", 1, need, "use a smaller world or fewer months").map_err(|e| match e {
            Error::Input(e) => Error::Input(sw.at_point(p, e)),
            other => other,
        })?;
        let block_runs = (sw.points_per_block() as u64).saturating_mul(sw.replicates as u64);
        let kept = block_runs.saturating_mul(fp.innov).saturating_mul(METRICS_BYTES);
        let (need, have) = (need.saturating_add(kept), budget::allowed());
        if need > have {
            return Err(sw
                .replicates_error(format!(
                    "{} replicates of a point keep about {:.1} GiB of run metrics until the point's quantiles are taken, more than this machine's {:.1} GiB allows; use fewer replicates",
                    sw.replicates,
                    budget::gib(need),
                    budget::gib(have)
                ))
                .into());
        }
    }
    Ok(())
}

/// Runs per batch handed to the backend: as many as fit in a quarter of memory (at most 2 GiB),
/// at most a block. Results do not depend on it.
pub(crate) fn batch_size(fp: &Footprint, steps: &str, panel: Option<u32>, block_runs: usize) -> usize {
    let per_run = run_bytes(fp, steps, panel).max(1);
    let have = budget::memory_total() / 4;
    ((have.min(2 << 30) / per_run) as usize).clamp(1, block_runs.max(1))
}

/// Run block b into its part files and record it; false when a signal stopped it (its parts are
/// then dropped, and the block runs again on resume). `cache` keeps the last model built.
#[allow(clippy::too_many_arguments)]
fn run_block(
    sw: &Sweep,
    b: usize,
    be: &dyn crate::backend::Backend,
    steps: &str,
    panel: Option<u32>,
    dir: &Path,
    signals: &Signals,
    bar: &indicatif::ProgressBar,
    cache: &mut Option<(String, Model)>,
) -> Result<bool> {
    let pts = sw.block_points(b);
    let means = steps == "mean";
    let fields: Vec<String> = sw.fields.iter().map(|f| f.path.clone()).collect();
    let mut files: Vec<AtomicFile> = Vec::new();
    // Each file's table, by its index in TABLES.
    let mut tables: Vec<usize> = Vec::new();
    for (i, t) in TABLES.into_iter().enumerate() {
        if (t == "steps" && steps == "none") || (t == "panel" && panel.is_none()) {
            continue;
        }
        files.push(AtomicFile::create(&ledger::part(dir, t, b))?);
        tables.push(i);
    }
    // The panel's part is the last file.
    let panel_file = panel.map(|_| files.len() - 1);
    if let Some(f) = panel_file {
        files[f].write_all(crate::output::panel::header("point,replicate").as_bytes())?;
    }
    let mut s = table::points_header(&fields);
    for p in pts.clone() {
        table::points_row(p, &sw.point(p), &mut s);
    }
    files[0].write_all(s.as_bytes())?;
    files[1].write_all(table::runs_header().as_bytes())?;
    // Consecutive points with the same model run as one batch.
    let mut stats = String::from(table::STATS_HEADER);
    let mut steps_header_written = false;
    let mut p = pts.start;
    while p < pts.end {
        let first = sw.scenario(p)?;
        let key = model_key(&first.spec);
        if cache.as_ref().is_none_or(|(k, _)| *k != key) {
            let (model, _) = first.build()?;
            *cache = Some((key.clone(), model));
        }
        let model = match cache.as_ref() {
            Some((_, m)) => m,
            None => return Err(Error::Backend("internal: no model".into())),
        };
        let prm = first.params(&first.spec.params, model.world.len())?;
        let mut group: Vec<(usize, Params)> = vec![(p, prm)];
        let mut q = p + 1;
        while q < pts.end {
            let sc = sw.scenario(q)?;
            if model_key(&sc.spec) != key {
                break;
            }
            let prm = sc.params(&sc.spec.params, model.world.len())?;
            group.push((q, prm));
            q += 1;
        }
        if steps != "none" && !steps_header_written {
            files[3].write_all(table::steps_header(model, means).as_bytes())?;
            steps_header_written = true;
        }
        let params: Vec<Params> = group.iter().map(|g| g.1).collect();
        // The group's runs, point by point, made a chunk at a time (a point may have billions).
        let reps = sw.replicates as u64;
        let group_runs = group.len() as u64 * reps;
        let id = |j: u64| {
            let (local, r) = ((j / reps) as usize, (j % reps) as u32);
            RunId {
                point: local as u32,
                replicate: r,
                key: rng::run_key(sw.seed, group[local].0 as u32, r),
            }
        };
        let innov = first.spec.innovation.len();
        let fp = Footprint {
            world: crate::scenario::Planned {
                units: model.world.len() as u64,
                links: model.world.nbr.len() as u64,
                field: String::new(),
            },
            innov: innov as u64,
            months: sw.months as u64,
        };
        let batch = batch_size(&fp, steps, panel, group_runs.min(usize::MAX as u64) as usize) as u64;
        let mut sums: Vec<table::StepSums> = if means {
            group.iter().map(|_| table::StepSums::new(model, sw.months, innov)).collect()
        } else {
            Vec::new()
        };
        let mut group_metrics: Vec<Vec<Vec<[Option<f64>; 12]>>> = vec![vec![Vec::new(); innov]; group.len()];
        let mut next = 0u64;
        while next < group_runs {
            let end = (next + batch).min(group_runs);
            let chunk: Vec<RunId> = (next..end).map(id).collect();
            next = end;
            let chunk = &chunk[..];
            let out = run_chunked(be, model, &params, chunk, sw.months, chunk.len(), &|_| {})?;
            let mut rows = String::new();
            let mut step_rows = String::new();
            for (r, id) in chunk.iter().enumerate() {
                let local = id.point as usize;
                let gp = group[local].0;
                for (k, m) in table::run_metrics(model, &out, r, &params[local]).iter().enumerate() {
                    table::runs_row(gp, id.replicate, id.key, k, m, &mut rows);
                    group_metrics[local][k].push(*m);
                }
                match steps {
                    "run" => table::steps_rows(model, &out, r, gp, id.replicate, &mut step_rows),
                    "mean" => sums[local].add(model, &out, r),
                    _ => {}
                }
            }
            files[1].write_all(rows.as_bytes())?;
            if steps != "none" {
                files[3].write_all(step_rows.as_bytes())?;
            }
            if let (Some(f), Some(period)) = (panel_file, panel) {
                // Each run replayed on the CPU (the same run to the bit), the runs in parallel.
                use rayon::prelude::*;
                let parts: Vec<String> = chunk
                    .par_iter()
                    .map(|id| {
                        let mut s = String::new();
                        let label = format!("{},{}", group[id.point as usize].0, id.replicate);
                        crate::output::panel::rows(model, &params[id.point as usize], *id, &label, sw.months, period, &mut s);
                        s
                    })
                    .collect();
                for p in &parts {
                    files[f].write_all(p.as_bytes())?;
                }
            }
            bar.inc(chunk.len() as u64);
            if signals.raised() {
                return Ok(false);
            }
        }
        for (local, &(gp, _)) in group.iter().enumerate() {
            for (k, samples) in group_metrics[local].iter().enumerate() {
                table::stats_rows(gp, k, samples, &mut stats);
            }
            if means {
                let mut rows = String::new();
                sums[local].rows(model, gp, sw.months, &mut rows);
                files[3].write_all(rows.as_bytes())?;
            }
        }
        p = q;
    }
    files[2].write_all(stats.as_bytes())?;
    // The ledger records each part's bytes and hash, which `finalize` and `merge` check.
    let mut parts = [None; TABLES.len()];
    for (f, &i) in files.into_iter().zip(&tables) {
        let d = f.digest();
        parts[i] = Some((d.bytes, d.fnv));
        f.commit()?;
    }
    ledger::append_ledger(
        dir,
        Done {
            block: b,
            first_point: pts.start,
            end_point: pts.end,
            parts,
        },
    )?;
    Ok(true)
}

/// Check that `sources` (folders and their finished blocks) hold every block of the sweep once.
/// `shards[i]` is the shard that `sources[i]` ran: a missing block is said at the ledger of the
/// folder that should hold it.
pub fn check_coverage(info: &SweepInfo, sources: &[(PathBuf, Vec<Done>)], shards: &[Shard], blocks: std::ops::Range<usize>) -> Result<()> {
    // The source (by position) that holds each block: one folder given twice is two sources.
    let mut owner: Vec<Option<usize>> = vec![None; info.blocks];
    for (i, (dir, done)) in sources.iter().enumerate() {
        for d in done {
            if !blocks.contains(&d.block) || d.block >= info.blocks {
                return Err(InputError::new(format!(
                    "block {} is not a block of this {} (blocks {} to {})",
                    d.block,
                    if blocks.len() == info.blocks { "sweep" } else { "shard" },
                    blocks.start,
                    blocks.end.saturating_sub(1)
                ))
                .file(ledger::ledger_path(dir))
                .into());
            }
            let first = d.block * info.points_per_block;
            let end = ((d.block + 1) * info.points_per_block).min(info.points);
            if (d.first_point, d.end_point) != (first, end) {
                return Err(InputError::new(format!(
                    "block {} holds points {} to {}, the sweep's block {} is points {first} to {}: the ledger was damaged; {}",
                    d.block,
                    d.first_point,
                    d.end_point.saturating_sub(1),
                    d.block,
                    end.saturating_sub(1),
                    rerun(dir)
                ))
                .file(ledger::ledger_path(dir))
                .into());
            }
            if let Some(other) = owner[d.block] {
                let m = if other == i {
                    format!("block {} is recorded twice; {}", d.block, rerun(dir))
                } else {
                    let other = &sources[other].0;
                    format!(
                        "points {} to {} (block {}) are in both {} and {}{}",
                        d.first_point,
                        d.end_point - 1,
                        d.block,
                        other.display(),
                        dir.display(),
                        if other == dir { " (the same folder, given twice)" } else { "" }
                    )
                };
                return Err(InputError::new(m).file(ledger::ledger_path(dir)).into());
            }
            owner[d.block] = Some(i);
        }
    }
    if let Some(b) = blocks.clone().find(|&b| owner.get(b).is_none_or(Option::is_none)) {
        let first = b * info.points_per_block;
        let end = ((b + 1) * info.points_per_block).min(info.points);
        let owner = shards
            .iter()
            .position(|s| (s.first_block..s.end_block).contains(&b))
            .and_then(|i| sources.get(i))
            .or(sources.first())
            .map_or_else(|| PathBuf::from("ledger.csv"), |(d, _)| ledger::ledger_path(d));
        return Err(InputError::new(format!(
            "points {} to {} (block {b}) are in none of the folders: a shard is missing or unfinished, or its ledger lost the block",
            first,
            end - 1
        ))
        .file(owner)
        .into());
    }
    Ok(())
}

/// What to do about a damaged folder of a sweep.
fn rerun(dir: &Path) -> String {
    format!(
        "the folder {} was damaged: run its sweep (or shard) again with --force",
        dir.display()
    )
}

/// A part as its block wrote it: the bytes and hash the ledger recorded (an earlier pioneer's
/// ledger recorded none: then at least a header and whole lines).
fn check_part(part: &Path, text: &[u8], recorded: Option<(u64, u64)>, b: usize, dir: &Path) -> Result<()> {
    let mut d = crate::output::table::Digest::default();
    d.add(text);
    let bad = |m: String| -> Error { InputError::new(format!("{m}; {}", rerun(dir))).file(part).into() };
    match recorded {
        Some((bytes, _)) if bytes != d.bytes => Err(bad(format!(
            "{} bytes, the ledger recorded {bytes} when block {b} finished",
            d.bytes
        ))),
        Some((_, fnv)) if fnv != d.fnv => Err(bad(format!(
            "its bytes differ from those the ledger recorded when block {b} finished"
        ))),
        Some(_) => Ok(()),
        None if text.is_empty() || !text.ends_with(b"\n") => Err(bad("empty or cut short".into())),
        None => Ok(()),
    }
}

/// Make the final tables (CSV and Parquet), the charts and the manifest from the parts of
/// `sources`, in block order, into `dest` (staged, then swapped in). `keep_parts`: the parts and
/// ledger stay (a shard, for `pioneer merge`).
pub fn finalize(
    sw: &Sweep,
    me: &SweepInfo,
    sources: &[(PathBuf, Vec<Done>)],
    dest: &Path,
    keep_parts: bool,
    backend: &str,
    t0: Instant,
) -> Result<()> {
    let mut blocks: Vec<(usize, &Path, &Done)> = sources
        .iter()
        .flat_map(|(dir, done)| done.iter().map(move |d| (d.block, dir.as_path(), d)))
        .collect();
    blocks.sort_by_key(|b| b.0);
    let staged = Staged::begin(dest, "--out")?;
    let mut written = Vec::new();
    for t in TABLES {
        if (t == "steps" && me.steps == "none") || (t == "panel" && me.panel.is_none()) {
            continue;
        }
        let path = staged.path().join(format!("{t}.csv"));
        let mut out = AtomicFile::create(&path)?;
        for (n, &(b, dir, done)) in blocks.iter().enumerate() {
            let part = ledger::part(dir, t, b);
            let text = std::fs::read(&part).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    InputError::new(format!("missing, though the ledger records block {b} finished; {}", rerun(dir)))
                        .file(&part)
                        .into()
                }
                _ => Error::io(format!("cannot read {}", part.display()), e),
            })?;
            check_part(&part, &text, done.part(t), b, dir)?;
            // Each part starts with the header; the table keeps the first.
            let body = if n == 0 {
                &text[..]
            } else {
                let cut = text.iter().position(|&c| c == b'\n').map_or(text.len(), |i| i + 1);
                &text[cut..]
            };
            out.write_all(body)?;
        }
        out.commit()?;
        written.push(format!("{t}.csv"));
        #[cfg(feature = "parquet")]
        {
            let means = me.steps == "mean";
            let prov = crate::output::parquet::Provenance {
                command: "sweep",
                seed: me.seed,
                scenario_hash: me.identity.clone(),
                extra: vec![("sweep".to_string(), me.name.clone())],
            };
            crate::output::parquet::csv_to_parquet(
                &path,
                &staged.path().join(format!("{t}.parquet")),
                &|c| {
                    if t == "panel" {
                        crate::output::panel::column_kind(c)
                    } else {
                        table::column_kind(t, c, means)
                    }
                },
                &prov,
            )?;
            written.push(format!("{t}.parquet"));
        }
    }
    let charts = crate::plot::sweep::charts(staged.path(), &sw.name, sw.months)?;
    written.extend(charts);
    ledger::write_info(staged.path(), me)?;
    let all_done: Vec<Done> = {
        let mut v: Vec<Done> = sources.iter().flat_map(|(_, d)| d.iter().copied()).collect();
        v.sort_by_key(|d| d.block);
        v
    };
    for d in &all_done {
        ledger::append_ledger(staged.path(), *d)?;
    }
    if keep_parts {
        let from = ledger::parts_dir(dest);
        std::fs::rename(&from, ledger::parts_dir(staged.path()))
            .map_err(|e| Error::io(format!("cannot keep the parts of {}", dest.display()), e))?;
    }
    let manifest = serde_json::json!({
        "pioneer": env!("CARGO_PKG_VERSION"),
        "commit": env!("PIONEER_GIT_HASH"),
        "command": "sweep",
        "sweep_file": sw.path.display().to_string(),
        "name": sw.name,
        "identity": me.identity,
        "base": sw.base.spec,
        "fields": sw.fields.iter().map(|f| serde_json::json!({"path": f.path, "vary": format!("{:?}", f.vary)})).collect::<Vec<_>>(),
        "design": sw.design.map(|d| format!("{d:?}").to_lowercase()),
        "design_points": sw.design_points,
        "points": sw.n_points(),
        "replicates": sw.replicates,
        "months": sw.months,
        "seed": sw.seed,
        "run_keys": "run key = hash of (seed, point, replicate): `pioneer trace SWEEP --point P --replicate R` replays any run",
        "steps": me.steps,
        "shard": me.shard,
        "folders": sources.iter().map(|(d, _)| d.display().to_string()).collect::<Vec<_>>(),
        "backend": backend,
        "wall_seconds": t0.elapsed().as_secs_f64(),
        "files": written,
        "tables": crate::output::table::digests(staged.path())?,
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Backend(format!("manifest: {e}")))?;
    crate::output::write_atomic(&staged.path().join("manifest.json"), text.as_bytes())?;
    staged.commit()
}

/// The text `pioneer sweep` prints.
pub fn describe(r: &SweepResult) -> String {
    if r.already_complete {
        return format!("{}: already complete in {}; nothing to do", r.name, r.out_dir.display());
    }
    let shard = if r.shard.count > 1 {
        format!(
            ", shard {}/{} (blocks {}–{})",
            r.shard.index,
            r.shard.count,
            r.shard.first_block,
            r.shard.end_block.max(1) - 1
        )
    } else {
        String::new()
    };
    let resumed = if r.skipped > 0 {
        format!("; {} blocks were already done", r.skipped)
    } else {
        String::new()
    };
    format!(
        "{}: {} points × {} replicates in {} blocks{shard} on {}: ran {} blocks in {:.2} s{resumed}\n  wrote {}",
        r.name,
        r.points,
        r.replicates,
        r.blocks,
        r.backend,
        r.ran,
        r.seconds,
        r.out_dir.display()
    )
}
