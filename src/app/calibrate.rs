//! `pioneer calibrate`: fit some of a scenario's fields to an observed adoption curve by ABC-SMC,
//! each generation's proposals run as batches on the backend, resumable generation by generation.

use crate::analysis::abc::{self, Generation, Outcome, Particle, Prior, Settings};
use crate::analysis::compare::FitUntil;
use crate::analysis::distance::{Distance, Weights};
use crate::analysis::observed::{self, Comparison, Observed};
use crate::app::budget::Footprint;
use crate::app::run::{backend, run_chunked};
use crate::app::{load_scenario, sweep};
use crate::backend::Backend;
use crate::error::{Error, InputError, Result};
use crate::experiment::{Fnv, Varied};
use crate::model::{agg, params::Params, rng, Model, RunId};
use crate::output::folder::{holds, Holds};
#[cfg(feature = "parquet")]
use crate::output::sweep::Kind;
use crate::output::write_atomic;
use crate::plot;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `pioneer calibrate` is asked.
#[derive(Debug, Clone)]
pub struct CalibrateArgs {
    pub scenario: PathBuf,
    pub observed: PathBuf,
    /// `path=lo..hi`: a field and its uniform prior.
    pub vary: Vec<String>,
    pub particles: usize,
    pub generations: usize,
    /// Runs per proposal; its distance is that of the runs' mean curve.
    pub replicates: u32,
    /// Each tolerance is this weighted quantile of the last generation's distances.
    pub quantile: f64,
    /// Most proposals simulated for one generation (default 50 × particles).
    pub max_simulations: Option<usize>,
    /// Posterior draws run for the predictive band.
    pub predictive: usize,
    pub innovation: u32,
    pub seed: Option<u64>,
    pub months: Option<u32>,
    pub backend: String,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub resume: bool,
    pub force: bool,
    /// Say each generation on standard error as it finishes.
    pub progress: bool,
    /// Fit on the observed years up to this one (a year, or `half`) and forecast the rest.
    pub fit_until: Option<String>,
    /// The distance: `curve` (the default), `events`, or weights `curve=1,events=1`.
    pub distance: Option<String>,
}

impl Default for CalibrateArgs {
    fn default() -> Self {
        CalibrateArgs {
            scenario: PathBuf::new(),
            observed: PathBuf::new(),
            vary: Vec::new(),
            particles: 200,
            generations: 5,
            replicates: 1,
            quantile: 0.5,
            max_simulations: None,
            predictive: 100,
            innovation: 0,
            seed: None,
            months: None,
            backend: "auto".into(),
            threads: None,
            out: None,
            resume: false,
            force: false,
            progress: false,
            fit_until: None,
            distance: None,
        }
    }
}

/// What a calibration found.
pub struct Calibration {
    pub dir: PathBuf,
    pub fields: Vec<String>,
    pub prior: Prior,
    pub generations: Vec<Generation>,
    /// Generations found on disk (resumed) rather than run now.
    pub resumed: usize,
    /// Why it stopped before the generations asked, if it did.
    pub stopped: Option<String>,
    /// The posterior predictive against the observed curve.
    pub predictive: Comparison,
    /// What the distance weighed (`--distance`), and the last year it saw (`--fit-until`).
    pub distance: Weights,
    pub fit_until: Option<i32>,
    pub backend: String,
    /// Runs simulated now, and the seconds spent simulating them.
    pub runs: u64,
    pub sim_seconds: f64,
    pub seconds: f64,
}

/// Parse `path=lo..hi`.
fn parse_vary(s: &str) -> std::result::Result<(String, f64, f64), String> {
    let (path, range) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: give a field and its prior range as `params.kappa=0.5..8`"))?;
    let (lo, hi) = range
        .split_once("..")
        .ok_or_else(|| format!("`{s}`: the range is `lo..hi`, e.g. `params.kappa=0.5..8`"))?;
    let num = |x: &str| {
        x.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{s}`: `{}` is not a number", x.trim()))
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    if lo >= hi {
        return Err(format!("`{s}`: the range needs lo below hi"));
    }
    Ok((path.trim().to_string(), lo, hi))
}

/// A point's runs: `share[r][t - 1]`, the share adopted by the end of month t in replicate r;
/// with `Simulator::units`, `adopt[r][i]`, unit i's adoption month in it.
struct Runs {
    share: Vec<Vec<f64>>,
    adopt: Vec<Vec<u32>>,
}

impl Runs {
    fn adopt(&self) -> Vec<&[u32]> {
        self.adopt.iter().map(Vec::as_slice).collect()
    }
}

/// Runs proposals on the backend and reads their curves.
struct Simulator<'a> {
    varied: &'a Varied,
    be: &'a dyn Backend,
    cache: Option<(String, Model)>,
    months: u32,
    seed: u64,
    innovation: usize,
    /// Hand each point's units' adoption months to `each` too (for an events distance).
    units: bool,
    runs: u64,
    seconds: f64,
    /// Asked before each batch: its error (a signal) stops the calibration.
    go_on: &'a dyn Fn() -> Result<()>,
}

impl Simulator<'_> {
    /// `curves[p][r][t - 1]`: the share of units that adopted by the end of month t, in replicate
    /// r of point p; runs are keyed by (the seed, `salt`, `first + p`, r) alone. Salts: generation
    /// g is g + 1, the posterior predictive 0 (at most 2^24 of them).
    fn curves(&mut self, points: &[Vec<f64>], salt: u64, first: usize, replicates: u32) -> Result<Vec<Runs>> {
        let mut out = Vec::with_capacity(points.len());
        self.each(points, salt, first, replicates, &mut |c| out.push(c))?;
        Ok(out)
    }

    /// The curves of each point in turn, handed to `f` (in the points' order) as a batch of them
    /// finishes: only a batch's runs are held at a time.
    fn each(&mut self, points: &[Vec<f64>], salt: u64, first: usize, replicates: u32, f: &mut dyn FnMut(Runs)) -> Result<()> {
        let t0 = Instant::now();
        let seed = self.seed ^ (salt << 40);
        let mut p = 0;
        while p < points.len() {
            (self.go_on)()?;
            // A batch: consecutive points with the same model, as many whole points as the
            // memory allowed a batch holds (their parameters are made a batch at a time too).
            let sc = self.varied.scenario(&points[p]).map_err(|e| self.at(e, &points[p]))?;
            let key = sweep::model_key(&sc.spec);
            if self.cache.as_ref().is_none_or(|(k, _)| *k != key) {
                let (model, _) = sc.build()?;
                self.cache = Some((key.clone(), model));
            }
            let Some((_, model)) = self.cache.as_ref() else {
                return Err(Error::Backend("internal: no model".into()));
            };
            let units = model.world.len();
            let first_params = sc.params(&sc.spec.params, units)?;
            let fp = Footprint {
                world: crate::scenario::Planned {
                    units: units as u64,
                    links: model.world.nbr.len() as u64,
                    field: String::new(),
                },
                innov: first_params.n_innov as u64,
                months: self.months as u64,
            };
            let per = (sweep::batch_size(&fp, "none", None, (points.len() - p) * replicates as usize) / replicates as usize).max(1);
            let mut params: Vec<Params> = vec![first_params];
            let mut q = p + 1;
            while q < points.len() && q - p < per {
                let sc = self.varied.scenario(&points[q]).map_err(|e| self.at(e, &points[q]))?;
                if sweep::model_key(&sc.spec) != key {
                    break;
                }
                params.push(sc.params(&sc.spec.params, units)?);
                q += 1;
            }
            let ids: Vec<RunId> = (0..q - p)
                .flat_map(|local| {
                    (0..replicates).map(move |r| RunId {
                        point: local as u32,
                        replicate: r,
                        key: rng::run_key(seed, (first + p + local) as u32, r),
                    })
                })
                .collect();
            let o = run_chunked(self.be, model, &params, &ids, self.months, ids.len(), &|_| {})?;
            let at = self.innovation * agg::PER_INNOV + agg::ADOPTERS;
            let pop = model.population() as f64;
            let (units, kn) = (o.state.units, o.state.innov);
            for n in 0..q - p {
                let runs = (0..replicates as usize).map(|r| n * replicates as usize + r);
                f(Runs {
                    share: runs
                        .clone()
                        .map(|run| (1..=self.months).map(|t| o.record(run, t)[at] as f64 / pop).collect())
                        .collect(),
                    adopt: if self.units {
                        runs.map(|run| {
                            let from = (run * kn + self.innovation) * units;
                            o.state.adopt_month[from..from + units].to_vec()
                        })
                        .collect()
                    } else {
                        Vec::new()
                    },
                });
            }
            self.runs += ids.len() as u64;
            p = q;
        }
        self.seconds += t0.elapsed().as_secs_f64();
        Ok(())
    }

    /// A proposal's scenario error, said as the `--vary` values that made it.
    fn at(&self, e: InputError, values: &[f64]) -> Error {
        let named: Vec<String> = self.varied.fields.iter().zip(values).map(|(f, v)| format!("{f} = {v}")).collect();
        let field = self
            .varied
            .field_of(&e)
            .map(|i| self.varied.fields[i].clone())
            .unwrap_or_else(|| "--vary".into());
        InputError::new(format!("at {}: {}", named.join(", "), e.message))
            .field(field)
            .into()
    }
}

/// Refuse, from the numbers alone, a calibration whose particles, proposals, generations or
/// predictive draws would not fit in memory beside the world and a batch of runs, naming the
/// flag to change.
fn check_memory(sc: &crate::scenario::Scenario, a: &CalibrateArgs, k: usize) -> Result<()> {
    let fp = Footprint::of(sc)?;
    crate::app::budget::check_world(sc, &fp)?;
    let n = a.particles as u64;
    // A particle: its values (a vector), weight and distance; a proposal the same while a round
    // is judged (up to 8 × particles of them).
    let particle = 8 * k as u64 + 24 + 16;
    let particles = n
        .saturating_mul(8)
        .saturating_mul(particle)
        .saturating_add((a.generations as u64).saturating_mul(n).saturating_mul(particle));
    // The predictive draws' curves, held for their quantiles (twice, as the bands are made).
    let predictive = (a.predictive as u64).saturating_mul(fp.months).saturating_mul(16);
    let batch = (crate::app::budget::memory_total() / 4).min(2 << 30);
    let need = fp
        .world_bytes()
        .saturating_add(batch)
        .saturating_add(particles)
        .saturating_add(predictive);
    let have = crate::app::budget::allowed();
    if need > have {
        let (flag, what) = if predictive > particles {
            ("--predictive", format!("{} predictive draws of {} months", a.predictive, fp.months))
        } else {
            (
                "--particles",
                format!("{} particles over {} generations", a.particles, a.generations),
            )
        };
        return Err(InputError::new(format!(
            "{what} need about {:.1} GiB with the world and a batch of runs, more than this machine's {:.1} GiB allows; ask for fewer",
            crate::app::budget::gib(need),
            crate::app::budget::gib(have)
        ))
        .field(flag)
        .into());
    }
    Ok(())
}

/// The folder's record of this calibration.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct Info {
    identity: String,
    scenario: String,
    observed: String,
    vary: Vec<String>,
    particles: usize,
    replicates: u32,
    quantile: f64,
    max_simulations: usize,
    seed: u64,
    months: u32,
    innovation: u32,
    /// The last fitted year (`--fit-until`), and the distance; absent in folders from before.
    #[serde(default)]
    fit_until: Option<i32>,
    #[serde(default)]
    distance: Option<String>,
}

const INFO: &str = "calibration.json";

fn gen_path(dir: &Path, g: usize) -> PathBuf {
    dir.join("generations").join(format!("gen-{g:03}.csv"))
}

fn particles_header(fields: &[String]) -> String {
    format!("generation,particle,{},weight,distance,tolerance\n", fields.join(","))
}

fn particle_rows(g: &Generation, s: &mut String) {
    for (i, p) in g.particles.iter().enumerate() {
        let _ = write!(s, "{},{i}", g.index);
        for v in &p.theta {
            let _ = write!(s, ",{v}");
        }
        let _ = writeln!(s, ",{},{},{}", p.weight, p.distance, g.tolerance);
    }
}

/// Read back a generation written by `particle_rows` (with its simulations in the file's last
/// line, `# simulations N`), checking it is one this calibration could have made: `particles`
/// particles of `k` values inside the prior, weights that sum to 1, distances within the
/// tolerance.
fn read_generation(path: &Path, g: usize, k: usize, particles: usize, prior: &Prior) -> Result<Generation> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::output::table::read_error(path, e))?;
    let bad = |line: usize, m: &str| -> Error {
        InputError::new(format!("{m}; the calibration's folder was changed: start over with --force"))
            .file(path)
            .line(line)
            .into()
    };
    let mut out = Vec::new();
    let (mut tolerance, mut simulations) = (f64::NAN, None);
    if !text.ends_with('\n') {
        return Err(bad(text.lines().count().max(1), "the file is cut short"));
    }
    // The closing check of the lines above.
    let body = text.strip_suffix('\n').unwrap_or(&text);
    let text = match body.rfind('\n').map(|i| (&text[..i + 1], &body[i + 1..])) {
        Some((above, last)) if last.starts_with("# check ") => {
            let mut d = crate::output::table::Digest::default();
            d.add(above.as_bytes());
            if last.trim_start_matches("# check ").trim() != format!("{:016x}", d.fnv) {
                return Err(bad(text.lines().count(), "the lines above differ from those written"));
            }
            above
        }
        _ => {
            return Err(bad(
                text.lines().count(),
                "no closing `# check` line (cut short, or written by an earlier pioneer)",
            ))
        }
    };
    let lines = text.lines().count();
    for (n, line) in text.lines().enumerate().skip(1) {
        if let Some(s) = line.strip_prefix("# simulations ") {
            simulations = s.trim().parse::<usize>().ok();
            if simulations.is_none() || n + 1 != lines {
                return Err(bad(n + 1, "not the closing `# simulations N` line"));
            }
            continue;
        }
        let v: Vec<f64> = line
            .split(',')
            .map(|x| x.parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad(n + 1, "not a number"))?;
        if v.len() != k + 5 || v[0] != g as f64 || v[1] != out.len() as f64 {
            return Err(bad(n + 1, "not the next particle of this generation"));
        }
        let theta = v[2..2 + k].to_vec();
        let (weight, distance, tol) = (v[k + 2], v[k + 3], v[k + 4]);
        if !prior.contains(&theta) || theta.iter().any(|x| !x.is_finite()) {
            return Err(bad(n + 1, "a particle outside the prior"));
        }
        let sound = weight.is_finite() && weight >= 0.0 && distance.is_finite() && distance >= 0.0;
        if !sound || distance > tol {
            return Err(bad(n + 1, "a weight or distance no generation gives"));
        }
        if !out.is_empty() && tol.to_bits() != tolerance.to_bits() {
            return Err(bad(n + 1, "a tolerance unlike its generation's"));
        }
        tolerance = tol;
        out.push(Particle { theta, weight, distance });
    }
    let simulations = simulations.ok_or_else(|| bad(lines, "no `# simulations` line"))?;
    if out.len() != particles || simulations < particles {
        return Err(bad(
            lines,
            &format!(
                "{} particles from {simulations} simulations; this calibration keeps {particles}",
                out.len()
            ),
        ));
    }
    let total: f64 = out.iter().map(|p| p.weight).sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(bad(lines, &format!("weights that sum to {total}, not 1")));
    }
    Ok(Generation {
        index: g,
        tolerance,
        particles: out,
        simulations,
    })
}

/// Make `dir` ready: new, or holding this calibration to resume, or (with `force`) a pioneer
/// output to replace. Returns the generations found to resume from.
fn prepare(dir: &Path, me: &Info, a: &CalibrateArgs, prior: &Prior) -> Result<Vec<Generation>> {
    let k = prior.dims();
    let refuse = |m: String| -> Result<Vec<Generation>> { Err(InputError::new(m).field("--out").into()) };
    match holds(dir, "--out")? {
        Holds::Nothing => {}
        Holds::Other(names) => {
            return refuse(format!(
                "{} holds files that are not a pioneer output ({}); give a new or empty folder",
                dir.display(),
                names.join(", ")
            ))
        }
        Holds::Pioneer { .. } => {
            let theirs: Option<Info> = match std::fs::read_to_string(dir.join(INFO)) {
                Ok(t) if !a.force => Some(serde_json::from_str(&t).map_err(|e| {
                    InputError::new(format!(
                        "not a calibration's record ({e}); the folder was damaged: start over with --force"
                    ))
                    .file(dir.join(INFO))
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData && !a.force => {
                    return Err(crate::output::table::read_error(&dir.join(INFO), e))
                }
                _ => None,
            };
            let same = theirs.as_ref().is_some_and(|t| t.identity == me.identity);
            if a.force {
                std::fs::remove_dir_all(dir).map_err(|e| Error::io(format!("cannot clear {}", dir.display()), e))?;
            } else if same && a.resume {
                let mut gens = Vec::new();
                while gen_path(dir, gens.len()).is_file() {
                    gens.push(read_generation(&gen_path(dir, gens.len()), gens.len(), k, a.particles, prior)?);
                }
                // A finished calibration's manifest counts the generations its tables hold.
                let manifest = dir.join("manifest.json");
                let said = std::fs::read_to_string(&manifest)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
                if let Some(m) = said.filter(|m| m["status"] == "done") {
                    let n = m["generations"].as_u64().unwrap_or(u64::MAX);
                    if n > gens.len() as u64 {
                        return Err(InputError::new(format!(
                            "the manifest says {n} generations are done, the folder holds {}; the calibration's folder was changed: start over with --force",
                            gens.len()
                        ))
                        .file(&manifest)
                        .into());
                    }
                }
                return Ok(gens);
            } else if same {
                return refuse(format!(
                    "{} already holds this calibration; add --resume to continue it (or go on to more --generations), or --force to start over",
                    dir.display()
                ));
            } else if a.resume {
                let what = match theirs {
                    Some(t) => format!("a calibration of {} to {} with other settings", t.scenario, t.observed),
                    None => "another pioneer output".into(),
                };
                return refuse(format!(
                    "{} holds {what}; --resume continues only the same calibration",
                    dir.display()
                ));
            } else {
                return refuse(format!(
                    "{} holds another pioneer output; give another folder, or --force to replace it",
                    dir.display()
                ));
            }
        }
    }
    crate::output::folder::create(&dir.join("generations"), "--out")?;
    let info = serde_json::to_string_pretty(me).map_err(|e| Error::Backend(format!("internal: {e}")))?;
    write_atomic(&dir.join(INFO), info.as_bytes())?;
    let manifest = serde_json::json!({
        "pioneer": env!("CARGO_PKG_VERSION"),
        "command": "calibrate",
        "status": "running",
    });
    write_atomic(&dir.join("manifest.json"), manifest.to_string().as_bytes())?;
    Ok(Vec::new())
}

/// `pioneer calibrate`.
pub fn calibrate(a: &CalibrateArgs) -> Result<Calibration> {
    let t0 = Instant::now();
    let sc = load_scenario(&a.scenario, Some(1), a.seed, a.months)?;
    if a.vary.is_empty() {
        return Err(InputError::new("name at least one field to fit, as `--vary params.kappa=0.5..8`")
            .field("--vary")
            .into());
    }
    let mut fields = Vec::new();
    let mut prior = Prior {
        lo: Vec::new(),
        hi: Vec::new(),
    };
    for v in &a.vary {
        let (path, lo, hi) = parse_vary(v).map_err(|m| InputError::new(m).field("--vary"))?;
        fields.push(path);
        prior.lo.push(lo);
        prior.hi.push(hi);
    }
    let checks = [
        (
            a.particles < 10 || a.particles > 1_000_000,
            "--particles",
            "allowed 10 to 1,000,000",
        ),
        (a.generations == 0 || a.generations > 100, "--generations", "allowed 1 to 100"),
        (a.replicates == 0 || a.replicates > 1000, "--replicates", "allowed 1 to 1,000"),
        (!(a.quantile > 0.0 && a.quantile < 1.0), "--quantile", "allowed between 0 and 1"),
        (a.predictive == 0 || a.predictive > 100_000, "--predictive", "allowed 1 to 100,000"),
    ];
    if let Some((_, flag, m)) = checks.iter().find(|c| c.0) {
        return Err(InputError::new(*m).field(*flag).into());
    }
    let max_simulations = a.max_simulations.unwrap_or(50 * a.particles);
    if max_simulations < a.particles {
        return Err(
            InputError::new(format!("{max_simulations}: at least the {} particles", a.particles))
                .field("--max-simulations")
                .into(),
        );
    }
    let start_year = sc.spec.start_year.ok_or_else(|| {
        sc.err(
            "start_year",
            "calibrating to an observed curve needs the calendar year of month 1: add `start_year = 2014` (say) to the scenario",
        )
    })?;
    if a.innovation as usize >= sc.spec.innovation.len() {
        return Err(InputError::new(format!(
            "{}: the scenario has {} innovation(s), numbered from 0",
            a.innovation,
            sc.spec.innovation.len()
        ))
        .field("--innovation")
        .into());
    }
    let months = sc.spec.months;
    // Before the world is built; then the observed data are read against the population of the
    // model built (its units, all the world's unless `[world] population` says otherwise),
    // as `run --observed` reads them (the planned count of a file world is its lines, an upper
    // bound: 53 for the 51 units of the US states).
    check_memory(&sc, a, fields.len())?;
    let model = sc.build()?.0;
    let obs = observed::read_for(&a.observed, &model)?;
    observed::check_years(&obs, start_year, months)?;
    let until = match &a.fit_until {
        Some(f) => FitUntil::parse(f)?.resolve(&obs)?,
        None => None,
    };
    let weights = match &a.distance {
        Some(d) => Weights::parse(d)?,
        None => Weights::default(),
    };
    let dist = Distance::new(weights, &obs, &model, (start_year, months), until)?;
    drop(model);
    let varied = Varied::new(sc.clone(), fields.clone())
        .map_err(|(i, m)| InputError::new(format!("{m} (in {})", a.scenario.display())).field(format!("--vary {}", fields[i])))?;
    // Every corner of the prior's box must make a valid scenario (for up to 10 fields; beyond,
    // each field's ends with the others at their lower ends).
    let k = fields.len();
    let corners: Vec<Vec<f64>> = if k <= 10 {
        (0..1usize << k)
            .map(|c| (0..k).map(|f| if c >> f & 1 == 1 { prior.hi[f] } else { prior.lo[f] }).collect())
            .collect()
    } else {
        (0..=k)
            .map(|j| (0..k).map(|f| if f + 1 == j { prior.hi[f] } else { prior.lo[f] }).collect())
            .collect()
    };
    for c in &corners {
        varied.scenario(c).map_err(|e| {
            let f = varied.field_of(&e).unwrap_or(0);
            InputError::new(format!(
                "the prior {}..{} reaches a value the scenario refuses: {}",
                prior.lo[f], prior.hi[f], e.message
            ))
            .field(format!("--vary {}", fields[f]))
        })?;
    }
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out").join(format!("{}-calibration", sc.name())));
    let observed_bytes = std::fs::read(&a.observed).unwrap_or_default();
    let mut h = Fnv::default();
    h.add(env!("CARGO_PKG_VERSION").as_bytes());
    h.add(sc.source().as_bytes());
    for f in [&sc.spec.world.units, &sc.spec.world.edges].into_iter().flatten() {
        h.add(&std::fs::read(sc.path.parent().unwrap_or(Path::new(".")).join(f)).unwrap_or_default());
    }
    h.add(&observed_bytes);
    let vary_norm: Vec<String> = (0..k).map(|f| format!("{}={}..{}", fields[f], prior.lo[f], prior.hi[f])).collect();
    h.add(vary_norm.join(" ").as_bytes());
    // Not the simulation budget: a generation that fills has the same particles under any budget
    // (proposals are numbered, and the first accepted are kept), so a calibration stopped by the
    // budget may go on with a larger one.
    let settings_text = format!(
        "{}/{}/{}/{}/{}/{}",
        a.particles, a.replicates, a.quantile, sc.spec.seed, months, a.innovation
    );
    h.add(settings_text.as_bytes());
    // Only when set, so a folder from before these flags keeps its identity.
    let distance_text = a
        .distance
        .as_ref()
        .filter(|_| weights != Weights::default())
        .map(|_| format!("{}/{}/{}", weights.curve, weights.events, weights.neighbours));
    for extra in [
        until.map(|u| format!("until {u}")),
        distance_text.clone().map(|d| format!("distance {d}")),
    ]
    .into_iter()
    .flatten()
    {
        h.add(extra.as_bytes());
    }
    let me = Info {
        identity: format!("{:016x}", h.0),
        scenario: a.scenario.display().to_string(),
        observed: a.observed.display().to_string(),
        vary: vary_norm,
        particles: a.particles,
        replicates: a.replicates,
        quantile: a.quantile,
        max_simulations,
        seed: sc.spec.seed,
        months,
        innovation: a.innovation,
        fit_until: until,
        distance: distance_text,
    };
    // Every input is checked before the folder is touched and a backend (a GPU driver) opened.
    // Ctrl-C or SIGTERM: heard from before the folder is touched; the calibration stops before
    // its next batch, the generations finished are on disk and `--resume` goes on from them.
    let signals = crate::app::signals::Signals::listen()?;
    let mut gens = prepare(&dir, &me, a, &prior)?;
    let resumed = gens.len();
    let be = backend(&a.backend, a.threads)?;
    let go_on = || {
        signals.check(|| {
            format!(
                "interrupted: the finished generations are in {}; `--resume` (with the same flags) goes on from them",
                dir.display()
            )
        })
    };
    let settings = Settings {
        particles: a.particles,
        quantile: a.quantile,
        max_simulations,
        key: rng::run_key(sc.spec.seed, u32::MAX - 3, 0),
    };
    let mut sim = Simulator {
        varied: &varied,
        be: be.as_ref(),
        cache: None,
        months,
        seed: sc.spec.seed,
        innovation: a.innovation as usize,
        units: dist.needs_units(),
        runs: 0,
        seconds: 0.0,
        go_on: &go_on,
    };
    let mut stopped = None;
    while gens.len() < a.generations {
        let g = gens.len();
        let mut simulate = |xs: &[Vec<f64>], first: usize| -> Result<Vec<f64>> {
            let mut d = Vec::with_capacity(xs.len());
            sim.each(xs, g as u64 + 1, first, a.replicates, &mut |c| {
                d.push(dist.of(&c.share, &c.adopt()))
            })?;
            Ok(d)
        };
        match abc::generation(&prior, gens.last(), &settings, &mut simulate)? {
            Outcome::Done(gen) => {
                let mut s = particles_header(&fields);
                particle_rows(&gen, &mut s);
                let _ = writeln!(s, "# simulations {}", gen.simulations);
                // A check of the lines above, so a damaged file is not resumed from.
                let mut d = crate::output::table::Digest::default();
                d.add(s.as_bytes());
                let _ = writeln!(s, "# check {:016x}", d.fnv);
                write_atomic(&gen_path(&dir, g), s.as_bytes())?;
                if a.progress {
                    eprintln!(
                        "generation {g}: tolerance {:.4}, {} particles from {} simulations ({:.0} % accepted), ESS {:.0}",
                        gen.tolerance,
                        gen.particles.len(),
                        gen.simulations,
                        100.0 * gen.acceptance(),
                        gen.ess()
                    );
                }
                gens.push(gen);
            }
            Outcome::Exhausted {
                accepted,
                simulations,
                tolerance,
            } => {
                stopped = Some(format!(
                    "generation {g} accepted only {accepted} of {} particles within tolerance {tolerance:.4} in {simulations} simulations; the posterior is generation {}'s (--resume with a larger --max-simulations goes on)",
                    a.particles,
                    g - 1
                ));
                break;
            }
        }
    }
    let last = gens.last().ok_or_else(|| Error::Backend("internal: no generation".into()))?;
    // The posterior predictive: draws of the last generation, one run each, over all months.
    let picks = abc::resample(last, a.predictive, settings.key ^ 0x5052_4544);
    let thetas: Vec<Vec<f64>> = picks.iter().map(|&i| last.particles[i].theta.clone()).collect();
    // With events, the predictive's units are scored too.
    sim.units |= obs.events.is_some();
    let points = sim.curves(&thetas, 0, 0, 1)?;
    let (mut runs, mut adopt): (Vec<Vec<f64>>, Vec<Vec<u32>>) = (Vec::new(), Vec::new());
    for p in points {
        runs.extend(p.share);
        adopt.extend(p.adopt);
    }
    let adopt: Vec<&[u32]> = adopt.iter().map(Vec::as_slice).collect();
    let model = sim
        .cache
        .as_ref()
        .map(|(_, m)| m)
        .ok_or_else(|| Error::Backend("internal: no model".into()))?;
    let predictive = crate::analysis::compare::compare_with_events(&obs, model, start_year, &runs, &adopt, until);
    let res = Calibration {
        dir: dir.clone(),
        fields,
        prior,
        resumed,
        stopped,
        predictive,
        distance: weights,
        fit_until: until,
        backend: be.describe(),
        runs: sim.runs,
        sim_seconds: sim.seconds,
        seconds: 0.0,
        generations: gens,
    };
    // The tables, charts and manifest are one transaction: staged beside the folder with the
    // calibration's record and generations, then swapped in whole, so a kill leaves the old
    // calibration or the new one, never a mixture.
    let staged = crate::output::folder::Staged::begin(&dir, "--out")?;
    carry_over(&dir, staged.path())?;
    write_outputs(&res, a, &obs, &runs, &sc.name(), staged.path())?;
    go_on()?;
    staged.commit()?;
    Ok(Calibration {
        seconds: t0.elapsed().as_secs_f64(),
        ..res
    })
}

/// Copy the calibration's record and its generations from `dir` into the staging folder.
fn carry_over(dir: &Path, stage: &Path) -> Result<()> {
    let copy = |from: &Path, to: &Path| -> Result<()> {
        std::fs::copy(from, to)
            .map(|_| ())
            .map_err(|e| Error::io(format!("cannot copy {} to {}", from.display(), to.display()), e))
    };
    copy(&dir.join(INFO), &stage.join(INFO))?;
    let gens = stage.join("generations");
    std::fs::create_dir_all(&gens).map_err(|e| Error::io(format!("cannot create {}", gens.display()), e))?;
    let mut g = 0;
    while gen_path(dir, g).is_file() {
        copy(&gen_path(dir, g), &gen_path(stage, g))?;
        g += 1;
    }
    Ok(())
}

/// The tables, the charts and the manifest of a finished calibration, into `dir` (its staging
/// folder).
fn write_outputs(res: &Calibration, a: &CalibrateArgs, obs: &Observed, runs: &[Vec<f64>], name: &str, dir: &Path) -> Result<()> {
    let k = res.fields.len();
    let mut s = particles_header(&res.fields);
    for g in &res.generations {
        particle_rows(g, &mut s);
    }
    let csv_path = dir.join("particles.csv");
    write_atomic(&csv_path, s.as_bytes())?;
    #[cfg(feature = "parquet")]
    {
        let kind = |c: &str| {
            if c == "generation" || c == "particle" {
                Kind::Int
            } else {
                Kind::F64
            }
        };
        // The calibration's identity and seed, as prepare() recorded them.
        let info: Info = std::fs::read_to_string(dir.join(INFO))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| Error::Backend(format!("internal: cannot read {}", dir.join(INFO).display())))?;
        let prov = crate::output::parquet::Provenance {
            command: "calibrate",
            seed: info.seed,
            scenario_hash: info.identity,
            extra: Vec::new(),
        };
        crate::output::parquet::csv_to_parquet(&csv_path, &dir.join("particles.parquet"), &kind, &prov)?;
    }

    let mut s = String::from("generation,tolerance,simulations,acceptance,ess");
    for f in &res.fields {
        let _ = write!(s, ",{f}_q05,{f}_q50,{f}_q95");
    }
    s.push('\n');
    for g in &res.generations {
        let _ = write!(
            s,
            "{},{},{},{:.6},{:.3}",
            g.index,
            g.tolerance,
            g.simulations,
            g.acceptance(),
            g.ess()
        );
        for f in 0..k {
            let _ = write!(s, ",{},{},{}", g.quantile(f, 0.05), g.quantile(f, 0.5), g.quantile(f, 0.95));
        }
        s.push('\n');
    }
    write_atomic(&dir.join("generations.csv"), s.as_bytes())?;

    let last = &res.generations[res.generations.len() - 1];
    let mut s = String::from("field,prior_lo,prior_hi,mean,sd,q05,q50,q95\n");
    for (f, name) in res.fields.iter().enumerate() {
        let (m, sd) = last.mean_sd(f);
        let _ = writeln!(
            s,
            "{name},{},{},{m},{sd},{},{},{}",
            res.prior.lo[f],
            res.prior.hi[f],
            last.quantile(f, 0.05),
            last.quantile(f, 0.5),
            last.quantile(f, 0.95)
        );
    }
    write_atomic(&dir.join("posterior.csv"), s.as_bytes())?;

    let mut s = String::from("year,month,observed_share,predictive_median,predictive_q05,predictive_q95\n");
    for r in &res.predictive.rows {
        let _ = writeln!(s, "{},{},{},{:.6},{:.6},{:.6}", r.year, r.month, r.observed, r.median, r.lo, r.hi);
    }
    write_atomic(&dir.join("predictive.csv"), s.as_bytes())?;

    let (median, lo, hi) = plot::quantiles(runs);
    let band = plot::Band {
        name: format!("posterior predictive, {} draws (median, 5–95 %)", runs.len()),
        months: (1..=median.len() as u32).collect(),
        median,
        lo,
        hi,
    };
    let points = plot::Points {
        name: format!("observed ({}), RMSE {:.3}", file_name(&obs.path), res.predictive.rmse),
        months: res.predictive.rows.iter().map(|r| r.month).collect(),
        share: res.predictive.rows.iter().map(|r| r.observed).collect(),
        fits: res.predictive.fitted_curves(),
        fitted_until: res.predictive.fitted_until_month(),
    };
    let title = format!("{name}: calibrated to {}", file_name(&obs.path));
    plot::diffusion_chart_observed(&dir.join("predictive"), &title, &[band], Some(&points)).map_err(|e| Error::Backend(e.to_string()))?;
    let pairs = plot::pairs::Pairs {
        title: format!(
            "{name}: posterior, generation {} ({} particles); grey: the prior",
            last.index,
            last.particles.len()
        ),
        names: res.fields.clone(),
        lo: res.prior.lo.clone(),
        hi: res.prior.hi.clone(),
        theta: last.particles.iter().map(|p| p.theta.clone()).collect(),
        weight: last.particles.iter().map(|p| p.weight).collect(),
        prior: res.generations[0].particles.iter().map(|p| p.theta.clone()).collect(),
    };
    plot::pairs::pairs_chart(&dir.join("pairs"), &pairs).map_err(|e| Error::Backend(e.to_string()))?;

    let manifest = serde_json::json!({
        "pioneer": env!("CARGO_PKG_VERSION"),
        "command": "calibrate",
        "status": "done",
        "scenario": a.scenario.display().to_string(),
        "observed": a.observed.display().to_string(),
        "fields": res.fields,
        "generations": res.generations.len(),
        "particles": a.particles,
        "stopped": res.stopped,
        "backend": res.backend,
        "runs": res.runs,
        "simulation_seconds": res.sim_seconds,
        "predictive_rmse": res.predictive.rmse,
        "distance": res.distance.describe(),
        "distance_weights": { "curve": res.distance.curve, "events": res.distance.events, "neighbours": res.distance.neighbours },
        "fit_until": res.fit_until,
        "yardsticks": res.predictive.yardsticks_json(),
        "commit": env!("PIONEER_GIT_HASH"),
        "tables": crate::output::table::digests(dir)?,
        "files": ["particles.csv", "particles.parquet", "generations.csv", "posterior.csv", "predictive.csv", "predictive.png", "predictive.svg", "pairs.png", "pairs.svg"],
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Backend(format!("internal: {e}")))?;
    write_atomic(&dir.join("manifest.json"), text.as_bytes())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The posterior and how it was reached, as text.
pub fn describe(r: &Calibration) -> String {
    let mut s = String::new();
    if r.resumed > 0 {
        let _ = writeln!(s, "resumed from {} generation(s) on disk", r.resumed);
    }
    let _ = writeln!(
        s,
        "distance: {}{}",
        r.distance.describe(),
        r.fit_until.map_or(String::new(), |u| format!(", on the observed years to {u}"))
    );
    let _ = writeln!(s, "generation  tolerance  simulations  accepted  ESS");
    for g in &r.generations {
        let _ = writeln!(
            s,
            "{:>10}  {:>9.4}  {:>11}  {:>7.0} %  {:>4.0}",
            g.index,
            g.tolerance,
            g.simulations,
            100.0 * g.acceptance(),
            g.ess()
        );
    }
    if let Some(why) = &r.stopped {
        let _ = writeln!(s, "stopped early: {why}");
    }
    let last = &r.generations[r.generations.len() - 1];
    let _ = writeln!(
        s,
        "posterior (generation {}): mean [5 %, 50 %, 95 %] of the prior's range",
        last.index
    );
    for (f, name) in r.fields.iter().enumerate() {
        let (m, sd) = last.mean_sd(f);
        let _ = writeln!(
            s,
            "  {name:<28} {m:>9.4} ± {sd:<8.4} [{:.4}, {:.4}, {:.4}]  prior {}..{}",
            last.quantile(f, 0.05),
            last.quantile(f, 0.5),
            last.quantile(f, 0.95),
            r.prior.lo[f],
            r.prior.hi[f]
        );
    }
    let _ = writeln!(
        s,
        "posterior predictive: RMSE of the median against the observed share {:.4}",
        r.predictive.rmse
    );
    s.push_str(&r.predictive.yardstick_lines());
    if r.runs > 0 {
        let _ = writeln!(
            s,
            "{} runs in {:.2} s of simulation ({:.0} runs/s) on {}; {:.2} s in all",
            r.runs,
            r.sim_seconds,
            r.runs as f64 / r.sim_seconds.max(1e-9),
            r.backend,
            r.seconds
        );
    }
    let _ = write!(s, "wrote {}", r.dir.display());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_flags_are_read_and_refused_with_reasons() {
        assert_eq!(parse_vary("params.kappa=0.5..8"), Ok(("params.kappa".into(), 0.5, 8.0)));
        assert_eq!(parse_vary(" params.b0 = -3 .. 1"), Ok(("params.b0".into(), -3.0, 1.0)));
        for bad in [
            "params.kappa",
            "params.kappa=1",
            "params.kappa=a..2",
            "params.kappa=2..1",
            "x=1..inf",
        ] {
            assert!(parse_vary(bad).is_err(), "{bad}");
        }
    }
}
