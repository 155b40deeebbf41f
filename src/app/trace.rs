//! `pioneer trace`: replay one run on the CPU with the full event log (MODEL.md §5).
//! The replay is the same run as inside any batch: same key, same bytes.

use super::budget::{self, Footprint};
use super::{load_scenario, make_dir};
use crate::backend::cpu::run_months;
use crate::backend::BatchOutput;
use crate::error::{Error, InputError, Result};
use crate::model::agg;
use crate::model::trace::{Event, EventLog};
use crate::model::{init_batch, Model, RunId};
use crate::output;
use std::path::{Path, PathBuf};

/// Options of `pioneer trace`.
#[derive(Debug, Clone, Default)]
pub struct TraceArgs {
    pub scenario: PathBuf,
    /// Replicate index of the run to replay.
    pub run: u32,
    /// Unit name or index.
    pub unit: String,
    /// Replicates of the batch the run belongs to (as `run --replicates`).
    pub replicates: Option<u32>,
    pub seed: Option<u64>,
    pub months: Option<u32>,
    pub out: Option<PathBuf>,
    /// Draw the unit's trace chart too.
    pub chart: bool,
    /// The file is a sweep: replay this point's run `run` (its replicate).
    pub point: Option<usize>,
    /// The sweep's `points`, as given to `sweep --points`.
    pub points: Option<usize>,
}

/// A replayed run.
pub struct TraceResult {
    pub model: Model,
    /// The innovations (names, rungs, rung names), by index.
    pub innovations: Vec<crate::scenario::InnovSpec>,
    pub unit: usize,
    pub events: Vec<Event>,
    pub output: BatchOutput,
    pub out_dir: PathBuf,
    /// The trace chart's PNG, when drawn.
    pub chart: Option<PathBuf>,
}

/// Find a unit by id or name, else by index.
pub fn find_unit(model: &Model, spec: &str) -> Result<usize> {
    match model.world.lookup(spec) {
        Ok(i) => return Ok(i),
        Err(ids) if !ids.is_empty() => {
            return Err(InputError::new(format!(
                "{} units are named `{spec}` (ids {}); give the id",
                ids.len(),
                ids.join(", ")
            ))
            .field("--unit")
            .into())
        }
        Err(_) => {}
    }
    match spec.parse::<usize>() {
        Ok(i) if i < model.world.len() => Ok(i),
        _ => Err(InputError::new(format!(
            "no unit named `{spec}`, and it is not an index below {} (names look like `{}`)",
            model.world.len(),
            model.world.names.first().map_or("", |s| s.as_str())
        ))
        .field("--unit")
        .into()),
    }
}

/// `pioneer trace`: replay, write events.csv, return the log.
pub fn trace(a: &TraceArgs) -> Result<TraceResult> {
    let (sc, point) = match a.point {
        None => (load_scenario(&a.scenario, a.replicates, a.seed, a.months)?, 0),
        Some(p) => {
            if a.seed.is_some() {
                return Err(InputError::new("a sweep's runs have the sweep's seed; leave --seed out")
                    .field("--seed")
                    .into());
            }
            let sw = crate::experiment::Sweep::load(&a.scenario, a.replicates, a.months, a.points)?;
            if p >= sw.n_points() {
                return Err(
                    InputError::new(format!("point {p} does not exist: the sweep has points 0 to {}", sw.n_points() - 1))
                        .field("--point")
                        .into(),
                );
            }
            (sw.scenario(p)?, p as u32)
        }
    };
    // A sweep's run exists for any replicate index (the sweep may have run with --replicates).
    if a.point.is_none() && a.run >= sc.spec.replicates {
        let flag = if a.replicates.is_some() {
            "--replicates"
        } else {
            "the scenario's replicates"
        };
        return Err(InputError::new(format!(
            "run {} does not exist: runs are 0 to {} ({flag} {}); to replay run {} of a larger batch, give --replicates as the batch had it",
            a.run,
            sc.spec.replicates - 1,
            sc.spec.replicates,
            a.run
        ))
        .field("--run")
        .into());
    }
    // One run and its event log, checked from the numbers before anything is built.
    let fp = Footprint::of(&sc)?;
    let need = [fp.world_bytes(), fp.state_bytes(), fp.records_bytes(), fp.events_bytes()]
        .into_iter()
        .fold(0u64, u64::saturating_add);
    budget::check(&sc, &fp, "months", 1, need, "use fewer months or a smaller world")?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(format!("{}-trace-run{}", sc.name(), a.run)));
    make_dir(&out_dir)?;
    let (model, prm) = sc.build()?;
    let unit = find_unit(&model, &a.unit)?;
    let months = sc.spec.months;
    // The run's key comes from its point and replicate; its parameters are the one block here.
    let id = RunId {
        point: 0,
        replicate: a.run,
        key: crate::model::rng::run_key(sc.spec.seed, point, a.run),
    };
    let mut state = init_batch(&model, &[prm], &[id]);
    let rl = agg::record_len(state.innov);
    let mut aggs = vec![0u32; months as usize * rl];
    let mut log = EventLog::default();
    let mut series = a.chart.then(|| Series::new(&sc, months));
    {
        let mut views = state.runs_mut();
        if let Some(run) = views.first_mut() {
            match series.as_mut() {
                None => run_months(&model, &prm, id.key, run, &mut aggs, 1, months, &mut log, &|_| {}),
                // Month by month (the same run: each month is the same step whatever the call),
                // reading the unit's state at each month's end.
                Some(ser) => {
                    for t in 1..=months {
                        let rec = &mut aggs[(t as usize - 1) * rl..t as usize * rl];
                        run_months(&model, &prm, id.key, run, rec, t, t, &mut log, &|_| {});
                        ser.read(&model, &prm, run, unit);
                    }
                }
            }
        }
    }
    let mut s = String::from(output::EVENTS_HEADER);
    for e in &log.events {
        output::event_row(&model, e, &mut s);
    }
    output::write_atomic(&out_dir.join("events.csv"), s.as_bytes())?;
    let chart = match series {
        None => None,
        Some(ser) => {
            let name = unit_file_name(&model.world.ids[unit]);
            let stem = out_dir.join(format!("trace-{name}"));
            let data = ser.finish(&sc, &model, unit, a.run, &log.events);
            crate::plot::trace::trace_chart(&stem, &data).map_err(|e| Error::Backend(e.to_string()))?;
            Some(out_dir.join(format!("trace-{name}.png")))
        }
    };
    Ok(TraceResult {
        model,
        innovations: sc.spec.innovation.clone(),
        unit,
        events: log.events,
        output: BatchOutput {
            agg: aggs,
            record_len: rl,
            months,
            state,
        },
        out_dir,
        chart,
    })
}

/// The unit's process trace as readable text.
pub fn describe(res: &TraceResult) -> String {
    use crate::model::fixed::to_f64;
    use crate::model::params::NEVER;
    use crate::state::route;
    use std::fmt::Write as _;
    let m = &res.model;
    let i = res.unit;
    let mut s = String::new();
    let parent = m.world.parent[i];
    let _ = writeln!(
        s,
        "{} (unit {}, level {}, parent {}, capacity {:.2}, firms {:.2}, {} neighbours)",
        m.world.names[i],
        i,
        m.world.level[i],
        if parent == crate::world::NO_PARENT {
            "centre".to_string()
        } else {
            m.world.names[parent as usize].clone()
        },
        to_f64(m.world.capacity[i]),
        to_f64(m.world.firms[i]),
        m.world.neighbours(i).len()
    );
    let name = |k: u32| res.innovations.get(k as usize).map(|i| i.name.clone()).unwrap_or_default();
    let rung = |k: u32, j: u32| {
        let r = res.innovations.get(k as usize).map_or(0, |i| i.rungs);
        let rn = res.innovations.get(k as usize).map(|i| i.rung_name(j)).unwrap_or_default();
        format!("rung {j}/{r} {rn}")
    };
    let unit_name = |j: u32| m.world.names.get(j as usize).cloned().unwrap_or_default();
    let mut any = false;
    for e in res.events.iter().filter(|e| e.unit as usize == i) {
        any = true;
        let _ = write!(s, "month {:>4}  {:<9} → {:<9} {}", e.month, e.from_name(), e.to_name(), e.what);
        let b = to_f64(e.backing);
        let detail = match e.what.split(':').next().unwrap_or("") {
            "need" => format!(
                " [{}, {}: √(I·g) = √({:.2}·{:.2}) = {:.2} ≥ θ {:.2}; p {:.3}]",
                name(e.k),
                rung(e.k, e.rung),
                to_f64(e.incentive),
                to_f64(e.gap),
                ((to_f64(e.incentive) * to_f64(e.gap)).sqrt()),
                to_f64(e.theta),
                to_f64(e.prob)
            ),
            "agenda" => format!(
                " [U {:.2}, D {:.2}, p {:.3}; pitch to the upper leader: B {:.2} → {b:.2}]",
                to_f64(e.signal),
                to_f64(e.demand),
                to_f64(e.prob),
                to_f64(e.backing_before)
            ),
            "lapse" => format!(" [U {:.2}, D {:.2}, p {:.3}]", to_f64(e.signal), to_f64(e.demand), to_f64(e.prob)),
            "pilot" | "mandate" => format!(" [{}; U 1; B {:.2} → {b:.2}]", name(e.k), to_f64(e.backing_before)),
            "design" if e.source != 0 => format!(
                " [source {}{} q {:.2} at depth {}, improvement {:.3}, candidate q {:.2} variant {}]",
                route::NAMES.get(e.source as usize).unwrap_or(&""),
                if e.source_unit == NEVER {
                    String::new()
                } else {
                    format!(" {}", unit_name(e.source_unit))
                },
                to_f64(e.source_q),
                e.rung,
                to_f64(e.delta),
                to_f64(e.quality),
                e.variant
            ),
            "adopted" | "deepened" | "completed" | "failed" => format!(
                " [{}: hurdle {:.2}, B {:.2}, L {:.2}, φ {:.2}, U {:.2}, success p {:.2}; B now {b:.2}, L now {:.2}{}]",
                rung(e.k, e.rung),
                e.hurdle as f64 / 65535.0,
                to_f64(e.backing_before),
                to_f64(e.legitimacy_before),
                to_f64(e.resistance),
                to_f64(e.signal),
                to_f64(e.prob),
                to_f64(e.legitimacy),
                if e.what.starts_with("failed") {
                    String::new()
                } else {
                    format!(", novelty among peers {:.2}", to_f64(e.delta))
                }
            ),
            "recognised" => format!(
                " [{} at depth {}: merit {:.3}, q {:.2}; L now {:.2}, B now {b:.2}]",
                name(e.k),
                e.rung,
                e.prob as f64 / 65535.0,
                to_f64(e.quality),
                to_f64(e.legitimacy)
            ),
            "leader" if e.source != NEVER => format!(" [newcomer from {}; B now {b:.2}]", unit_name(e.source)),
            "leader" => format!(" [B now {b:.2}]"),
            _ => String::new(),
        };
        let _ = writeln!(s, "{detail}");
    }
    if !any {
        let _ = writeln!(s, "no events: the unit never changed stage");
    }
    let _ = write!(s, "events of every unit: {}", res.out_dir.join("events.csv").display());
    if let Some(c) = &res.chart {
        let _ = write!(s, "\ntrace chart: {} (and .svg)", c.display());
    }
    s
}

/// A unit's id as a file name: letters, digits, `-` and `_` kept, anything else `_`.
fn unit_file_name(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// The unit's state month by month, for the trace chart.
struct Series {
    stage: Vec<u32>,
    depth: Vec<Vec<u32>>,
    lines: [Vec<f64>; 5],
}

impl Series {
    fn new(sc: &crate::scenario::Scenario, months: u32) -> Series {
        let m = months as usize;
        Series {
            stage: Vec::with_capacity(m),
            depth: vec![Vec::with_capacity(m); sc.spec.innovation.len().max(1)],
            lines: Default::default(),
        }
    }

    /// Read unit `i` at the end of a month: its stage, depths, and I, g, θ, L, B as the rules
    /// compute them.
    fn read(&mut self, model: &Model, prm: &crate::model::params::Params, run: &crate::state::RunMut, i: usize) {
        use crate::model::fixed::to_f64;
        let n = model.world.len();
        self.stage.push(crate::state::process::stage(run.proc_[i]));
        for (k, d) in self.depth.iter_mut().enumerate() {
            d.push(run.depth[k * n + i]);
        }
        let (incentive, gap) = crate::model::trace::incentive_and_gap(model, prm, run, i);
        let values = [incentive, gap, run.theta[i], run.l[i], run.b[i]];
        for (line, v) in self.lines.iter_mut().zip(values) {
            line.push(to_f64(v));
        }
    }

    fn finish(
        self,
        sc: &crate::scenario::Scenario,
        model: &Model,
        unit: usize,
        run: u32,
        events: &[Event],
    ) -> crate::plot::trace::TraceSeries {
        use crate::plot::trace::Mark;
        let marks = events
            .iter()
            .filter(|e| e.unit as usize == unit)
            .filter_map(|e| match e.what.split(':').next() {
                Some("recognised") => Some((e.month, Mark::Recognised)),
                Some("leader") => Some((e.month, Mark::Leader)),
                _ => None,
            })
            .collect();
        let [i, g, theta, l, b] = self.lines;
        crate::plot::trace::TraceSeries {
            title: format!("{}: unit {}, run {run}, month by month", sc.name(), model.world.names[unit]),
            stage: self.stage,
            innovations: sc.spec.innovation.iter().map(|k| (k.name.clone(), k.rungs)).collect(),
            depth: self.depth,
            lines: vec![
                ("incentive I", i),
                ("gap g", g),
                ("need threshold θ", theta),
                ("legitimacy L", l),
                ("upper backing B", b),
            ],
            marks,
        }
    }
}
