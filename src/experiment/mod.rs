//! Sweeps: a sweep file names a base scenario and the fields to vary; this module turns it into
//! parameter points (grids, Latin hypercubes, Sobol designs) and each point into a scenario.

pub mod design;
pub mod ledger;

use crate::error::InputError;
use crate::scenario::{Scenario, ScenarioSpec};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Runs per block: a block is the unit of work written, recorded and resumed (whole points,
/// about this many runs). Part of a sweep's identity: results do not depend on it, parts do.
pub const BLOCK_RUNS: usize = 1024;
/// Most points in one sweep (each is held in memory while the sweep runs).
pub const MAX_POINTS: usize = 10_000_000;

/// How one field varies.
#[derive(Debug, Clone, PartialEq)]
pub enum Vary {
    /// These values (a factor of the grid).
    List(Vec<f64>),
    /// `from + i·step` up to `to` (a factor of the grid).
    Range { from: f64, to: f64, step: f64 },
    /// Sampled in [lo, hi] by the sweep's design.
    Sampled { lo: f64, hi: f64 },
}

/// The design of the sampled fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    Lhs,
    Sobol,
    /// The Saltelli (2010) design for Sobol indices: `points` base rows, N (k + 2) points.
    Saltelli,
}

/// A varied field: its path in the scenario (`params.kappa`, `innovation.0.difficulty`, …),
/// how it varies, and the line of the sweep file that says so.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub path: String,
    pub vary: Vary,
    pub line: Option<usize>,
}

/// A loaded sweep: the base scenario, the fields, the design, and every point's values.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub path: PathBuf,
    pub source: String,
    pub name: String,
    pub base: Scenario,
    pub replicates: u32,
    pub seed: u64,
    pub months: u32,
    pub fields: Vec<Field>,
    pub design: Option<Design>,
    /// Points of the sampled design (for each point of the grid).
    pub design_points: usize,
    /// `points` as given by a flag (`--points`), overriding the file's.
    pub points_flag: Option<usize>,
    /// The values of each listed or ranged field (the grid's factors, in field order).
    grid: Vec<Vec<f64>>,
    /// The sampled design in the unit cube: one row per design point (one empty row without one).
    unit: Vec<Vec<f64>>,
    /// The points: the grid's combinations × the design's rows.
    n_points: usize,
    /// The base spec as a JSON value, to which the points' values are applied.
    base_value: serde_json::Value,
    /// `replicates` came from `--replicates` (its errors name the flag, not the file).
    replicates_flag: bool,
}

/// The top level of a sweep file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SweepFile {
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    base: PathBuf,
    replicates: Option<u32>,
    seed: Option<u64>,
    months: Option<u32>,
    design: Option<String>,
    points: Option<usize>,
    #[serde(default)]
    vary: toml::Table,
}

/// Fields that cannot vary inside a sweep, with the reason.
const FIXED: [(&str, &str); 3] = [
    (
        "months",
        "every run of a sweep has the same months (set `months` in the sweep, or --months)",
    ),
    ("replicates", "set `replicates` in the sweep, or --replicates"),
    ("seed", "set `seed` in the sweep"),
];

/// Optional keys a scenario may lack but a sweep may set, by the table they belong to.
const OPTIONAL: [(&str, &[&str]); 3] = [
    // Left out of the resolved scenario at its default 0.
    ("innovation", &["closed"]),
    (
        "world",
        &["provinces", "prefectures", "counties", "neighbours", "width", "height", "parents"],
    ),
    (
        "unit",
        &[
            "performance",
            "expectation",
            "legitimacy",
            "ambition",
            "threshold",
            "leader_age",
            "leader_tenure",
            "resistance",
            "publicity",
        ],
    ),
];

impl Sweep {
    /// Read and check a sweep file; `replicates`, `months` and `points` override the file.
    pub fn load(path: &Path, replicates: Option<u32>, months: Option<u32>, points: Option<usize>) -> Result<Sweep, InputError> {
        Self::load_as(path, replicates, months, points, "--points")
    }

    /// `load`, where `points` came from the flag `points_flag` (`pioneer sensitivity --n`).
    pub fn load_as(
        path: &Path,
        replicates: Option<u32>,
        months: Option<u32>,
        points: Option<usize>,
        points_flag: &str,
    ) -> Result<Sweep, InputError> {
        let source = crate::scenario::read_text(path, "the sweep")?;
        Self::parse(path, source, replicates, months, points, points_flag)
    }

    /// Parse and check sweep text (`path` is used for messages and to find the base); the
    /// overrides came from the flags `--replicates`, `--months` and `points_flag`.
    pub fn parse(
        path: &Path,
        source: String,
        replicates_flag: Option<u32>,
        months_flag: Option<u32>,
        points: Option<usize>,
        points_flag: &str,
    ) -> Result<Sweep, InputError> {
        let at = |field: &str, msg: String| {
            let mut e = InputError::new(msg).file(path).field(field);
            if let Some(l) = crate::scenario::locate(&source, field) {
                e = e.line(l);
            }
            e
        };
        let file: SweepFile = toml::from_str(&source).map_err(|e| crate::scenario::toml_error(path, &source, &e))?;
        let base_path = if file.base.is_absolute() {
            file.base.clone()
        } else {
            path.parent().unwrap_or(Path::new(".")).join(&file.base)
        };
        if !base_path.is_file() {
            return Err(at("base", format!("no scenario file at {}", base_path.display())));
        }
        let mut base = Scenario::load(&base_path)?;
        // A value is refused where it was given: the flag, else the sweep's line.
        let given = |flag: &str, field: &str, set_by_flag: bool, m: String| {
            if set_by_flag {
                InputError::new(m).field(flag)
            } else {
                at(field, m)
            }
        };
        let replicates = replicates_flag.or(file.replicates).unwrap_or(base.spec.replicates);
        if replicates == 0 {
            return Err(given(
                "--replicates",
                "replicates",
                replicates_flag.is_some(),
                "must be at least 1".into(),
            ));
        }
        let months = months_flag.or(file.months).unwrap_or(base.spec.months);
        if months == 0 || months > crate::scenario::MAX_MONTHS {
            return Err(given(
                "--months",
                "months",
                months_flag.is_some(),
                format!("{months}: allowed 1 to {}", crate::scenario::MAX_MONTHS),
            ));
        }
        if let Some(name) = &file.name {
            crate::scenario::check_name(name).map_err(|m| at("name", m))?;
        }
        let seed = file.seed.unwrap_or(base.spec.seed);
        base.spec.replicates = replicates;
        base.spec.months = months;
        base.spec.seed = seed;
        let design = match file.design.as_deref() {
            None | Some("grid") => None,
            Some("lhs") => Some(Design::Lhs),
            Some("sobol") => Some(Design::Sobol),
            Some("saltelli") => Some(Design::Saltelli),
            Some(other) => return Err(at("design", format!("`{other}`: allowed `grid`, `lhs`, `sobol` or `saltelli`"))),
        };
        let base_value = spec_value(&base.spec)?;
        let mut fields = Vec::new();
        flatten(&file.vary, "", &mut |p, v| fields.push((p, v.clone())));
        let mut out_fields: Vec<Field> = Vec::new();
        for (p, v) in fields {
            let key = format!("vary.{p}");
            let line = locate_vary(&source, &p);
            let err = |m: String| {
                let mut e = InputError::new(m).file(path).field(&key);
                if let Some(l) = line {
                    e = e.line(l);
                }
                e
            };
            if let Some((_, why)) = FIXED.iter().find(|(f, _)| *f == p) {
                return Err(err(format!("cannot vary within a sweep: {why}")));
            }
            if let Some(before) = out_fields.iter().find(|f| same_field(&f.path, &p)) {
                // Said at the second line that varies it.
                let lines = vary_lines(&source, &p);
                let mut e = InputError::new(format!(
                    "`{p}` is varied twice{}: give each field once",
                    before.line.map_or(String::new(), |l| format!(" (also at line {l})"))
                ))
                .file(path)
                .field(&key);
                if let Some(&l) = lines.iter().find(|&&l| Some(l) != before.line) {
                    e = e.line(l);
                }
                return Err(e);
            }
            check_path(&base_value, &p).map_err(&err)?;
            let vary = parse_vary(&v).map_err(&err)?;
            out_fields.push(Field { path: p, vary, line });
        }
        // The error at a varied field: its `vary` key and line.
        let at_field = |f: &Field, m: String| {
            let mut e = InputError::new(m).file(path).field(format!("vary.{}", f.path));
            if let Some(l) = f.line {
                e = e.line(l);
            }
            e
        };
        let sampled: Vec<usize> = (0..out_fields.len())
            .filter(|&i| matches!(out_fields[i].vary, Vary::Sampled { .. }))
            .collect();
        let design_points = match (design, sampled.is_empty()) {
            (None, false) => {
                return Err(at_field(
                    &out_fields[sampled[0]],
                    "a field given as { lo, hi } is sampled: set design = \"lhs\" or \"sobol\" and points = N".into(),
                ))
            }
            (Some(_), true) => {
                return Err(at(
                    "design",
                    "a design samples the fields given as { lo, hi }; there are none".into(),
                ))
            }
            (Some(d), false) => {
                let n = points
                    .or(file.points)
                    .ok_or_else(|| at("points", "a sampled design needs `points = N` (at least 1)".into()))?;
                let flag_or_file = |m: String| match points {
                    Some(_) => InputError::new(m).field(points_flag),
                    None => at("points", m),
                };
                if n == 0 {
                    return Err(flag_or_file("must be at least 1".into()));
                }
                if n > MAX_POINTS {
                    return Err(flag_or_file(format!(
                        "{n}: a sweep has at most {MAX_POINTS} points (split it into several sweeps)"
                    )));
                }
                if d == Design::Saltelli {
                    if let Some(f) = out_fields.iter().find(|f| !matches!(f.vary, Vary::Sampled { .. })) {
                        return Err(at_field(
                            f,
                            format!(
                                "a saltelli design samples every varied field: give `{}` as {{ lo, hi }} too",
                                f.path
                            ),
                        ));
                    }
                    let most = crate::analysis::sobol::MAX_FACTORS;
                    if sampled.len() > most {
                        return Err(at(
                            "design",
                            format!("{} sampled fields; a saltelli design has at most {most}", sampled.len()),
                        ));
                    }
                    // `points` counts the base rows; the design has N (k + 2) points.
                    n.saturating_mul(sampled.len() + 2)
                } else if d == Design::Sobol && sampled.len() > design::SOBOL_MAX_DIMS {
                    return Err(at(
                        "design",
                        format!(
                            "{} sampled fields; a Sobol design has at most {}",
                            sampled.len(),
                            design::SOBOL_MAX_DIMS
                        ),
                    ));
                } else {
                    n
                }
            }
            (None, true) => {
                if points.is_some() {
                    return Err(InputError::new(format!(
                        "{} has no sampled design (design = \"lhs\", \"sobol\" or \"saltelli\") for {points_flag} to size",
                        path.display()
                    ))
                    .field(points_flag));
                }
                if file.points.is_some() {
                    return Err(at(
                        "points",
                        "`points` is for a sampled design (design = \"lhs\" or \"sobol\")".into(),
                    ));
                }
                1
            }
        };
        // Count the points from the numbers before making them (in checked arithmetic: eight
        // fields of 65,536 values each pass any integer type).
        let planned = out_fields
            .iter()
            .map(|f| match &f.vary {
                Vary::List(v) => v.len() as u128,
                Vary::Range { from, to, step } => design::range_len(*from, *to, *step) as u128,
                Vary::Sampled { .. } => 1,
            })
            .try_fold(design_points as u128, u128::checked_mul);
        match planned {
            Some(n) if n <= MAX_POINTS as u128 => {}
            _ => {
                let counts: Vec<String> = out_fields
                    .iter()
                    .filter_map(|f| match &f.vary {
                        Vary::List(v) => Some(format!("{} × {}", f.path, v.len())),
                        Vary::Range { from, to, step } => Some(format!("{} × {}", f.path, design::range_len(*from, *to, *step))),
                        Vary::Sampled { .. } => None,
                    })
                    .collect();
                let many = planned.map_or_else(
                    || {
                        let n: f64 = out_fields
                            .iter()
                            .map(|f| match &f.vary {
                                Vary::List(v) => v.len() as f64,
                                Vary::Range { from, to, step } => design::range_len(*from, *to, *step) as f64,
                                Vary::Sampled { .. } => 1.0,
                            })
                            .product::<f64>()
                            * design_points as f64;
                        format!("about {n:.3e}")
                    },
                    |n| n.to_string(),
                );
                let design_part = if design.is_some() {
                    format!(" × {design_points} design points")
                } else {
                    String::new()
                };
                return Err(at(
                    "vary",
                    format!(
                        "{many} points ({}{design_part}); a sweep has at most {MAX_POINTS} (split it into several sweeps)",
                        counts.join(" × ")
                    ),
                ));
            }
        }
        let grid: Vec<Vec<f64>> = out_fields
            .iter()
            .filter_map(|f| match &f.vary {
                Vary::List(v) => Some(v.clone()),
                Vary::Range { from, to, step } => Some(design::range_values(*from, *to, *step)),
                Vary::Sampled { .. } => None,
            })
            .collect();
        let key = crate::model::rng::run_key(seed, u32::MAX - 1, 0);
        let k = sampled.len();
        let unit = match design {
            Some(Design::Lhs) => design::latin_hypercube(design_points, k, key),
            Some(Design::Sobol) => design::sobol(design_points, k, Some(key)),
            Some(Design::Saltelli) => crate::analysis::sobol::saltelli(design_points / (k + 2), k, None),
            None => vec![Vec::new()],
        };
        let n_points = grid.iter().map(Vec::len).product::<usize>() * unit.len();
        let total = n_points as u128 * replicates as u128;
        if total > u32::MAX as u128 {
            let m = format!(
                "{n_points} points × {replicates} replicates = {total} runs; a sweep has at most {} runs",
                u32::MAX
            );
            return Err(match replicates_flag {
                Some(_) => InputError::new(m).field("--replicates"),
                None => at("vary", m),
            });
        }
        let sw = Sweep {
            name: file.name.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "sweep".into())
            }),
            path: path.to_path_buf(),
            source: source.clone(),
            base,
            replicates,
            seed,
            months,
            fields: out_fields,
            design,
            design_points,
            points_flag: points,
            grid,
            unit,
            n_points,
            base_value,
            replicates_flag: replicates_flag.is_some(),
        };
        sw.check_points()?;
        Ok(sw)
    }

    /// The number of points.
    pub fn n_points(&self) -> usize {
        self.n_points
    }

    /// An error about the replicates, where they were given: the flag, the sweep's line, or
    /// the base scenario's.
    pub fn replicates_error(&self, message: String) -> InputError {
        if self.replicates_flag {
            return InputError::new(message).field("--replicates");
        }
        match crate::scenario::locate(&self.source, "replicates") {
            Some(l) if toml::from_str::<toml::Table>(&self.source).is_ok_and(|t| t.contains_key("replicates")) => {
                InputError::new(message).file(&self.path).line(l).field("replicates")
            }
            _ => self.base.err("replicates", message),
        }
    }

    /// The first point of each distinct world (the values of the varied `world.*` fields): the
    /// points whose footprints differ.
    pub fn world_points(&self) -> Vec<usize> {
        let world: Vec<usize> = (0..self.fields.len())
            .filter(|&i| self.fields[i].path.starts_with("world."))
            .collect();
        if world.is_empty() {
            return vec![0];
        }
        let mut seen = std::collections::HashSet::new();
        (0..self.n_points)
            .filter(|&p| {
                let v = self.point(p);
                seen.insert(world.iter().map(|&i| v[i].to_bits()).collect::<Vec<u64>>())
            })
            .collect()
    }

    /// Point p's values, one per field: the grid of the listed and ranged fields (first field
    /// slowest), each combination crossed with the sampled design (scaled to each field's
    /// [lo, hi]), computed from the index.
    pub fn point(&self, p: usize) -> Vec<f64> {
        let rows = self.unit.len().max(1);
        let (mut g, u) = (p / rows, p % rows);
        // The grid's combination g, the last factor fastest.
        let mut grid_values = vec![0.0; self.grid.len()];
        for (slot, list) in grid_values.iter_mut().zip(&self.grid).rev() {
            let n = list.len().max(1);
            *slot = list.get(g % n).copied().unwrap_or(0.0);
            g /= n;
        }
        let (mut gi, mut si) = (0, 0);
        self.fields
            .iter()
            .map(|f| match f.vary {
                Vary::Sampled { lo, hi } => {
                    let x = self.unit.get(u).and_then(|r| r.get(si)).copied().unwrap_or(0.0);
                    si += 1;
                    design::tidy(lo + x * (hi - lo))
                }
                _ => {
                    gi += 1;
                    grid_values[gi - 1]
                }
            })
            .collect()
    }

    /// Every point must make a valid scenario: find the first that does not, before any run.
    /// The points are checked in parallel, a slice at a time, and the first refused point in
    /// order is the one reported, whatever the threads.
    fn check_points(&self) -> Result<(), InputError> {
        use rayon::prelude::*;
        const SLICE: usize = 1 << 14;
        let mut first = 0;
        while first < self.n_points {
            let end = (first + SLICE * rayon::current_num_threads().max(1)).min(self.n_points);
            let refused = (first..end)
                .into_par_iter()
                .map_init(
                    || self.base_value.clone(),
                    |scratch, p| self.scenario_in(p, scratch).err().map(|e| (p, e)),
                )
                .flatten()
                .min_by_key(|(p, _)| *p);
            if let Some((_, e)) = refused {
                return Err(e);
            }
            first = end;
        }
        Ok(())
    }

    /// Point p's scenario: the base with the point's values, validated.
    pub fn scenario(&self, p: usize) -> Result<Scenario, InputError> {
        let mut scratch = self.base_value.clone();
        self.scenario_in(p, &mut scratch)
    }

    /// `scenario`, with the values set in `scratch`: a copy of the base value that earlier calls
    /// may have filled (every point sets every varied field, so none of theirs is left).
    fn scenario_in(&self, p: usize, scratch: &mut serde_json::Value) -> Result<Scenario, InputError> {
        let values = self.point(p);
        // `params.NAME` is set on the spec itself (a float, as the value tree would hold it);
        // any other field goes through the value tree, which is then read back.
        let direct: Vec<Option<&'static str>> = self.fields.iter().map(|f| param_name(&f.path)).collect();
        let mut spec = if direct.iter().all(Option::is_some) {
            self.base.spec.clone()
        } else {
            for ((f, &x), d) in self.fields.iter().zip(&values).zip(&direct) {
                if d.is_none() {
                    set_path(scratch, &f.path, x, matches!(f.vary, Vary::Sampled { .. })).map_err(|m| self.point_err(p, f, m))?;
                }
            }
            ScenarioSpec::deserialize(&*scratch).map_err(|e| {
                let f = &self.fields[0];
                self.point_err(p, f, e.to_string())
            })?
        };
        for (name, &x) in direct.iter().zip(&values) {
            if let Some(name) = name {
                spec.params.set(name, x);
            }
        }
        self.base.with_spec(spec).map_err(|e| match self.varied(&e) {
            Some(f) => self.point_err(p, f, e.message),
            // A field the sweep does not vary, refused at this point's values: said at the varied
            // field nearest to it (`world.width` for `world.parents`), naming the field refused.
            None => self.point_err(p, self.nearest(&e), e.to_string()),
        })
    }

    /// The varied field an error names, if any.
    fn varied(&self, e: &InputError) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| e.field.as_deref().is_some_and(|ef| same_field(ef, &f.path)))
    }

    /// The varied field whose path shares the most leading segments with the error's field
    /// (the first field when none does).
    fn nearest(&self, e: &InputError) -> &Field {
        let norm = |s: &str| s.replace(['[', ']'], ".").replace("..", ".");
        let theirs = norm(e.field.as_deref().unwrap_or(""));
        let common = |f: &Field| norm(&f.path).split('.').zip(theirs.split('.')).take_while(|(a, b)| a == b).count();
        let best = self.fields.iter().map(common).max().unwrap_or(0);
        self.fields.iter().find(|f| common(f) == best).unwrap_or(&self.fields[0])
    }

    /// An error about point `p`'s scenario: at the sweep's `vary` entry when it names a field
    /// the sweep varies, else as it stands (at the base scenario's line).
    pub fn at_point(&self, p: usize, e: InputError) -> InputError {
        match self.varied(&e) {
            Some(f) => self.point_err(p, f, e.message),
            None => e,
        }
    }

    fn point_err(&self, p: usize, f: &Field, message: String) -> InputError {
        let values: Vec<String> = self
            .fields
            .iter()
            .zip(self.point(p))
            .map(|(f, v)| format!("{} = {v}", f.path))
            .collect();
        let mut e = InputError::new(format!("point {p} ({}): {message}", values.join(", ")))
            .file(&self.path)
            .field(format!("vary.{}", f.path));
        if let Some(l) = f.line {
            e = e.line(l);
        }
        e
    }

    /// Points per block (whole points, about `BLOCK_RUNS` runs).
    pub fn points_per_block(&self) -> usize {
        (BLOCK_RUNS / self.replicates as usize).max(1)
    }

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        self.n_points.div_ceil(self.points_per_block())
    }

    /// The points of block b.
    pub fn block_points(&self, b: usize) -> std::ops::Range<usize> {
        let per = self.points_per_block();
        b * per..((b + 1) * per).min(self.n_points)
    }

    /// A fingerprint of everything the results depend on: the sweep text, the base scenario and
    /// its world files, replicates, months, seed, the block size and the version. Shards of one
    /// sweep, and a resumed sweep, must agree on it.
    pub fn identity(&self) -> String {
        let mut h = Fnv::default();
        h.add(env!("CARGO_PKG_VERSION").as_bytes());
        h.add(self.source.as_bytes());
        h.add(self.base.source().as_bytes());
        for f in [&self.base.spec.world.units, &self.base.spec.world.edges].into_iter().flatten() {
            let p = self.base.path.parent().unwrap_or(Path::new(".")).join(f);
            h.add(&std::fs::read(p).unwrap_or_default());
        }
        h.add(format!("{}/{}/{}/{}", self.replicates, self.months, self.seed, BLOCK_RUNS).as_bytes());
        if let Some(p) = self.points_flag {
            h.add(format!("points {p}").as_bytes());
        }
        format!("{:016x}", h.0)
    }
}

/// Scenarios made from a base by setting some of its fields to given values (a calibration's
/// proposals): the fields are checked as a sweep's `vary` names are.
#[derive(Debug, Clone)]
pub struct Varied {
    pub base: Scenario,
    pub fields: Vec<String>,
    base_value: serde_json::Value,
}

impl Varied {
    /// Check `fields` against `base`; an error is (the field's index, what is wrong).
    pub fn new(base: Scenario, fields: Vec<String>) -> Result<Varied, (usize, String)> {
        let base_value = spec_value(&base.spec).map_err(|e| (0, e.message))?;
        for (i, f) in fields.iter().enumerate() {
            if FIXED.iter().any(|(x, _)| x == f) {
                return Err((
                    i,
                    format!("`{f}` is not a parameter to fit: set it in the scenario or by its flag (--{f})"),
                ));
            }
            check_path(&base_value, f).map_err(|m| (i, m))?;
            if fields[..i].contains(f) {
                return Err((i, format!("`{f}` is given twice")));
            }
        }
        Ok(Varied { base, fields, base_value })
    }

    /// The base with `values` (one per field; whole-number fields rounded), validated.
    pub fn scenario(&self, values: &[f64]) -> Result<Scenario, InputError> {
        let mut v = self.base_value.clone();
        for (f, &x) in self.fields.iter().zip(values) {
            set_path(&mut v, f, x, true).map_err(|m| InputError::new(m).field(f.as_str()))?;
        }
        let spec = ScenarioSpec::deserialize(&v).map_err(|e| InputError::new(e.to_string()))?;
        self.base.with_spec(spec)
    }

    /// The index of the field an error of `scenario` is about, if it is one of ours.
    pub fn field_of(&self, e: &InputError) -> Option<usize> {
        let ef = e.field.as_deref()?;
        self.fields.iter().position(|f| f == ef || same_field(ef, f)).or_else(|| {
            // An error at a schedule (`innovation[0].signal`) is about the step varied in it.
            self.fields
                .iter()
                .position(|f| same_field(ef, f.rsplitn(3, '.').nth(2).unwrap_or("")))
        })
    }
}

/// The parameter a path `params.NAME` names, if it is one of the `[params]` table's.
fn param_name(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix("params.")?;
    crate::scenario::params::PARAMS.iter().find(|i| i.name == name).map(|i| i.name)
}

/// FNV-1a, 64 bits: a stable fingerprint (not a defence against forgery).
pub(crate) struct Fnv(pub(crate) u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub(crate) fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
    }
}

/// True if a scenario error's field (`params.rho`, `innovation[0].difficulty`) is the sweep
/// field `path` (`params.rho`, `innovation.0.difficulty`).
fn same_field(error_field: &str, path: &str) -> bool {
    let norm = |s: &str| s.replace(['[', ']'], ".").replace("..", ".").trim_end_matches('.').to_string();
    norm(error_field) == norm(path)
}

/// Walk the `[vary]` table: a value that is an array or a table with `from`/`lo` keys is a field
/// spec; any other table is a level of the path.
fn flatten(t: &toml::Table, prefix: &str, out: &mut dyn FnMut(String, &toml::Value)) {
    for (k, v) in t {
        let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            // An empty table (`x = {}`) is a field that says nothing, refused by `parse_vary`.
            toml::Value::Table(inner)
                if !inner.is_empty() && !["from", "to", "step", "lo", "hi"].iter().any(|x| inner.contains_key(*x)) =>
            {
                flatten(inner, &path, out)
            }
            _ => out(path, v),
        }
    }
}

/// The line of the sweep file that varies `path`: a line that sets the quoted path, or its last
/// key inside the `[vary…]` table it belongs to.
fn locate_vary(source: &str, path: &str) -> Option<usize> {
    vary_lines(source, path).first().copied()
}

/// Every line of the sweep file that varies `path` (quoted lines first, then nested keys).
fn vary_lines(source: &str, path: &str) -> Vec<usize> {
    let quoted = format!("\"{path}\"");
    let mut out: Vec<usize> = source
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(&quoted))
        .map(|(n, _)| n + 1)
        .collect();
    let mut table = String::new();
    for (n, line) in source.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        if let Some((k, _)) = t.split_once('=') {
            let key = k.trim().trim_matches('"');
            let full = match table.strip_prefix("vary") {
                Some(rest) => format!("{}{}", rest.trim_start_matches('.'), if rest.is_empty() { "" } else { "." }) + key,
                None => continue,
            };
            if full == path && !out.contains(&(n + 1)) {
                out.push(n + 1);
            }
        }
    }
    out
}

fn parse_vary(v: &toml::Value) -> Result<Vary, String> {
    let num = |x: &toml::Value, what: &str| -> Result<f64, String> {
        match x {
            toml::Value::Integer(i) => Ok(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Ok(*f),
            other => Err(format!("{what} `{other}` is not a number")),
        }
    };
    match v {
        toml::Value::Array(items) => {
            if items.is_empty() {
                return Err("an empty list: give at least one value".into());
            }
            items.iter().map(|x| num(x, "value")).collect::<Result<_, _>>().map(Vary::List)
        }
        toml::Value::Table(t) if t.is_empty() => {
            Err("`{}` varies nothing: give a list [a, b, …], a range { from, to, step } or a sampled { lo, hi }".into())
        }
        toml::Value::Table(t) => {
            let get = |k: &str| t.get(k).map(|x| num(x, k)).transpose();
            let keys: Vec<&str> = t.keys().map(String::as_str).collect();
            if t.contains_key("lo") || t.contains_key("hi") {
                if let Some(extra) = keys.iter().find(|k| !["lo", "hi"].contains(k)) {
                    return Err(format!(
                        "unknown key `{extra}` in {{ lo, hi }}: a sampled field has only `lo` and `hi` (the design's `points` sets how many values); a grid's range is {{ from, to, step }}"
                    ));
                }
                let (lo, hi) = (get("lo")?, get("hi")?);
                let (Some(lo), Some(hi)) = (lo, hi) else {
                    return Err("a sampled field needs both `lo` and `hi`".into());
                };
                if lo > hi {
                    return Err(format!("lo = {lo} is above hi = {hi}"));
                }
                Ok(Vary::Sampled { lo, hi })
            } else {
                if let Some(extra) = keys.iter().find(|k| !["from", "to", "step"].contains(k)) {
                    return Err(format!(
                        "unknown key `{extra}` in {{ from, to, step }}: a range has only `from`, `to` and `step`; a sampled field is {{ lo, hi }}"
                    ));
                }
                let (Some(from), Some(to), Some(step)) = (get("from")?, get("to")?, get("step")?) else {
                    return Err("a range needs `from`, `to` and `step`".into());
                };
                if step <= 0.0 {
                    return Err(format!("step = {step}: a range needs a step above 0"));
                }
                if from > to {
                    return Err(format!("from = {from} is above to = {to}"));
                }
                if (to - from) / step > 1e7 {
                    return Err(format!("{} values: at most 10,000,000 per field", ((to - from) / step) as u64 + 1));
                }
                Ok(Vary::Range { from, to, step })
            }
        }
        other => Err(format!(
            "`{other}`: give a list [a, b, …], a range {{ from, to, step }} or a sampled {{ lo, hi }}"
        )),
    }
}

/// The base spec as a JSON value (a seed past i64, which TOML cannot hold, included): the tree
/// the points' values are set in and read back from.
fn spec_value(spec: &ScenarioSpec) -> Result<serde_json::Value, InputError> {
    serde_json::to_value(spec).map_err(|e| InputError::new(format!("internal: the scenario as a value: {e}")))
}

/// The leaf at `path` (`a.b.0.c`) of a value, if any.
fn get_path<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            serde_json::Value::Object(t) => t.get(seg)?,
            serde_json::Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Every numeric leaf of a scenario (with array indices) and the optional keys of its tables:
/// the names a sweep may vary.
pub fn variable_fields(v: &serde_json::Value) -> Vec<String> {
    use serde_json::Value as V;
    fn walk(v: &V, prefix: &str, out: &mut Vec<String>) {
        match v {
            V::Object(t) => {
                for (k, x) in t {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(x, &p, out);
                }
            }
            V::Array(a) if !prefix.is_empty() && !a.is_empty() && a.iter().all(V::is_object) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{prefix}.{i}"), out);
                }
            }
            V::Number(_) => out.push(prefix.to_string()),
            // A schedule or a [lo, hi] pair can be replaced by one number, or varied by index.
            V::Array(a) if a.iter().all(V::is_number) => {
                out.push(prefix.to_string());
                for i in 0..a.len() {
                    out.push(format!("{prefix}.{i}"));
                }
            }
            // A schedule's steps `[[month, value], …]`: each step's month (`.i.0`) and value
            // (`.i.1`), so that a push's month and height can be swept and fitted.
            V::Array(a)
                if a.iter()
                    .all(|x| matches!(x, V::Array(p) if p.len() == 2 && p.iter().all(V::is_number))) =>
            {
                out.push(prefix.to_string());
                for i in 0..a.len() {
                    out.push(format!("{prefix}.{i}.0"));
                    out.push(format!("{prefix}.{i}.1"));
                }
            }
            V::Array(_) => out.push(prefix.to_string()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    for (table, keys) in OPTIONAL {
        match get_path(v, table) {
            Some(V::Object(_)) => out.extend(keys.iter().map(|k| format!("{table}.{k}"))),
            Some(V::Array(a)) => {
                for i in 0..a.len() {
                    out.extend(keys.iter().map(|k| format!("{table}.{i}.{k}")));
                }
            }
            _ => {}
        }
    }
    out.retain(|p| !FIXED.iter().any(|(f, _)| f == p));
    out.sort();
    out.dedup();
    out
}

/// The path names a field a sweep may vary, or the error says which names are close.
fn check_path(base: &serde_json::Value, path: &str) -> Result<(), String> {
    let fields = variable_fields(base);
    if fields.iter().any(|f| f == path) {
        return Ok(());
    }
    let mut close: Vec<(usize, &String)> = fields
        .iter()
        .map(|f| (edit_distance(f, path), f))
        .filter(|(d, f)| *d <= (path.len().max(f.len()) / 3).max(2))
        .collect();
    close.sort();
    let hint = if close.is_empty() {
        let tables: Vec<&str> = {
            let mut t: Vec<&str> = fields.iter().filter_map(|f| f.split('.').next()).collect();
            t.dedup();
            t
        };
        format!("the fields a sweep may vary start with {}", tables.join(", "))
    } else {
        let names: Vec<String> = close.iter().take(3).map(|(_, f)| format!("`{f}`")).collect();
        format!("did you mean {}?", names.join(" or "))
    };
    Err(format!("`{path}` is not a numeric field of the base scenario; {hint}"))
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for j in 0..b.len() {
            cur[j + 1] = (prev[j] + (ca != b[j]) as usize).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Set the leaf at `path` to `x`: an integer where the base has an integer (a sampled value is
/// rounded to the nearest; a listed one must be whole), a float otherwise. Missing keys of a
/// table are created.
fn set_path(v: &mut serde_json::Value, path: &str, x: f64, sampled: bool) -> Result<(), String> {
    use serde_json::Value as V;
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    for (n, seg) in segs.iter().enumerate() {
        let last = n + 1 == segs.len();
        cur = match cur {
            V::Object(t) => {
                if last {
                    let want_int = match t.get(*seg) {
                        Some(V::Number(n)) => !n.is_f64(),
                        // An optional key the base leaves out.
                        Some(V::Null) | None => INTEGER_KEYS.contains(seg),
                        Some(_) => false,
                    };
                    t.insert(seg.to_string(), number(x, want_int, sampled)?);
                    return Ok(());
                }
                t.get_mut(*seg).ok_or_else(|| format!("no `{seg}` in the scenario"))?
            }
            V::Array(a) => {
                let i: usize = seg.parse().map_err(|_| format!("`{seg}` is not an index"))?;
                let len = a.len();
                let slot = a.get_mut(i).ok_or_else(|| format!("index {i} is past the {len} entries"))?;
                if last {
                    let want_int = matches!(slot, V::Number(n) if !n.is_f64());
                    *slot = number(x, want_int, sampled)?;
                    return Ok(());
                }
                slot
            }
            _ => return Err(format!("`{seg}` is inside a value that is not a table")),
        };
    }
    Err("the path names a table, not a value".into())
}

/// Optional keys that hold whole numbers.
const INTEGER_KEYS: [&str; 7] = ["provinces", "prefectures", "counties", "neighbours", "width", "height", "parents"];

fn number(x: f64, want_int: bool, sampled: bool) -> Result<serde_json::Value, String> {
    if !want_int {
        return serde_json::Number::from_f64(x)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("{x} is not a finite number"));
    }
    let r = x.round();
    if !sampled && (x - r).abs() > 1e-9 {
        return Err(format!("{x} is not a whole number, which this field needs"));
    }
    if r < 0.0 || r > i64::MAX as f64 {
        return Err(format!("{x} is out of range for a whole number"));
    }
    Ok(serde_json::Value::from(r as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_changes() {
        assert_eq!(edit_distance("params.kappa", "params.kapa"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn same_field_reads_both_spellings() {
        assert!(same_field("innovation[0].difficulty", "innovation.0.difficulty"));
        assert!(same_field("params.rho", "params.rho"));
        assert!(!same_field("params.rho", "params.pi"));
    }

    #[test]
    fn vary_lines_are_found_quoted_or_nested() {
        let src = "base = \"b.toml\"\n[vary]\n\"params.kappa\" = [1, 2]\nspace = [0.5]\n[vary.world]\nneighbours = [3]\n";
        assert_eq!(locate_vary(src, "params.kappa"), Some(3));
        assert_eq!(locate_vary(src, "space"), Some(4));
        assert_eq!(locate_vary(src, "world.neighbours"), Some(6));
    }
}
