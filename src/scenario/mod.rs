//! Scenario files: TOML → validated `Scenario` → the `Model` and `Params` the backends run.
//! Every error names the file, the line and the field, and says what is allowed.

pub mod params;

use crate::error::InputError;
use crate::model::fixed::{coef, gain, q16, ONE};
use crate::model::params::{Innov, Mandate, Params, Pilot, Sched, MAX_INNOV, MAX_LEVERS, MAX_SCHED, NEVER};
use crate::model::{Model, Seeded, Setup};
use crate::world::{self, Draws, World};
use params::{ParamSpec, Unit, PARAMS};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Most units in a world (adoption shares are exact below 2^24).
pub const MAX_UNITS: usize = (1 << 24) - 1;
/// Most months in a run (rung months are kept in 16 bits, 0xFFFF meaning "not reached").
pub const MAX_MONTHS: u32 = 65534;
/// Most rungs of an innovation's ladder.
pub const MAX_RUNGS: u32 = 8;

/// A value or a piecewise-constant schedule `[[month, value], ...]` starting at month 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Schedule {
    Constant(f64),
    Steps(Vec<(u32, f64)>),
}

impl Schedule {
    fn to_sched(&self, field: &str) -> Result<Sched, InputError> {
        let steps = match self {
            Schedule::Constant(v) => vec![(0, *v)],
            Schedule::Steps(s) => s.clone(),
        };
        let bad = |m: String| Err(InputError::new(m).field(field));
        if steps.is_empty() || steps.len() > MAX_SCHED {
            return bad(format!("a schedule has 1 to {MAX_SCHED} [month, value] pairs"));
        }
        if steps[0].0 != 0 {
            return bad("a schedule's first pair must be for month 0".into());
        }
        let mut s = Sched::constant(0);
        for (i, &(month, v)) in steps.iter().enumerate() {
            if !(0.0..=1.0).contains(&v) {
                return bad(format!("value {v} is out of range: allowed 0 to 1"));
            }
            if i > 0 && month <= steps[i - 1].0 {
                return bad("schedule months must increase".into());
            }
            s.from[i] = month;
            s.val[i] = q16(v);
        }
        Ok(s)
    }
}

fn default_signal() -> Schedule {
    Schedule::Constant(0.3)
}
fn default_space() -> Schedule {
    Schedule::Constant(0.6)
}
fn default_difficulty() -> f64 {
    0.5
}
fn default_months() -> u32 {
    240
}
fn default_replicates() -> u32 {
    8
}
fn default_seed() -> u64 {
    1
}
fn default_compliance() -> f64 {
    0.9
}
fn default_rungs() -> u32 {
    4
}
fn default_depth() -> u32 {
    1
}
fn default_capacity() -> (f64, f64) {
    (0.2, 1.0)
}
fn default_firms() -> (f64, f64) {
    (0.1, 1.0)
}

/// `[world]`: which map to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// `china`, `grid` or `file`.
    pub kind: String,
    /// Seed of the world (positions, capacity, firms); the same for every run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    pub provinces: Option<usize>,
    pub prefectures: Option<usize>,
    pub counties: Option<usize>,
    /// k nearest neighbours of the same level (china).
    pub neighbours: Option<usize>,
    pub width: Option<usize>,
    pub height: Option<usize>,
    pub parents: Option<usize>,
    /// units.csv and edges.csv (file), relative to the scenario file.
    pub units: Option<PathBuf>,
    pub edges: Option<PathBuf>,
    /// c ~ U(lo, hi) where the world does not give it.
    #[serde(default = "default_capacity")]
    pub capacity: (f64, f64),
    /// f ~ U(lo, hi) where the world does not give it.
    #[serde(default = "default_firms")]
    pub firms: (f64, f64),
}

/// `[[innovation]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InnovSpec {
    pub name: String,
    /// First month a need for it can arise.
    #[serde(default)]
    pub available: u32,
    #[serde(default = "default_difficulty")]
    pub difficulty: f64,
    /// u_k(t): the upper-level policy signal.
    #[serde(default = "default_signal")]
    pub signal: Schedule,
    /// (v2) Rungs of the ladder, 1 to 8.
    #[serde(default = "default_rungs")]
    pub rungs: u32,
    /// (v2) A name for each rung, for traces and charts (default "rung 1", ...).
    #[serde(default)]
    pub rung_names: Option<Vec<String>>,
}

impl InnovSpec {
    /// The name of rung `j` (1-based).
    pub fn rung_name(&self, j: u32) -> String {
        self.rung_names
            .as_ref()
            .and_then(|v| v.get(j.saturating_sub(1) as usize).cloned())
            .unwrap_or_else(|| format!("rung {j}"))
    }
}

/// `[[mandate]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MandateSpec {
    /// Innovation name (default: the first).
    pub innovation: Option<String>,
    /// `centre`, `unit:NAME` (that unit and everything under it) or `level:N`.
    pub issuer: String,
    pub month: u32,
    pub deadline: u32,
    #[serde(default = "default_compliance")]
    pub compliance: f64,
    /// (v2) Depth the mandate requires (1 to the innovation's rungs).
    #[serde(default = "default_depth")]
    pub depth: u32,
}

/// `[[pilot]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PilotSpec {
    pub innovation: Option<String>,
    /// Unit names.
    pub units: Vec<String>,
    pub month: u32,
}

/// `[[adopted]]`: a design in place before month 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeededSpec {
    pub unit: String,
    pub innovation: Option<String>,
    pub quality: f64,
    /// Start as the recognised exemplar (visible to all).
    #[serde(default)]
    pub exemplar: bool,
    /// (v2) Rungs already reached (1 to the innovation's rungs).
    #[serde(default = "default_depth")]
    pub depth: u32,
}

/// `[[unit]]`: starting values of one named unit in every run (unset fields are drawn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    pub name: String,
    pub performance: Option<f64>,
    pub expectation: Option<f64>,
    pub legitimacy: Option<f64>,
    pub ambition: Option<f64>,
    /// Need threshold θ.
    pub threshold: Option<f64>,
    /// The leader's age in years.
    pub leader_age: Option<f64>,
    /// Years the leader has been in office at the start (0 up to the term).
    pub leader_tenure: Option<f64>,
    /// (v2) Resistance φ of the departments an innovation moves.
    pub resistance: Option<f64>,
    /// (v2) The first leader's publicity μ.
    pub publicity: Option<f64>,
}

/// A whole scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default = "default_months")]
    pub months: u32,
    #[serde(default = "default_replicates")]
    pub replicates: u32,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// S(t): institutional space.
    #[serde(default = "default_space")]
    pub space: Schedule,
    pub world: WorldSpec,
    #[serde(default)]
    pub innovation: Vec<InnovSpec>,
    #[serde(default)]
    pub params: ParamSpec,
    #[serde(default)]
    pub mandate: Vec<MandateSpec>,
    #[serde(default)]
    pub pilot: Vec<PilotSpec>,
    #[serde(default)]
    pub adopted: Vec<SeededSpec>,
    #[serde(default)]
    pub unit: Vec<UnitSpec>,
}

/// A loaded scenario: its spec, where it came from, and its text (to locate fields).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub path: PathBuf,
    pub spec: ScenarioSpec,
    source: String,
}

impl Scenario {
    /// Read, parse and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        let source = std::fs::read_to_string(path).map_err(|e| InputError::new(format!("cannot read the scenario: {e}")).file(path))?;
        Self::parse(path, source)
    }

    /// Parse and validate scenario text (`path` is used for messages and relative paths).
    pub fn parse(path: &Path, source: String) -> Result<Scenario, InputError> {
        let spec: ScenarioSpec = toml::from_str(&source).map_err(|e| toml_error(path, &source, &e))?;
        let mut sc = Scenario {
            path: path.to_path_buf(),
            spec,
            source,
        };
        if sc.spec.innovation.is_empty() {
            sc.spec.innovation.push(InnovSpec {
                name: "innovation".into(),
                available: 0,
                difficulty: default_difficulty(),
                signal: default_signal(),
                rungs: default_rungs(),
                rung_names: None,
            });
        }
        sc.validate()?;
        Ok(sc)
    }

    /// The same scenario with another spec (a sweep's point), validated. Its errors name the
    /// field but no file or line: the value did not come from this scenario's file.
    pub fn with_spec(&self, spec: ScenarioSpec) -> Result<Scenario, InputError> {
        let sc = Scenario {
            path: self.path.clone(),
            spec,
            source: String::new(),
        };
        sc.validate().map_err(|mut e| {
            e.file = None;
            e.line = None;
            e
        })?;
        Ok(sc)
    }

    /// The scenario's text as read.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Display name: the `name` field or the file stem.
    pub fn name(&self) -> String {
        self.spec.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into())
        })
    }

    /// An error at a field: adds the file and, when it can be found, the line.
    pub fn err(&self, field: &str, message: impl Into<String>) -> InputError {
        let mut e = InputError::new(message).file(&self.path).field(field);
        if let Some(l) = locate(&self.source, field) {
            e = e.line(l);
        }
        e
    }

    fn locate_err(&self, e: InputError) -> InputError {
        match &e.field {
            Some(f) => self.err(&f.clone(), e.message),
            None => e.file(&self.path),
        }
    }

    fn validate(&self) -> Result<(), InputError> {
        let s = &self.spec;
        if s.months == 0 || s.months > MAX_MONTHS {
            return Err(self.err("months", format!("{}: allowed 1 to {MAX_MONTHS}", s.months)));
        }
        if s.replicates == 0 {
            return Err(self.err("replicates", "must be at least 1"));
        }
        s.params.validate().map_err(|e| self.locate_err(e))?;
        s.space.to_sched("space").map_err(|e| self.locate_err(e))?;
        if s.innovation.len() > MAX_INNOV {
            return Err(self.err(
                "innovation",
                format!("{} innovations; at most {MAX_INNOV} are allowed", s.innovation.len()),
            ));
        }
        for (k, inn) in s.innovation.iter().enumerate() {
            inn.signal
                .to_sched(&format!("innovation[{k}].signal"))
                .map_err(|e| self.locate_err(e))?;
            if !(0.0..=1.0).contains(&inn.difficulty) {
                return Err(self.err(&format!("innovation[{k}].difficulty"), "out of range: allowed 0 to 1"));
            }
            if !(1..=MAX_RUNGS).contains(&inn.rungs) {
                return Err(self.err(
                    &format!("innovation[{k}].rungs"),
                    format!("{}: allowed 1 to {MAX_RUNGS} rungs", inn.rungs),
                ));
            }
            if let Some(names) = &inn.rung_names {
                if names.len() != inn.rungs as usize {
                    return Err(self.err(
                        &format!("innovation[{k}].rung_names"),
                        format!("{} names for {} rungs: give one name per rung", names.len(), inn.rungs),
                    ));
                }
                if names.iter().any(|n| n.trim().is_empty()) {
                    return Err(self.err(&format!("innovation[{k}].rung_names"), "a rung name is empty"));
                }
            }
            if s.innovation[..k].iter().any(|o| o.name == inn.name) {
                return Err(self.err(
                    &format!("innovation[{k}].name"),
                    format!("duplicate innovation name `{}`", inn.name),
                ));
            }
        }
        if s.mandate.len() > MAX_LEVERS {
            return Err(self.err("mandate", format!("at most {MAX_LEVERS} mandates are allowed")));
        }
        if s.pilot.len() > MAX_LEVERS {
            return Err(self.err("pilot", format!("at most {MAX_LEVERS} pilots are allowed")));
        }
        for (i, m) in s.mandate.iter().enumerate() {
            self.check_depth("mandate", i, m.innovation.as_deref(), m.depth)?;
            if m.deadline < m.month {
                return Err(self.err(
                    &format!("mandate[{i}].deadline"),
                    "the deadline must not be before the mandate's month",
                ));
            }
            if !(0.0..=1.0).contains(&m.compliance) {
                return Err(self.err(&format!("mandate[{i}].compliance"), "out of range: allowed 0 to 1"));
            }
            let ok = m.issuer == "centre"
                || m.issuer.starts_with("unit:")
                || m.issuer.strip_prefix("level:").is_some_and(|l| l.parse::<u32>().is_ok());
            if !ok {
                return Err(self.err(
                    &format!("mandate[{i}].issuer"),
                    format!("`{}`: allowed `centre`, `unit:NAME` or `level:N`", m.issuer),
                ));
            }
        }
        for (i, p) in s.pilot.iter().enumerate() {
            self.innov_index(p.innovation.as_deref(), &format!("pilot[{i}].innovation"))?;
        }
        for (i, a) in s.adopted.iter().enumerate() {
            self.check_depth("adopted", i, a.innovation.as_deref(), a.depth)?;
            if !(0.0..=1.0).contains(&a.quality) {
                return Err(self.err(&format!("adopted[{i}].quality"), "out of range: allowed 0 to 1"));
            }
        }
        for (i, u) in s.unit.iter().enumerate() {
            let shares = [
                ("performance", u.performance),
                ("expectation", u.expectation),
                ("legitimacy", u.legitimacy),
                ("ambition", u.ambition),
                ("threshold", u.threshold),
                ("resistance", u.resistance),
                ("publicity", u.publicity),
            ];
            for (f, v) in shares {
                if v.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
                    return Err(self.err(&format!("unit[{i}].{f}"), "out of range: allowed 0 to 1"));
                }
            }
            if u.leader_age.is_some_and(|a| !(18.0..=90.0).contains(&a)) {
                return Err(self.err(&format!("unit[{i}].leader_age"), "out of range: allowed 18 to 90 years"));
            }
            let term_years = s.params.term / 12.0;
            if u.leader_tenure.is_some_and(|t| !(0.0..term_years).contains(&t)) {
                return Err(self.err(
                    &format!("unit[{i}].leader_tenure"),
                    format!("out of range: allowed 0 up to the term, {term_years} years (params.term)"),
                ));
            }
        }
        let w = &s.world;
        for (name, (lo, hi)) in [("world.capacity", w.capacity), ("world.firms", w.firms)] {
            if !(0.0..=1.0).contains(&lo) || !(0.0..=1.0).contains(&hi) || lo > hi {
                return Err(self.err(name, "a range [lo, hi] with 0 ≤ lo ≤ hi ≤ 1"));
            }
        }
        let allowed: &[&str] = match w.kind.as_str() {
            "china" => &["provinces", "prefectures", "counties", "neighbours"],
            "grid" => &["width", "height", "parents"],
            "file" => &["units", "edges"],
            other => return Err(self.err("world.kind", format!("`{other}`: allowed `china`, `grid` or `file`"))),
        };
        let given = [
            ("provinces", w.provinces.is_some()),
            ("prefectures", w.prefectures.is_some()),
            ("counties", w.counties.is_some()),
            ("neighbours", w.neighbours.is_some()),
            ("width", w.width.is_some()),
            ("height", w.height.is_some()),
            ("parents", w.parents.is_some()),
            ("units", w.units.is_some()),
            ("edges", w.edges.is_some()),
        ];
        for (f, present) in given {
            if present && !allowed.contains(&f) {
                return Err(self.err(
                    &format!("world.{f}"),
                    format!("not a field of a `{}` world (its fields: {})", w.kind, allowed.join(", ")),
                ));
            }
        }
        let planned = match w.kind.as_str() {
            "china" => [w.provinces, w.prefectures, w.counties]
                .iter()
                .map(|c| c.unwrap_or(0) as u128)
                .sum::<u128>(),
            "grid" => w.width.unwrap_or(6) as u128 * w.height.unwrap_or(6) as u128 + w.parents.unwrap_or(3) as u128,
            _ => 0,
        };
        if planned > MAX_UNITS as u128 {
            let field = if w.kind == "china" { "world.counties" } else { "world.width" };
            return Err(self.err(
                field,
                format!("a world of {planned} units is too large: at most {MAX_UNITS} units are allowed"),
            ));
        }
        if w.kind == "file" && w.units.is_none() {
            return Err(self.err("world.units", "a `file` world needs `units = \"units.csv\"`"));
        }
        Ok(())
    }

    /// Entry `i` of `table` (`mandate` or `adopted`) names an innovation, and a depth from 1 to
    /// that innovation's rungs.
    fn check_depth(&self, table: &str, i: usize, innovation: Option<&str>, depth: u32) -> Result<(), InputError> {
        let k = self.innov_index(innovation, &format!("{table}[{i}].innovation"))?;
        let rungs = self.spec.innovation[k].rungs;
        if !(1..=rungs).contains(&depth) {
            return Err(self.err(
                &format!("{table}[{i}].depth"),
                format!("{depth}: allowed 1 to the innovation's {rungs} rungs"),
            ));
        }
        Ok(())
    }

    /// Index of an innovation by name (None: the first).
    pub fn innov_index(&self, name: Option<&str>, field: &str) -> Result<usize, InputError> {
        match name {
            None => Ok(0),
            Some(n) => self.spec.innovation.iter().position(|i| i.name == n).ok_or_else(|| {
                let names: Vec<_> = self.spec.innovation.iter().map(|i| i.name.as_str()).collect();
                self.err(field, format!("no innovation named `{n}` (the scenario has: {})", names.join(", ")))
            }),
        }
    }

    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// Build the world.
    pub fn world(&self) -> Result<World, InputError> {
        let w = &self.spec.world;
        let draws = Draws {
            capacity: (q16(w.capacity.0), q16(w.capacity.1)),
            firms: (q16(w.firms.0), q16(w.firms.1)),
            seed: w.seed,
        };
        let res = match w.kind.as_str() {
            "china" => world::china(
                w.provinces.unwrap_or(31),
                w.prefectures.unwrap_or(333),
                w.counties.unwrap_or(2844),
                w.neighbours.unwrap_or(6),
                &draws,
            ),
            "grid" => world::grid(w.width.unwrap_or(6), w.height.unwrap_or(6), w.parents.unwrap_or(3), &draws),
            _ => {
                let units = self.resolve(w.units.as_deref().unwrap_or(Path::new("units.csv")));
                let edges = w.edges.as_deref().map(|e| self.resolve(e));
                return world::from_files(&units, edges.as_deref(), &draws);
            }
        };
        res.map_err(|e| self.locate_err(e))
    }

    /// Build the model (world, lever masks, seeded designs) and the parameter block.
    pub fn build(&self) -> Result<(Model, Params), InputError> {
        let world = self.world()?;
        let n = world.len();
        if n == 0 {
            return Err(self.err("world", "the world has no units"));
        }
        if n > MAX_UNITS {
            return Err(self.err("world", format!("{n} units; at most {MAX_UNITS} are allowed")));
        }
        let mut model = Model::new(world);
        let s = &self.spec;
        for (mi, m) in s.mandate.iter().enumerate() {
            let field = format!("mandate[{mi}].issuer");
            let under: Box<dyn Fn(usize) -> bool> = if m.issuer == "centre" {
                Box::new(|_| true)
            } else if let Some(name) = m.issuer.strip_prefix("unit:") {
                let u = model
                    .world
                    .find(name)
                    .ok_or_else(|| self.err(&field, format!("no unit named `{name}` in the world")))?;
                let w = model.world.clone();
                Box::new(move |i| w.is_under(i, u))
            } else {
                let lv: u32 = m.issuer.trim_start_matches("level:").parse().unwrap_or(0);
                let levels = model.world.level.clone();
                Box::new(move |i| levels[i] == lv)
            };
            for i in 0..n {
                if under(i) {
                    model.mandate_mask[i] |= 1 << mi;
                }
            }
        }
        for (pi, p) in s.pilot.iter().enumerate() {
            for name in &p.units {
                let u = model
                    .world
                    .find(name)
                    .ok_or_else(|| self.err(&format!("pilot[{pi}].units"), format!("no unit named `{name}` in the world")))?;
                model.pilot_mask[u] |= 1 << pi;
            }
        }
        for (ai, a) in s.adopted.iter().enumerate() {
            let u = model
                .world
                .find(&a.unit)
                .ok_or_else(|| self.err(&format!("adopted[{ai}].unit"), format!("no unit named `{}` in the world", a.unit)))?;
            let k = self.innov_index(a.innovation.as_deref(), &format!("adopted[{ai}].innovation"))?;
            model.seeded.push(Seeded {
                unit: u as u32,
                innov: k as u32,
                quality: q16(a.quality),
                exemplar: a.exemplar,
                depth: a.depth,
            });
        }
        for (ui, u) in s.unit.iter().enumerate() {
            let i = model
                .world
                .find(&u.name)
                .ok_or_else(|| self.err(&format!("unit[{ui}].name"), format!("no unit named `{}` in the world", u.name)))?;
            model.setups.push(Setup {
                unit: i as u32,
                performance: u.performance.map(q16),
                expectation: u.expectation.map(q16),
                legitimacy: u.legitimacy.map(q16),
                ambition: u.ambition.map(q16),
                threshold: u.threshold.map(q16),
                age: u.leader_age.map(|a| (a * 12.0).round() as u32),
                tenure: u.leader_tenure.map(|t| ((t * 12.0).round() as u32).min(s.params.term as u32 - 1)),
                resistance: u.resistance.map(q16),
                publicity: u.publicity.map(q16),
            });
        }
        let prm = self.params(&s.params, n)?;
        Ok((model, prm))
    }

    /// The parameter block for a `[params]` table (the scenario's own or a sweep point's).
    pub fn params(&self, ps: &ParamSpec, n_units: usize) -> Result<Params, InputError> {
        ps.validate().map_err(|e| self.locate_err(e))?;
        let s = &self.spec;
        let mut prm: Params = bytemuck::Zeroable::zeroed();
        prm.n_units = n_units as u32;
        prm.n_innov = s.innovation.len() as u32;
        prm.n_mandates = s.mandate.len() as u32;
        prm.n_pilots = s.pilot.len() as u32;
        let set = |name: &str, v: f64| {
            let info = PARAMS.iter().find(|p| p.name == name).map(|p| p.unit).unwrap_or(Unit::Share);
            match info {
                Unit::Share => q16(v),
                Unit::Gain => gain(v),
                Unit::Months | Unit::Count => v as u32,
                Unit::Years => (v * 12.0).round() as u32,
                Unit::Coef => coef(v) as u32,
            }
        };
        prm.term = set("term", ps.term);
        prm.age_peak = set("age_peak", ps.age_peak);
        prm.age_cap = set("age_cap", ps.age_cap);
        prm.age_retire = set("age_retire", ps.age_retire);
        prm.appoint_lo = set("appoint_age_lo", ps.appoint_age_lo);
        prm.appoint_hi = set("appoint_age_hi", ps.appoint_age_hi);
        prm.ambition_lo = q16(ps.ambition_lo);
        prm.ambition_hi = q16(ps.ambition_hi);
        prm.rho = q16(ps.rho);
        prm.p_transfer = q16(ps.p_transfer);
        prm.p_drop = q16(ps.p_drop);
        prm.w_c = gain(ps.w_c);
        prm.w_l = gain(ps.w_l);
        prm.r_need = q16(ps.r_need);
        prm.theta_lo = q16(ps.theta_lo);
        prm.theta_hi = q16(ps.theta_hi);
        prm.eta_e = q16(ps.eta_e);
        prm.nu = q16(ps.nu);
        prm.w_h = q16(ps.w_h);
        prm.gamma_g = gain(ps.gamma_g);
        prm.pi = q16(ps.pi);
        prm.d0 = q16(ps.d0);
        prm.gamma_d = gain(ps.gamma_d);
        prm.r_agenda = q16(ps.r_agenda);
        prm.r_lapse = q16(ps.r_lapse);
        prm.r_learn = q16(ps.r_learn);
        prm.r_invent = q16(ps.r_invent);
        prm.delta_max = q16(ps.delta_max);
        prm.delta_new = q16(ps.delta_new);
        prm.q_lo = q16(ps.q_lo);
        prm.q_hi = q16(ps.q_hi);
        prm.absorb = q16(ps.absorb);
        prm.template_q = q16(ps.template_q);
        prm.r_impl = q16(ps.r_impl);
        prm.b0 = coef(ps.b0);
        prm.b_l = coef(ps.b_l);
        prm.b_u = coef(ps.b_u);
        prm.b_c = coef(ps.b_c);
        prm.pen_fail = q16(ps.pen_fail);
        prm.g_p = gain(ps.g_p);
        prm.kappa = gain(ps.kappa);
        prm.lambda = q16(ps.lambda);
        prm.lambda_u = q16(ps.lambda_u);
        prm.beta0 = q16(ps.beta0);
        prm.lambda_b = q16(ps.lambda_b);
        prm.eps_b = q16(ps.eps_b);
        prm.b_b = coef(ps.b_b);
        prm.b_phi = coef(ps.b_phi);
        prm.b_demo = coef(ps.b_demo);
        prm.b_bonus = q16(ps.b_bonus);
        prm.b_loss = q16(ps.b_loss);
        prm.lambda_c = q16(ps.lambda_c);
        prm.w_p = gain(ps.w_p);
        prm.init_b_lo = q16(ps.init_b_lo);
        prm.init_b_hi = q16(ps.init_b_hi);
        prm.mu_lo = q16(ps.mu_lo);
        prm.mu_hi = q16(ps.mu_hi);
        prm.phi_lo = q16(ps.resistance_lo);
        prm.phi_hi = q16(ps.resistance_hi);
        prm.p_floor = q16(ps.p_floor);
        prm.eps_p = q16(ps.eps_p);
        prm.eps_l = q16(ps.eps_l);
        prm.recog_every = ps.recog_every as u32;
        prm.recog_count = ps.recog_count as u32;
        prm.l_bonus = q16(ps.l_bonus);
        prm.u_boost = q16(ps.u_boost);
        prm.init_p_lo = q16(ps.init_p_lo);
        prm.init_p_hi = q16(ps.init_p_hi);
        prm.init_e_hi = q16(ps.init_e_hi);
        prm.init_l_lo = q16(ps.init_l_lo);
        prm.init_l_hi = q16(ps.init_l_hi);
        prm.space = s.space.to_sched("space").map_err(|e| self.locate_err(e))?;
        for (k, inn) in s.innovation.iter().enumerate() {
            prm.innov[k] = Innov {
                available: inn.available,
                difficulty: q16(inn.difficulty),
                rungs: inn.rungs,
                _pad: 0,
                signal: inn
                    .signal
                    .to_sched(&format!("innovation[{k}].signal"))
                    .map_err(|e| self.locate_err(e))?,
            };
        }
        for (mi, m) in s.mandate.iter().enumerate() {
            prm.mandates[mi] = Mandate {
                innov: self.innov_index(m.innovation.as_deref(), &format!("mandate[{mi}].innovation"))? as u32,
                start: m.month,
                deadline: m.deadline,
                compliance: q16(m.compliance),
                depth: m.depth,
                _pad: [0; 3],
            };
        }
        for (pi, p) in s.pilot.iter().enumerate() {
            prm.pilots[pi] = Pilot {
                innov: self.innov_index(p.innovation.as_deref(), &format!("pilot[{pi}].innovation"))? as u32,
                month: p.month,
                _pad: [0; 2],
            };
        }
        debug_assert!(prm.recog_every != NEVER && ONE == 65535);
        Ok(prm)
    }
}

/// Turn a TOML error into one naming the file, the line and the field.
fn toml_error(path: &Path, source: &str, e: &toml::de::Error) -> InputError {
    let mut err = InputError::new(e.message().trim().replace('\n', "; ")).file(path);
    if let Some(span) = e.span() {
        let line = source[..span.start.min(source.len())].matches('\n').count() + 1;
        err = err.line(line);
        // The key on that line, with the table it sits in.
        let text = source.lines().nth(line - 1).unwrap_or("");
        let table = table_at(source, line);
        if let Some((key, _)) = text.split_once('=') {
            let key = key.trim();
            err = err.field(if table.is_empty() {
                key.to_string()
            } else {
                format!("{table}.{key}")
            });
        } else if !table.is_empty() {
            err = err.field(table);
        }
    }
    err
}

/// The `[table]` or `[[array]]` header in force at 1-based `line` (without brackets).
fn table_at(source: &str, line: usize) -> String {
    let mut table = String::new();
    for text in source.lines().take(line) {
        let t = text.trim();
        if t.starts_with('[') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
    }
    table
}

/// The 1-based line that sets `field` (`key`, `table.key` or `array[i].key`) in `source`.
pub fn locate(source: &str, field: &str) -> Option<usize> {
    let (table, index, key) = match field.rsplit_once('.') {
        None => (String::new(), 0, field.to_string()),
        Some((t, k)) => match t.split_once('[') {
            Some((name, rest)) => (name.to_string(), rest.trim_end_matches(']').parse().unwrap_or(0), k.to_string()),
            None => (t.to_string(), 0, k.to_string()),
        },
    };
    let mut current = String::new();
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut header_line = None;
    for (n, text) in source.lines().enumerate() {
        let t = text.trim();
        if t.starts_with("[[") {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            let c = seen.entry(current.clone()).or_insert(0);
            *c += 1;
            if current == table && *c == index + 1 {
                header_line = Some(n + 1);
            }
            continue;
        }
        if t.starts_with('[') {
            current = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            if current == table {
                header_line = Some(n + 1);
            }
            continue;
        }
        // A plain table counts as the first (and only) of its name.
        let in_table = current == table && seen.get(&current).copied().unwrap_or(1) == index + 1;
        if in_table {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim() == key {
                    return Some(n + 1);
                }
            }
        }
    }
    // The key may be a whole table (e.g. `world`) or absent: point at the table header.
    if header_line.is_none() {
        for (n, text) in source.lines().enumerate() {
            let t = text.trim();
            if t == format!("[{field}]") || t == format!("[[{field}]]") {
                return Some(n + 1);
            }
        }
    }
    header_line
}

#[cfg(test)]
mod tests {
    use super::locate;

    #[test]
    fn locate_finds_keys_in_tables_and_arrays_of_tables() {
        let src = "months = 3\n[world]\nkind = \"grid\"\n[[mandate]]\nmonth = 1\n[[mandate]]\nmonth = 2\n[params]\nrho = 0.5\n";
        assert_eq!(locate(src, "months"), Some(1));
        assert_eq!(locate(src, "world.kind"), Some(3));
        assert_eq!(locate(src, "mandate[0].month"), Some(5));
        assert_eq!(locate(src, "mandate[1].month"), Some(7));
        assert_eq!(locate(src, "params.rho"), Some(9));
        // An absent key points at its table's header; an absent table at nothing.
        assert_eq!(locate(src, "params.r_need"), Some(8));
        assert_eq!(locate(src, "pilot[0].month"), None);
    }
}
