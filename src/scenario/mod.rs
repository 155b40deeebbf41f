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
/// Most nearest neighbours per unit of a `china` world.
pub const MAX_NEIGHBOURS: usize = 1024;

/// A world's size reckoned before it is built (`Scenario::planned`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub units: u64,
    /// Neighbour links, counted in both directions.
    pub links: u64,
    /// The field that sets most of the size (to name in a refusal).
    pub field: String,
}

/// A scenario or sweep name, which becomes a folder name: one plain path component.
pub fn check_name(name: &str) -> Result<(), String> {
    let bad = name.trim().is_empty()
        || name == "."
        || name == ".."
        || name.starts_with('.')
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control() || c == ':');
    if bad {
        return Err(format!(
            "`{name}`: a name becomes the output folder out/NAME, so it must be one plain folder name (no /, \\, :, leading dot or control characters)"
        ));
    }
    Ok(())
}

/// Read a text file whole; invalid UTF-8 is reported at its line and column.
pub fn read_text(path: &Path, what: &str) -> Result<String, InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError::new(format!("cannot read {what}: {e}")).file(path))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let col = at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        let err = InputError::new(format!(
            "not valid UTF-8 (byte 0x{:02x} at column {col}); save the file as UTF-8",
            bytes[at]
        ))
        .file(path)
        .line(line);
        match field_on_line(&String::from_utf8_lossy(bytes), line) {
            Some(f) => err.field(f),
            None => err,
        }
    })
}

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

/// A range `[lo, hi]`: exactly two numbers (a third item is an error, not dropped).
fn pair<'de, D: serde::Deserializer<'de>>(d: D) -> Result<(f64, f64), D::Error> {
    let v: Vec<f64> = Vec::deserialize(d)?;
    match v[..] {
        [lo, hi] => Ok((lo, hi)),
        _ => Err(serde::de::Error::custom(format!(
            "a range [lo, hi] of two numbers, not {} item{}",
            v.len(),
            if v.len() == 1 { "" } else { "s" }
        ))),
    }
}

/// The units a mandate's issuer or the population reaches, as written: every unit (`centre` for
/// an issuer, `all` for a population), `unit:NAME` (that unit and everything under it) or
/// `level:N`.
enum Reach<'a> {
    All,
    Under(&'a str),
    Level(u32),
}

impl<'a> Reach<'a> {
    fn parse(text: &'a str, all: &str) -> Option<Self> {
        if text == all {
            Some(Reach::All)
        } else if let Some(name) = text.strip_prefix("unit:") {
            Some(Reach::Under(name))
        } else {
            text.strip_prefix("level:")?.parse().ok().map(Reach::Level)
        }
    }
}

/// `[world]`: which map to build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// `china`, `china-real`, `us-states`, `grid` or `file`.
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
    #[serde(default = "default_capacity", deserialize_with = "pair")]
    pub capacity: (f64, f64),
    /// f ~ U(lo, hi) where the world does not give it.
    #[serde(default = "default_firms", deserialize_with = "pair")]
    pub firms: (f64, f64),
    /// The units that make up the population that adopts: `all`, `level:N` or `unit:NAME`
    /// (that unit and everything under it). The others never adopt and never count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<String>,
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
    /// The share of units closed to it in each run: they find no room for it in the seed's
    /// institutional space and never take it up by their own need (mandates still reach them).
    /// Left out of the resolved scenario at 0, so a scenario without it keeps its identity.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub closed: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
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
    /// The calendar year of month 1 (its January): lets `--observed` data be set against the
    /// run, year by year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_year: Option<i32>,
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
    source: std::sync::Arc<str>,
    /// Top-level fields set by a command-line flag (`replicates`, `months`, `seed`): their errors
    /// name the flag, not a line of the file.
    flags: Vec<String>,
}

impl Scenario {
    /// Read, parse and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, InputError> {
        let source = read_text(path, "the scenario")?;
        Self::parse(path, source)
    }

    /// Parse and validate scenario text (`path` is used for messages and relative paths).
    pub fn parse(path: &Path, source: String) -> Result<Scenario, InputError> {
        let spec: ScenarioSpec = toml::from_str(&source).map_err(|e| toml_error(path, &source, &e))?;
        let mut sc = Scenario {
            path: path.to_path_buf(),
            spec,
            source: source.into(),
            flags: Vec::new(),
        };
        if sc.spec.innovation.is_empty() {
            sc.spec.innovation.push(InnovSpec {
                name: "innovation".into(),
                available: 0,
                difficulty: default_difficulty(),
                signal: default_signal(),
                rungs: default_rungs(),
                rung_names: None,
                closed: 0.0,
            });
        }
        sc.validate()?;
        Ok(sc)
    }

    /// The same scenario with another spec (a sweep's point), validated. Its errors name the
    /// field but no file or line: the value did not come from this scenario's file.
    pub fn with_spec(&self, spec: ScenarioSpec) -> Result<Scenario, InputError> {
        // The text stays the base file's: an error at a field the caller did not change is
        // found at its line there.
        let sc = Scenario {
            path: self.path.clone(),
            spec,
            source: self.source.clone(),
            flags: Vec::new(),
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

    /// Mark a top-level field as set by its command-line flag (`--replicates` and so on).
    pub fn set_by_flag(&mut self, field: &str) {
        self.flags.push(field.to_string());
    }

    /// An error at a field: adds the file and, when it can be found, the line (or names the
    /// flag that set the field).
    pub fn err(&self, field: &str, message: impl Into<String>) -> InputError {
        if self.flags.iter().any(|f| f == field) {
            return InputError::new(message).field(format!("--{field}"));
        }
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
        if let Some(name) = &s.name {
            check_name(name).map_err(|m| self.err("name", m))?;
        }
        if s.start_year.is_some_and(|y| !(1000..=3000).contains(&y)) {
            return Err(self.err("start_year", "a calendar year from 1000 to 3000"));
        }
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
            if !(0.0..=1.0).contains(&inn.closed) {
                return Err(self.err(
                    &format!("innovation[{k}].closed"),
                    "out of range: allowed 0 to 1 (the share of units closed to it)",
                ));
            }
            if inn.name.trim().is_empty() {
                return Err(self.err(&format!("innovation[{k}].name"), "is empty: every innovation needs a name"));
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
            if Reach::parse(&m.issuer, "centre").is_none() {
                return Err(self.err(
                    &format!("mandate[{i}].issuer"),
                    format!("`{}`: allowed `centre`, `unit:NAME` or `level:N`", m.issuer),
                ));
            }
        }
        for (i, p) in s.pilot.iter().enumerate() {
            self.innov_index(p.innovation.as_deref(), &format!("pilot[{i}].innovation"))?;
            if p.units.is_empty() {
                return Err(self.err(&format!("pilot[{i}].units"), "is empty: a pilot needs at least one unit"));
            }
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
        if let Some(p) = &w.population {
            if Reach::parse(p, "all").is_none() {
                return Err(self.err("world.population", format!("`{p}`: allowed `all`, `unit:NAME` or `level:N`")));
            }
        }
        let allowed: &[&str] = match w.kind.as_str() {
            "china" => &["provinces", "prefectures", "counties", "neighbours"],
            "grid" => &["width", "height", "parents"],
            "file" => &["units", "edges"],
            "china-real" | "us-states" => &[],
            other => {
                return Err(self.err(
                    "world.kind",
                    format!("`{other}`: allowed `china`, `china-real`, `us-states`, `grid` or `file`"),
                ))
            }
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
                    format!(
                        "not a field of a `{}` world (its fields: {})",
                        w.kind,
                        if allowed.is_empty() {
                            "seed, capacity, firms".to_string()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                ));
            }
        }
        match w.kind.as_str() {
            "china" => {
                let counts = [
                    ("world.provinces", w.provinces.unwrap_or(31)),
                    ("world.prefectures", w.prefectures.unwrap_or(333)),
                    ("world.counties", w.counties.unwrap_or(2844)),
                ];
                for (f, c) in counts {
                    if c == 0 {
                        return Err(self.err(f, "must be at least 1"));
                    }
                }
                let k = w.neighbours.unwrap_or(6);
                if !(1..=MAX_NEIGHBOURS).contains(&k) {
                    return Err(self.err(
                        "world.neighbours",
                        format!("{k}: allowed 1 to {MAX_NEIGHBOURS} nearest neighbours per unit"),
                    ));
                }
                let planned: u128 = counts.iter().map(|c| c.1 as u128).sum();
                if planned > MAX_UNITS as u128 {
                    let (f, c) = counts.iter().max_by_key(|c| c.1).copied().unwrap_or(counts[2]);
                    return Err(self.err(
                        f,
                        format!("{c}: a world of {planned} units is too large; at most {MAX_UNITS} units are allowed"),
                    ));
                }
                // Peer groups: the provinces, each province's prefectures, each prefecture's
                // counties (spread evenly, so the largest has the ceiling of the share).
                let [(_, pv), (_, pf), (_, ct)] = counts;
                let groups = [
                    ("world.provinces", pv, 1, "provinces"),
                    ("world.prefectures", pf, pv, "prefectures in a province"),
                    ("world.counties", ct, pf, "counties in a prefecture"),
                ];
                for (f, count, parents, what) in groups {
                    let largest = count.div_ceil(parents);
                    if count >= parents && largest > world::MAX_GROUP {
                        return Err(self.err(
                            f,
                            format!(
                                "{count}: that makes {largest} {what}, and a peer group (same parent and level) may have at most {} units",
                                world::MAX_GROUP
                            ),
                        ));
                    }
                }
            }
            "grid" => {
                let (wd, ht, pa) = (w.width.unwrap_or(6), w.height.unwrap_or(6), w.parents.unwrap_or(3));
                for (f, c) in [("world.width", wd), ("world.height", ht), ("world.parents", pa)] {
                    if c == 0 {
                        return Err(self.err(f, "must be at least 1"));
                    }
                }
                let planned = wd as u128 * ht as u128 + pa as u128;
                if planned > MAX_UNITS as u128 {
                    let f = if wd >= ht { "world.width" } else { "world.height" };
                    return Err(self.err(
                        f,
                        format!("a {wd} × {ht} grid ({planned} units) is too large; at most {MAX_UNITS} units are allowed"),
                    ));
                }
                if pa > wd {
                    return Err(self.err(
                        "world.parents",
                        format!(
                            "{pa} parents for {wd} columns; each parent governs a strip of whole columns, so parents must be at most width"
                        ),
                    ));
                }
                // Peer groups: the parents, and each parent's strip of whole columns.
                if pa > world::MAX_GROUP {
                    return Err(self.err(
                        "world.parents",
                        format!("{pa}: at most {} parents (they form one peer group)", world::MAX_GROUP),
                    ));
                }
                let strip = wd.div_ceil(pa) as u128 * ht as u128;
                if pa <= wd && strip > world::MAX_GROUP as u128 {
                    return Err(self.err(
                        "world.height",
                        format!(
                            "{ht} rows: a parent's strip of {} columns would hold {strip} districts, and a peer group (same parent and level) may have at most {} units; use fewer rows or more parents",
                            wd.div_ceil(pa),
                            world::MAX_GROUP
                        ),
                    ));
                }
            }
            "china-real" | "us-states" => {}
            _ => {
                let Some(units) = &w.units else {
                    return Err(self.err("world.units", "a `file` world needs `units = \"units.csv\"`"));
                };
                for (f, p) in [("world.units", Some(units)), ("world.edges", w.edges.as_ref())] {
                    let Some(p) = p else { continue };
                    if p.as_os_str().is_empty() {
                        return Err(self.err(f, "is empty: give the path of a CSV file, relative to the scenario"));
                    }
                    let full = self.resolve(p);
                    if !full.is_file() {
                        return Err(self.err(f, format!("no file at {}", full.display())));
                    }
                }
            }
        }
        Ok(())
    }

    /// The world's size reckoned from the scenario's numbers alone, before anything is built:
    /// units, neighbour links (both directions) and the field that sets most of it. A file
    /// world counts the lines of its files (an upper bound).
    pub fn planned(&self) -> Result<Planned, InputError> {
        let w = &self.spec.world;
        let lines = |f: &str, p: Option<&Path>| -> Result<u64, InputError> {
            let Some(p) = p else { return Ok(0) };
            let full = self.resolve(p);
            let file = std::fs::File::open(&full).map_err(|e| self.err(f, format!("cannot read {}: {e}", full.display())))?;
            let mut r = std::io::BufReader::with_capacity(1 << 16, file);
            let mut n = 1u64;
            loop {
                use std::io::BufRead;
                let buf = r
                    .fill_buf()
                    .map_err(|e| self.err(f, format!("cannot read {}: {e}", full.display())))?;
                if buf.is_empty() {
                    return Ok(n);
                }
                n += buf.iter().filter(|&&b| b == b'\n').count() as u64;
                let len = buf.len();
                r.consume(len);
            }
        };
        Ok(match w.kind.as_str() {
            "china" => {
                let counts = [
                    ("world.provinces", w.provinces.unwrap_or(31) as u64),
                    ("world.prefectures", w.prefectures.unwrap_or(333) as u64),
                    ("world.counties", w.counties.unwrap_or(2844) as u64),
                ];
                let units = counts.iter().map(|c| c.1).sum::<u64>();
                let field = counts.iter().max_by_key(|c| c.1).map_or("world.counties", |c| c.0);
                Planned {
                    units,
                    links: units.saturating_mul(2 * w.neighbours.unwrap_or(6) as u64),
                    field: field.to_string(),
                }
            }
            "grid" => {
                let (wd, ht) = (w.width.unwrap_or(6) as u64, w.height.unwrap_or(6) as u64);
                let pa = w.parents.unwrap_or(3) as u64;
                Planned {
                    units: wd.saturating_mul(ht).saturating_add(pa),
                    links: wd.saturating_mul(ht).saturating_mul(4).saturating_add(2 * pa),
                    field: (if wd >= ht { "world.width" } else { "world.height" }).to_string(),
                }
            }
            "china-real" => Planned {
                units: world::china_real::UNITS_COUNT,
                links: 2 * world::china_real::EDGES_COUNT,
                field: "world.kind".to_string(),
            },
            "us-states" => Planned {
                units: world::us_states::UNITS_COUNT,
                links: 2 * world::us_states::EDGES_COUNT,
                field: "world.kind".to_string(),
            },
            _ => Planned {
                units: lines("world.units", w.units.as_deref())?,
                links: 2 * lines("world.edges", w.edges.as_deref())?,
                field: "world.units".to_string(),
            },
        })
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
            "china-real" => world::china_real(&draws),
            "us-states" => world::us_states(&draws),
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
        // A unit the scenario names: by id, or by a name that one unit has.
        let unit = |model: &Model, key: &str, field: &str| -> Result<usize, InputError> {
            model.world.lookup(key).map_err(|ids| {
                if ids.is_empty() {
                    self.err(field, format!("no unit named `{key}` in the world"))
                } else {
                    self.err(
                        field,
                        format!("{} units are named `{key}` (ids {}); name one by its id", ids.len(), ids.join(", ")),
                    )
                }
            })
        };
        // The units a selector (`all`/`centre`, `unit:NAME`, `level:N`) reaches.
        let reach = |model: &Model, text: &str, all: &str, field: &str| -> Result<Vec<bool>, InputError> {
            let w = &model.world;
            Ok(match Reach::parse(text, all) {
                Some(Reach::All) | None => vec![true; n],
                Some(Reach::Under(name)) => {
                    let u = unit(model, name, field)?;
                    (0..n).map(|i| w.is_under(i, u)).collect()
                }
                Some(Reach::Level(lv)) => {
                    let levels = w.n_levels();
                    if lv as usize >= levels {
                        return Err(self.err(field, format!("`{text}`: the world has levels 0 to {}", levels.saturating_sub(1))));
                    }
                    w.level.iter().map(|&l| l == lv).collect()
                }
            })
        };
        for (mi, m) in s.mandate.iter().enumerate() {
            let under = reach(&model, &m.issuer, "centre", &format!("mandate[{mi}].issuer"))?;
            for i in (0..n).filter(|&i| under[i]) {
                model.mandate_mask[i] |= 1 << mi;
            }
        }
        if let Some(p) = &s.world.population {
            let inside = reach(&model, p, "all", "world.population")?;
            if !inside.contains(&true) {
                return Err(self.err("world.population", format!("`{p}` holds no unit of the world")));
            }
            model.set_population(|i| inside[i]);
        }
        // A unit a lever names must be one that can adopt.
        let member = |model: &Model, key: &str, field: &str| -> Result<usize, InputError> {
            let u = unit(model, key, field)?;
            if !model.member[u] {
                let p = s.world.population.as_deref().unwrap_or_default();
                return Err(self.err(
                    field,
                    format!("`{key}` is outside the population (world.population = \"{p}\"), which alone adopts"),
                ));
            }
            Ok(u)
        };
        for (pi, p) in s.pilot.iter().enumerate() {
            for name in &p.units {
                let u = member(&model, name, &format!("pilot[{pi}].units"))?;
                model.pilot_mask[u] |= 1 << pi;
            }
        }
        for (ai, a) in s.adopted.iter().enumerate() {
            let u = member(&model, &a.unit, &format!("adopted[{ai}].unit"))?;
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
            let i = unit(&model, &u.name, &format!("unit[{ui}].name"))?;
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
                closed: q16(inn.closed),
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

/// Turn a TOML error into one naming the file, the line and the field, in words a user reads.
/// A TOML error at its line, with the key (and table) on that line as the field.
pub fn toml_error(path: &Path, source: &str, e: &toml::de::Error) -> InputError {
    let raw = e.message().trim().replace('\n', "; ");
    let line = e
        .span()
        .map(|span| source[..span.start.min(source.len())].matches('\n').count() + 1);
    let text = line.and_then(|l| source.lines().nth(l - 1)).unwrap_or("");
    let message = if raw.contains("untagged enum Schedule") {
        "a schedule is a number from 0 to 1, or a list of [month, value] pairs from month 0 on, e.g. [[0, 0.3], [24, 0.6]]".to_string()
    } else if raw.is_empty() {
        // toml says nothing for a stray control character or a key without a value.
        match text.char_indices().find(|&(_, c)| c.is_control() && c != '\t') {
            Some((at, c)) => format!(
                "a control character (U+{:04X}) at column {}; remove it",
                c as u32,
                text[..at].chars().count() + 1
            ),
            None if strip_comment(text).trim_end().ends_with('=') => "no value after `=`".to_string(),
            None => "cannot read this line as TOML: write `key = value`, a `[table]` header or a `# comment`".to_string(),
        }
    } else {
        raw
    };
    if message == "missing field `world`" {
        return InputError::new("the scenario needs a [world] table, e.g. [world] kind = \"china\" (china, grid or file)")
            .file(path)
            .field("world");
    }
    if let Some(name) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
        let mut err = InputError::new(format!("is missing: add `{name} = …`")).file(path);
        return match missing_at(source, name) {
            Some((l, field)) => err.line(l).field(field),
            None => {
                err = err.field(name);
                err
            }
        };
    }
    let mut err = InputError::new(message.clone()).file(path);
    if let Some(line) = line {
        err = err.line(line);
        match field_on_line(source, line) {
            Some(field) => err = err.field(field),
            // Text that sets no field: say where on the line.
            None if !message.contains("column") => {
                let start = e.span().map_or(0, |s| s.start.min(source.len()));
                let line_start = source[..start].rfind('\n').map_or(0, |p| p + 1);
                let column = source[line_start..start].chars().count() + 1;
                err.message = format!("{message} (at column {column})");
            }
            None => {}
        }
    }
    err
}

/// The field a line of TOML sets (`table.key`), or the table it sits in.
pub fn field_on_line(source: &str, line: usize) -> Option<String> {
    let text = strip_comment(source.lines().nth(line.checked_sub(1)?)?);
    let table = table_at(source, line);
    let t = text.trim_start();
    if t.starts_with('[') {
        // A header: the table it opens.
        let h = path_of(t.trim_start_matches('[').split(']').next().unwrap_or(""));
        return (!h.is_empty()).then_some(h);
    }
    let key = t.split_once('=').map(|(k, _)| path_of(k)).filter(|k| !k.is_empty());
    match (key, table.is_empty()) {
        (Some(k), true) => Some(k),
        (Some(k), false) => Some(format!("{table}.{k}")),
        (None, false) => Some(table),
        (None, true) => None,
    }
}

/// A dotted key with its parts trimmed and unquoted.
fn path_of(text: &str) -> String {
    text.split('.')
        .map(|k| k.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

/// Where a required `key` is missing: the header line of the first table entry that needs it and
/// lacks it, with the field as `table[i].key` (or `table.key`).
fn missing_at(source: &str, key: &str) -> Option<(usize, String)> {
    // Tables whose entries need the key (scenario and sweep files).
    const NEEDS: &[(&str, &[&str])] = &[
        ("world", &["kind"]),
        ("innovation", &["name"]),
        ("mandate", &["issuer", "month", "deadline"]),
        ("pilot", &["units", "month"]),
        ("adopted", &["unit", "quality"]),
        ("unit", &["name"]),
    ];
    // Entries: (header line, table, index among its name, array?, has the key).
    let mut entries: Vec<(usize, String, usize, bool, bool)> = Vec::new();
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for (n, text) in source.lines().enumerate() {
        let t = strip_comment(text).trim();
        if t.starts_with('[') {
            let array = t.starts_with("[[");
            let name = path_of(t.trim_matches(|c| c == '[' || c == ']'));
            let c = count.entry(name.clone()).or_insert(0);
            entries.push((n + 1, name, *c, array, false));
            *c += 1;
        } else if let Some((k, _)) = t.split_once('=') {
            if let Some(e) = entries.last_mut() {
                if path_of(k) == key {
                    e.4 = true;
                }
            }
        }
    }
    entries
        .iter()
        .find(|e| !e.4 && NEEDS.iter().any(|(t, keys)| *t == e.1 && keys.contains(&key)))
        .map(|(line, table, i, array, _)| {
            let field = if *array {
                format!("{table}[{i}].{key}")
            } else {
                format!("{table}.{key}")
            };
            (*line, field)
        })
}

/// A line without its `# comment` (a `#` inside a string stays).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// The `[table]` or `[[array]]` header in force at 1-based `line` (without brackets, comments
/// or quotes; an array's entry as `array[i]`).
fn table_at(source: &str, line: usize) -> String {
    let mut table = String::new();
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for text in source.lines().take(line) {
        let t = strip_comment(text).trim();
        if t.starts_with('[') {
            let name = path_of(t.trim_matches(|c| c == '[' || c == ']'));
            table = if t.starts_with("[[") {
                let c = count.entry(name.clone()).or_insert(0);
                *c += 1;
                format!("{name}[{}]", *c - 1)
            } else {
                name
            };
        }
    }
    table
}

/// The 1-based line that sets `field` (`key`, `table.key` or `array[i].key`) in `source`.
pub fn locate(source: &str, field: &str) -> Option<usize> {
    // `mandate[1].issuer` → table `mandate`, its 2nd entry, key `issuer`; `params.rho` → no
    // entry, key path `params.rho` from the top.
    let (array, index, key) = match field.split_once('[') {
        Some((name, rest)) => {
            let (i, k) = rest.split_once(']').unwrap_or((rest, ""));
            (
                Some(name.to_string()),
                i.parse::<usize>().unwrap_or(0),
                k.trim_start_matches('.').to_string(),
            )
        }
        None => (None, 0, field.to_string()),
    };
    let path = |text: &str| -> String {
        text.split('.')
            .map(|k| k.trim().trim_matches('"').trim_matches('\''))
            .collect::<Vec<_>>()
            .join(".")
    };
    // The table the key sits in (for an absent key, its header is the nearest place).
    let table_of = |k: &str| k.rsplit_once('.').map(|(t, _)| t.to_string());
    let header_for = match &array {
        Some(a) => Some(a.clone()),
        None => table_of(&key),
    };
    let mut current = String::new();
    let mut current_is_array = false;
    let mut seen: std::collections::HashMap<String, usize> = Default::default();
    let mut header_line = None;
    for (n, text) in source.lines().enumerate() {
        let t = strip_comment(text).trim();
        if let Some(h) = t.strip_prefix("[[") {
            current = path(h.trim_end_matches(']'));
            current_is_array = true;
            let c = seen.entry(current.clone()).or_insert(0);
            *c += 1;
            if array.as_deref() == Some(current.as_str()) && *c == index + 1 {
                header_line = Some(n + 1);
            }
            continue;
        }
        if let Some(h) = t.strip_prefix('[') {
            current = path(h.trim_end_matches(']'));
            current_is_array = false;
            if array.is_none() && (header_for.as_deref() == Some(current.as_str()) || current == key) {
                header_line = Some(n + 1);
            }
            continue;
        }
        let Some((k, _)) = t.split_once('=') else { continue };
        let k = path(k);
        let found = match &array {
            Some(a) => current_is_array && *a == current && seen.get(&current) == Some(&(index + 1)) && k == key,
            None if current_is_array => false,
            None if current.is_empty() => k == key,
            None => format!("{current}.{k}") == key,
        };
        if found {
            return Some(n + 1);
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
        assert_eq!(locate(src, "world"), Some(2));
        // Dotted and quoted keys, comments after headers.
        let src =
            "months = 3\nparams.rho = 0.5\n[world] # the map\n\"kind\" = \"grid\"\n[[innovation]]\nname = \"a\"\nsignal = 0.5 # note\n";
        assert_eq!(locate(src, "params.rho"), Some(2));
        assert_eq!(locate(src, "world.kind"), Some(4));
        assert_eq!(locate(src, "innovation[0].signal"), Some(7));
        assert_eq!(locate(src, "innovation[0].rungs"), Some(5));
        assert_eq!(locate(src, "world.width"), Some(3));
    }
}
