//! The classroom game: one run of a scenario stepped month by month on the CPU, students' policies
//! for the units they hold applied at month boundaries and logged, so a class replays to the bit.

use crate::model::fixed::{to_f64, ONE};
use crate::model::params::{Params, MAX_LEVERS, NEVER};
pub use crate::model::play::{replay, step_month, Decision, Lever, Log, Pull};
use crate::model::trace::{Event, EventLog, Policy};
use crate::model::{agg, init_batch, Model, RunId};
use crate::scenario::Scenario;
use crate::state::BatchState;

/// The refusal of a join with another class's code.
pub const WRONG_CODE: &str = "that is not this class's code";

/// Most students in one class.
pub const MAX_STUDENTS: usize = 200;
pub use super::names::MAX_NAME;

/// A student and the unit they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// Order of joining, from 0: decisions of one month apply in this order.
    pub id: u32,
    pub name: String,
    /// The SHA-256 of the student's token, as hex: the token itself is only in their browser.
    pub token_hash: String,
    pub unit: usize,
}

/// Why a request was refused (said to the client, and logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// A leader ranked at the end of a term: who, when, the verdict and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Ranking {
    pub month: u32,
    pub unit: usize,
    pub name: String,
    /// The student holding the unit then.
    pub student: Option<String>,
    pub promoted: bool,
    pub score: f64,
    /// The score's parts: performance gained, credit, legitimacy (each weighted).
    pub performance: f64,
    pub credit: f64,
    pub legitimacy: f64,
    /// 1 + the peers scoring higher, of `peers`; the top `rho` of a group are promoted.
    pub rank: u32,
    pub peers: u32,
    /// Rungs of the class's innovation reached then.
    pub depth: u32,
}

impl Ranking {
    /// Why, in a sentence.
    pub fn why(&self, rho: f64) -> String {
        // Two decimals, without a "-0.00".
        let two = |x: f64| if x.abs() < 0.005 { 0.0 } else { x };
        format!(
            "{} rank {} of {} (the top {:.0} % go up); score {:.2} = credit {:.2} + legitimacy {:.2} + performance gained {:.2}; {} rung{}",
            if self.promoted { "promoted:" } else { "not promoted:" },
            self.rank,
            self.peers,
            rho * 100.0,
            two(self.score),
            two(self.credit),
            two(self.legitimacy),
            two(self.performance),
            self.depth,
            if self.depth == 1 { "" } else { "s" }
        )
    }
}

/// One event of a student's unit, as their trace shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TraceLine {
    pub month: u32,
    pub student: u32,
    pub unit: usize,
    pub what: String,
    pub legitimacy: f64,
    pub backing: f64,
    pub rung: u32,
}

/// The game.
pub struct Classroom {
    pub scenario: Scenario,
    pub model: Model,
    pub params: Params,
    pub seed: u64,
    id: RunId,
    state: BatchState,
    /// Month records of the months run so far, `[month - 1]`.
    records: Vec<Vec<u32>>,
    /// Months run so far.
    pub month: u32,
    policy: Vec<Policy>,
    /// Decisions and levers waiting for the next month, and those applied.
    pending: Vec<Decision>,
    levers: Vec<Lever>,
    pub log: Log,
    /// The students in the class now (a removed student is gone from here).
    pub students: Vec<Student>,
    /// Every student's name by id, removed ones included: the decision log names them.
    pub names: Vec<String>,
    /// No new joins while the teacher has locked the class.
    pub locked: bool,
    /// What a student types to join.
    pub code: String,
    /// The model's band for this scenario and seed, with no players: the share adopted month by
    /// month over the scenario's replicates (median, 5 %, 95 %), as `pioneer run` gives it.
    pub band: (Vec<f64>, Vec<f64>, Vec<f64>),
    /// What happened lately, newest last: adoptions, complete ladders, promotions, recognitions.
    pub events: Vec<String>,
    /// Every ranking of a student's unit and every promotion, in order.
    pub rankings: Vec<Ranking>,
    /// Every event of a student's unit while they held it, in order.
    pub traces: Vec<TraceLine>,
    /// Each unit's rank among its peers by promotion score (1 the best), and its peer group's
    /// size, as of the month run last: a student's view reads them, not every peer's score.
    ranks: Vec<u32>,
    peers: Vec<u32>,
}

/// Most recent events kept.
const EVENTS: usize = 50;

/// The model's band: the scenario's replicates of `seed` on the CPU, no players.
fn band(sc: &Scenario, m: &Model, prm: &Params, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let ids: Vec<RunId> = (0..sc.spec.replicates.clamp(1, 64)).map(|r| RunId::new(seed, 0, r)).collect();
    let months = sc.spec.months;
    let Ok(out) = crate::app::run::run_chunked(&crate::backend::cpu::Cpu::default(), m, &[*prm], &ids, months, ids.len(), &|_| {}) else {
        return (Vec::new(), Vec::new(), Vec::new());
    };
    let n = m.population() as f64;
    let share: Vec<Vec<f64>> = (0..ids.len())
        .map(|r| (1..=months).map(|t| out.record(r, t)[agg::ADOPTERS] as f64 / n).collect())
        .collect();
    crate::plot::quantiles(&share)
}

/// A lever in words, for the events and the report.
pub fn lever_text(lever: &Lever, names: &[String]) -> String {
    match lever {
        Lever::Space(v) => format!("institutional space set to {:.2}", to_f64(*v)),
        Lever::Signal(v) => format!("upper signal set to {:.2}", to_f64(*v)),
        Lever::Mandate { depth, months } => format!("a mandate: every unit to rung {depth} within {months} months"),
        Lever::Pilot(units) => {
            let named: Vec<&str> = units.iter().filter_map(|&u| names.get(u as usize)).map(String::as_str).collect();
            format!("a pilot in {}", named.join(", "))
        }
        Lever::Recognise => "a recognition now".to_string(),
    }
}

impl Classroom {
    /// A class on `sc` (run 0 of `seed`), its join code `code`.
    pub fn new(sc: Scenario, seed: u64, code: String) -> Result<Classroom, crate::error::InputError> {
        let (model, params) = sc.build()?;
        let id = RunId::new(seed, 0, 0);
        let state = init_batch(&model, &[params], &[id]);
        let n = model.world.len();
        let band = band(&sc, &model, &params, seed);
        let mut c = Classroom {
            band,
            events: Vec::new(),
            scenario: sc,
            model,
            params,
            seed,
            id,
            state,
            records: Vec::new(),
            month: 0,
            policy: vec![Policy::default(); n],
            pending: Vec::new(),
            levers: Vec::new(),
            log: Log::default(),
            students: Vec::new(),
            names: Vec::new(),
            locked: false,
            code,
            rankings: Vec::new(),
            traces: Vec::new(),
            ranks: Vec::new(),
            peers: Vec::new(),
        };
        c.rank_units();
        Ok(c)
    }

    /// Rank every unit among its peers (its group) by score, as `unit_view` shows it: one more
    /// than the peers that score higher.
    fn rank_units(&mut self) {
        let w = &self.model.world;
        let st = &self.state;
        let score = |i: usize| crate::model::rules::score(&self.params, st.p[i], st.p0[i], st.credit[i], st.l[i]);
        let groups = w.group.iter().map(|&g| g as usize + 1).max().unwrap_or(0);
        let mut by_group: Vec<Vec<i32>> = vec![Vec::new(); groups];
        for i in 0..w.len() {
            by_group[w.group[i] as usize].push(score(i));
        }
        by_group.iter_mut().for_each(|g| g.sort_unstable_by(|a, b| b.cmp(a)));
        (self.ranks, self.peers) = (0..w.len())
            .map(|i| {
                let g = &by_group[w.group[i] as usize];
                let mine = score(i);
                (1 + g.partition_point(|&s| s > mine) as u32, g.len() as u32)
            })
            .unzip();
    }

    /// Months the scenario runs.
    pub fn months(&self) -> u32 {
        self.scenario.spec.months
    }

    /// Start again from month 0 with `seed`; the students keep their units (`keep`) or leave the
    /// class, and their policies are cleared.
    pub fn reset(&mut self, seed: u64, keep: bool) {
        if !keep {
            self.students.clear();
        }
        // The teacher's levers went into the model and parameters: back to the scenario's.
        if let Ok((model, params)) = self.scenario.build() {
            (self.model, self.params) = (model, params);
        }
        self.seed = seed;
        self.id = RunId::new(seed, 0, 0);
        self.state = init_batch(&self.model, &[self.params], &[self.id]);
        self.records.clear();
        self.month = 0;
        self.policy.iter_mut().for_each(|p| *p = Policy::default());
        self.pending.clear();
        self.levers.clear();
        self.log = Log::default();
        self.events.clear();
        self.rankings.clear();
        self.traces.clear();
        self.band = band(&self.scenario, &self.model, &self.params, seed);
        self.rank_units();
    }

    /// A new student `name` with the code `code` takes `unit` (None: the free unit of the lowest
    /// index at the lowest level present among districts), holding `token`.
    pub fn join(&mut self, code: &str, name: &str, unit: Option<usize>, token: &str) -> Result<&Student, Refusal> {
        if code.trim() != self.code {
            return Err(Refusal(WRONG_CODE.into()));
        }
        if self.locked {
            return Err(Refusal("the class is locked: the teacher lets no one new in now".into()));
        }
        let name = super::names::check(name, self.students.iter().map(|s| s.name.as_str()))?;
        if self.students.len() >= MAX_STUDENTS {
            return Err(Refusal(format!("the class is full ({MAX_STUDENTS} students)")));
        }
        let held = |u: usize| self.students.iter().any(|s| s.unit == u);
        let unit = match unit {
            Some(u) => {
                self.playable(u)?;
                if held(u) {
                    return Err(Refusal(format!("unit {u} is taken")));
                }
                u
            }
            None => (0..self.model.world.len())
                .find(|&u| self.playable(u).is_ok() && !held(u))
                .ok_or_else(|| Refusal("every unit is taken".into()))?,
        };
        let id = self.names.len() as u32;
        self.names.push(name.clone());
        self.students.push(Student {
            id,
            name,
            token_hash: super::access::digest(token),
            unit,
        });
        Ok(&self.students[self.students.len() - 1])
    }

    /// The teacher removes student `id`: their unit follows the model again from the next month
    /// and is free for another; their token no longer joins.
    pub fn remove(&mut self, id: u32) -> Result<Student, Refusal> {
        let at = self
            .students
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| Refusal(format!("there is no student {id}")))?;
        let s = self.students.remove(at);
        self.pending.retain(|d| d.student != id);
        if self.policy[s.unit] != Policy::default() {
            self.pending.push(Decision {
                month: self.month + 1,
                student: id,
                unit: s.unit,
                policy: Policy::default(),
            });
        }
        Ok(s)
    }

    /// Whether students may play unit `u`: a unit of the world's lowest level (the districts of
    /// the classroom grid; never the city above them, which the model plays).
    pub fn playable(&self, u: usize) -> Result<(), Refusal> {
        let level = &self.model.world.level;
        let deepest = level.iter().copied().max().unwrap_or(0);
        match level.get(u) {
            None => Err(Refusal(format!("there is no unit {u}"))),
            Some(&l) if l != deepest => Err(Refusal(format!(
                "unit {u} ({}) is at level {l}: students play the units of level {deepest}",
                self.model.world.names[u]
            ))),
            Some(_) if !self.model.member[u] => Err(Refusal(format!(
                "unit {u} ({}) is outside the scenario's population: it never adopts",
                self.model.world.names[u]
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The student holding `token`.
    pub fn student(&self, token: &str) -> Option<&Student> {
        let hash = super::access::digest(token);
        self.students.iter().find(|s| super::access::same(&s.token_hash, &hash))
    }

    /// The student holding `token` sets their unit's policy, from the next month on.
    pub fn choose(&mut self, token: &str, policy: Policy) -> Result<(), Refusal> {
        let s = self.student(token).ok_or_else(|| Refusal("unknown student".into()))?;
        if policy.publicity.is_some_and(|m| m > ONE) {
            return Err(Refusal("publicity is from 0 to 1".into()));
        }
        if let crate::model::trace::Learn::Unit(u) = policy.learn {
            if u as usize >= self.model.world.len() {
                return Err(Refusal(format!("there is no unit {u} to learn from")));
            }
        }
        let d = Decision {
            month: self.month + 1,
            student: s.id,
            unit: s.unit,
            policy,
        };
        // The last choice of a month stands.
        self.pending.retain(|p| p.student != d.student || p.unit != d.unit);
        self.pending.push(d);
        Ok(())
    }

    /// The decision log as CSV (`model::play::read_log` reads it back).
    pub fn log_csv(&self) -> String {
        crate::model::play::write_log(&self.log, |id| self.names.get(id as usize).map_or("", String::as_str))
    }

    /// The teacher pulls `lever` before the next month. Mandates and pilots share the run's
    /// table of `MAX_LEVERS` (8) with the scenario's own: one more is refused, saying why, so the
    /// log never holds a lever that its replay could not pull.
    pub fn lever(&mut self, lever: Lever) -> Result<(), Refusal> {
        let queued = |name: &str| self.levers.iter().filter(|l| l.name() == name).count();
        let in_force = match &lever {
            Lever::Mandate { .. } => Some(self.params.n_mandates as usize),
            Lever::Pilot(_) => Some(self.params.n_pilots as usize),
            _ => None,
        };
        if let Some(n) = in_force {
            let waiting = queued(lever.name());
            if n + waiting >= MAX_LEVERS {
                let name = lever.name();
                return Err(Refusal(format!(
                    "no room for another {name}: a run holds at most {MAX_LEVERS} {name}s, the scenario's own included ({n} in force{}), and the decision log must replay the class",
                    if waiting > 0 { format!(", {waiting} waiting for the next month") } else { String::new() }
                )));
            }
        }
        if let Lever::Pilot(units) = &lever {
            if let Some(u) = units.iter().find(|&&u| u as usize >= self.model.world.len()) {
                return Err(Refusal(format!("there is no unit {u}")));
            }
            if let Some(u) = units.iter().find(|&&u| !self.model.member[u as usize]) {
                return Err(Refusal(format!("unit {u} is outside the scenario's population: it never adopts")));
            }
        }
        // A second space or signal in the same month replaces the first.
        if matches!(lever, Lever::Space(_) | Lever::Signal(_)) {
            self.levers.retain(|l| l.name() != lever.name());
        }
        if lever != Lever::Recognise || !self.levers.contains(&Lever::Recognise) {
            self.levers.push(lever);
        }
        Ok(())
    }

    /// The policy the student holding `token` chose for the next month, if any.
    pub fn pending_decision(&self, token: &str) -> Option<Policy> {
        let s = self.student(token)?;
        self.pending
            .iter()
            .rev()
            .find(|d| d.student == s.id && d.unit == s.unit)
            .map(|d| d.policy)
    }

    /// The levers waiting for the next month.
    pub fn pending_levers(&self) -> &[Lever] {
        &self.levers
    }

    /// The decisions waiting for the next month, in the order made.
    pub fn pending_decisions(&self) -> &[Decision] {
        &self.pending
    }

    /// Queue decision `d` for the next month as it stands (a resumed class's log, checked by
    /// its reader).
    pub fn queue(&mut self, d: Decision) {
        self.pending.push(d);
    }

    /// A fingerprint of every month's record so far (FNV-1a, hex): a resumed class is checked
    /// against the one saved.
    pub fn records_fnv(&self) -> String {
        let mut h = crate::experiment::Fnv::default();
        for r in &self.records {
            let bytes: Vec<u8> = r.iter().flat_map(|x| x.to_le_bytes()).collect();
            h.add(&bytes);
        }
        format!("{:016x}", h.0)
    }

    /// The teacher moves student `id` to the free unit `unit`: the student's policy goes with
    /// them (from the next month), and the unit they leave follows the model again.
    pub fn assign(&mut self, id: u32, unit: usize) -> Result<(), Refusal> {
        self.playable(unit)?;
        if self.students.iter().any(|s| s.unit == unit) {
            return Err(Refusal(format!("unit {unit} is taken")));
        }
        let s = self
            .students
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| Refusal(format!("there is no student {id}")))?;
        let old = s.unit;
        s.unit = unit;
        let month = self.month + 1;
        let carried = self
            .pending
            .iter()
            .rev()
            .find(|d| d.student == id)
            .map_or(self.policy[old], |d| d.policy);
        self.pending.retain(|d| d.student != id);
        // The old unit back to the model, then the student's policy on the new one.
        self.pending.push(Decision {
            month,
            student: id,
            unit: old,
            policy: Policy::default(),
        });
        self.pending.push(Decision {
            month,
            student: id,
            unit,
            policy: carried,
        });
        Ok(())
    }

    /// The policy in force for `unit`.
    pub fn policy(&self, unit: usize) -> Policy {
        self.policy[unit]
    }

    /// Run the next month (false when the run is over): the pending decisions first, in student
    /// order, then publicity set, then the month.
    pub fn step(&mut self) -> bool {
        if self.month >= self.months() {
            return false;
        }
        let t = self.month + 1;
        let mut recognise = false;
        for lever in std::mem::take(&mut self.levers) {
            match crate::model::play::pull(&mut self.model, &mut self.params, t, &lever) {
                Ok(r) => recognise |= r,
                // Checked when queued, so a full table here would be a bug: the lever is not
                // logged, as it did not act (and `read_log` refuses a log that holds one).
                Err(why) => {
                    self.events
                        .push(format!("month {t}: the teacher's {} was not pulled: {why}", lever.name()));
                    continue;
                }
            }
            self.events
                .push(format!("month {t}: the teacher: {}", lever_text(&lever, &self.model.world.names)));
            self.log.levers.push(Pull { month: t, lever });
        }
        // In student order; a student's own moves (a reassignment) in the order made.
        self.pending.sort_by_key(|d| d.student);
        for d in self.pending.drain(..) {
            self.policy[d.unit] = d.policy;
            self.log.decisions.push(d);
        }
        let (rec, log) = step_month(
            &self.model,
            &self.params,
            self.id.key,
            &mut self.state,
            &self.policy,
            t,
            recognise,
            EventLog::default(),
        );
        self.records.push(rec);
        for e in &log.events {
            self.keep(e);
        }
        let extra = self.events.len().saturating_sub(EVENTS);
        self.events.drain(..extra);
        self.month = t;
        self.rank_units();
        true
    }

    /// Keep `e` for the latest events (the notable ones), the rankings and the students' traces.
    fn keep(&mut self, e: &Event) {
        let unit = e.unit as usize;
        let student = self.students.iter().find(|s| s.unit == unit);
        let notable = ["adopted", "completed", "leader: promoted"].iter().any(|w| e.what.starts_with(w)) || e.what.contains("recogni");
        if notable {
            let who = student.map(|s| format!(" ({})", s.name)).unwrap_or_default();
            self.events
                .push(format!("month {}: {}{who} {}", e.month, self.model.world.names[unit], e.what));
        }
        let ranked = e.what.starts_with("leader: promoted") || e.what.starts_with("leader: term ended");
        if ranked && (student.is_some() || e.what.starts_with("leader: promoted")) {
            let q = |x: i32| x as f64 / ONE as f64;
            self.rankings.push(Ranking {
                month: e.month,
                unit,
                name: self.model.world.names[unit].clone(),
                student: student.map(|s| s.name.clone()),
                promoted: e.what.starts_with("leader: promoted"),
                score: q(e.score),
                performance: q(e.parts[0]),
                credit: q(e.parts[1]),
                legitimacy: q(e.parts[2]),
                rank: e.higher + 1,
                peers: e.peers,
                depth: self.state.depth[unit],
            });
        }
        if let Some(s) = student {
            self.traces.push(TraceLine {
                month: e.month,
                student: s.id,
                unit,
                what: e.what.to_string(),
                legitimacy: to_f64(e.legitimacy),
                backing: to_f64(e.backing),
                rung: e.rung,
            });
        }
    }

    /// The class rebuilt from the scenario and its log alone (what `pioneer run --decisions`
    /// does): equal to `state()` when the log is whole.
    pub fn replayed(&self) -> BatchState {
        let (model, params) = self.scenario.build().expect("the class's scenario built once already");
        replay(&model, &params, self.seed, &self.log, self.month)
    }

    /// The record of month t (1-based).
    pub fn record(&self, t: u32) -> &[u32] {
        &self.records[t as usize - 1]
    }

    /// The run's state now.
    pub fn state(&self) -> &BatchState {
        &self.state
    }

    /// Share of the population's units that adopted innovation `k`, month by month.
    pub fn curve(&self, k: usize) -> Vec<f64> {
        let n = self.model.population() as f64;
        self.records
            .iter()
            .map(|r| r[k * agg::PER_INNOV + agg::ADOPTERS] as f64 / n)
            .collect()
    }

    /// Unit `i` of innovation 0: (adoption month, depth).
    pub fn unit_depth(&self, i: usize) -> (Option<u32>, u32) {
        let st = &self.state;
        let at = i;
        let m = st.adopt_month[at];
        (if m == NEVER { None } else { Some(m) }, st.depth[at])
    }

    /// Unit `i`'s promotion score now (credit, legitimacy and performance gained, as the
    /// tournament weighs them).
    pub fn score(&self, i: usize) -> f64 {
        let st = &self.state;
        let s = crate::model::rules::score(&self.params, st.p[i], st.p0[i], st.credit[i], st.l[i]);
        s as f64 / ONE as f64
    }

    /// What the unit knows, for its student's panel: its gap, incentive, backing, legitimacy,
    /// publicity, stage and depth, and its neighbours' depths.
    pub fn unit_view(&self, i: usize) -> serde_json::Value {
        let st = &self.state;
        // The class is one run: its state's arrays are the unit's.
        let (inc, gap) = crate::model::trace::incentive_and_gap_of(&self.model, &self.params, [&st.p, &st.e, &st.ambition, &st.age], i);
        let nbrs: Vec<serde_json::Value> = self
            .model
            .world
            .neighbours(i)
            .iter()
            .map(|&j| {
                let (m, d) = self.unit_depth(j as usize);
                serde_json::json!({"name": self.model.world.names[j as usize], "adopted": m, "depth": d})
            })
            .collect();
        let (m, d) = self.unit_depth(i);
        // The designs in sight: adopting neighbours, the exemplar (seen in a month with chance
        // ν), the parent, and what the leader learned at the old post.
        let mut seen: Vec<(Vec<&str>, Option<usize>, u32, u32)> = Vec::new();
        let mut sight =
            |kind: &'static str, unit: Option<usize>, q: u32, d: u32| match seen.iter_mut().find(|s| unit.is_some() && s.1 == unit) {
                // One unit seen two ways (the exemplar that is also the parent) is listed once.
                Some(s) => s.0.push(kind),
                None => seen.push((vec![kind], unit, q, d)),
            };
        for &j in self.model.world.neighbours(i) {
            let j = j as usize;
            if st.adopt_month[j] != NEVER {
                sight("neighbour", Some(j), st.quality[j], st.depth[j]);
            }
        }
        let ex = st.ex_unit[0];
        if ex != NEVER && ex as usize != i {
            sight("exemplar", Some(ex as usize), st.ex_q[0], st.depth[ex as usize]);
        }
        let parent = self.model.world.parent[i];
        if parent != crate::world::NO_PARENT && st.adopt_month[parent as usize] != NEVER {
            let p = parent as usize;
            sight("parent", Some(p), st.quality[p], st.depth[p]);
        }
        if st.know_v[i] != 0 {
            sight("leader", None, st.know_q[i], st.know_d[i]);
        }
        let sources: Vec<serde_json::Value> = seen
            .iter()
            .map(|(kinds, unit, q, d)| {
                let name = unit.map_or("what your leader learned before", |u| self.model.world.names[u].as_str());
                serde_json::json!({"kind": kinds.join(" and "), "unit": unit, "name": name, "quality": to_f64(*q), "depth": d})
            })
            .collect();
        serde_json::json!({
            "unit": i,
            "name": self.model.world.names[i],
            "gap": to_f64(gap),
            "incentive": to_f64(inc),
            "backing": to_f64(st.b[i]),
            "legitimacy": to_f64(st.l[i]),
            "performance": to_f64(st.p[i]),
            "publicity": to_f64(st.mu[i]),
            "stage": crate::state::stage::NAMES[crate::state::process::stage(st.proc_[i]) as usize],
            "adopted": m,
            "depth": d,
            "rungs": self.params.innov[0].rungs,
            "neighbours": nbrs,
            "rank": self.ranks[i],
            "peers": self.peers[i],
            "term_left": self.params.term.saturating_sub(st.tenure[i]),
            "sources": sources,
            "policy": self.policy[i],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trace::Choice;

    fn class() -> Classroom {
        let sc = Scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scenarios/classroom.toml"
        )))
        .expect("classroom");
        Classroom::new(sc, 1, "ABCD".into()).expect("builds")
    }

    #[test]
    fn without_players_the_class_is_the_models_run() {
        let mut c = class();
        while c.step() {}
        let (model, prm) = c.scenario.build().expect("builds");
        let ids = [RunId::new(1, 0, 0)];
        let out = crate::app::run::run_chunked(&crate::backend::cpu::Cpu::default(), &model, &[prm], &ids, 240, 1, &|_| {}).expect("runs");
        assert_eq!(&out.state, c.state());
        assert_eq!(out.record(0, 240), c.record(240));
    }

    #[test]
    fn students_join_choose_and_the_log_replays_the_class() {
        let mut c = class();
        assert!(c.join("WXYZ", "Ann", None, "t0").is_err());
        let a = c.join("ABCD", "Ann", None, "t0").expect("joins").unit;
        let b = c.join("ABCD", "Bo", None, "t1").expect("joins").unit;
        assert_ne!(a, b);
        assert!(c.join("ABCD", "Cy", Some(a), "t2").is_err(), "a held unit");
        assert!(c.join("ABCD", "", None, "t2").is_err());
        let eager = Policy {
            agenda: Choice::Yes,
            invent: Choice::No,
            learn: crate::model::trace::Learn::Neighbour,
            push: Choice::Yes,
            publicity: Some(ONE),
        };
        let never = Policy {
            agenda: Choice::No,
            ..Policy::default()
        };
        for t in 0..120 {
            if t == 3 {
                c.choose("t0", eager).expect("chooses");
                c.choose("t1", never).expect("chooses");
            }
            c.step();
        }
        assert!(c.choose("nobody", eager).is_err());
        assert_eq!(c.policy(a), eager);
        assert_eq!(c.state().mu[a], ONE, "publicity set");
        assert_eq!(c.unit_depth(b).0, None, "a unit that never takes up the need never adopts");
        assert_eq!(&c.replayed(), c.state(), "the log replays the class");
        let view = c.unit_view(a);
        assert_eq!(view["policy"]["agenda"], "yes");
        assert_eq!(view["policy"]["learn"], "neighbour");
    }

    fn played(levers: &[(u32, Lever)], months: u32) -> Classroom {
        let mut c = class();
        for t in 1..=months {
            for (_, l) in levers.iter().filter(|(at, _)| *at == t) {
                c.lever(l.clone()).expect("pulls");
            }
            c.step();
        }
        c
    }

    fn adopters(c: &Classroom, t: u32) -> u32 {
        c.record(t)[agg::ADOPTERS]
    }

    #[test]
    fn each_lever_moves_the_class_and_the_log_replays_it() {
        let alone = played(&[], 120);
        // No space: no need arises, so nobody adopts (the scenario seeds no design).
        let closed = played(&[(1, Lever::Space(0))], 120);
        assert_eq!(adopters(&closed, 120), 0);
        assert!(adopters(&alone, 120) > 0);
        // A strong signal from month 1 speeds the spread up.
        let signal = played(&[(1, Lever::Signal(ONE))], 120);
        assert!(
            adopters(&signal, 60) > adopters(&alone, 60),
            "{} vs {}",
            adopters(&signal, 60),
            adopters(&alone, 60)
        );
        // A mandate in month 13, depth 2 within 36 months: most units reach rung 2 by month 48.
        let mandate = played(&[(13, Lever::Mandate { depth: 2, months: 36 })], 60);
        let deep = |c: &Classroom| (0..c.model.world.len()).filter(|&i| c.unit_depth(i).1 >= 2).count();
        assert!(
            deep(&mandate) > deep(&played(&[], 60)) + 10,
            "{} vs {}",
            deep(&mandate),
            deep(&played(&[], 60))
        );
        // A pilot in month 2: every piloted unit that had not adopted is on the agenda then.
        let units = vec![3, 4, 5, 6];
        let pilot = played(&[(2, Lever::Pilot(units.clone()))], 2);
        for &u in &units {
            let stage = crate::state::process::stage(pilot.state().proc_[u as usize]);
            assert_ne!(stage, crate::state::stage::IDLE, "unit {u}");
        }
        // A recognition now, in month 118 (no window ends there): someone is recognised.
        let recog = played(&[(118, Lever::Recognise)], 120);
        let r = |c: &Classroom, t: u32| c.record(t)[agg::global_base(1) + agg::RECOGNITIONS];
        assert_eq!(r(&alone, 118), 0);
        assert!(r(&recog, 118) > 0);
        // The log, written and read back, replays each class.
        let dir = std::env::temp_dir().join(format!("pioneer-levers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        for c in [&closed, &signal, &mandate, &pilot, &recog] {
            assert_eq!(&c.replayed(), c.state());
            let path = dir.join("decisions.csv");
            std::fs::write(&path, c.log_csv()).expect("writes");
            let back =
                crate::model::play::read_log(&path, c.model.world.len(), &c.scenario.build().expect("builds").1, c.month).expect("reads");
            assert_eq!(back, c.log);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn levers_are_refused_when_the_table_is_full() {
        let mut c = class();
        for _ in 0..8 {
            c.lever(Lever::Mandate { depth: 1, months: 12 }).expect("room for 8");
        }
        let Err(Refusal(why)) = c.lever(Lever::Mandate { depth: 1, months: 12 }) else {
            panic!("a 9th mandate is refused")
        };
        assert!(why.contains("at most 8 mandates") && why.contains("8 waiting"), "{why}");
        assert!(c.lever(Lever::Pilot(vec![999])).is_err(), "no unit 999");
        c.step();
        assert_eq!(c.params.n_mandates, 8);
        assert_eq!(&c.replayed(), c.state());
    }

    /// Play `months` months of `c` through the teacher's socket messages, a mandate and a pilot
    /// tried every month: the replies, in order.
    fn pull_every_month(c: Classroom, months: u32) -> (Classroom, Vec<Result<serde_json::Value, Refusal>>) {
        use crate::serve::ws::{apply, Clock, Game, Msg, Role};
        let mut g = Game::new(
            c,
            Clock {
                running: false,
                months_per_second: 1.0,
            },
            "secret",
        );
        let mut role = Role::Teacher;
        let mut replies = Vec::new();
        let mut say = |g: &mut Game, text: String| {
            let m: Msg = serde_json::from_str(&text).expect("a message");
            replies.push(apply(g, &mut role, m, || "x".into()).map(|(v, _)| v));
        };
        for t in 0..months {
            say(&mut g, r#"{"type":"lever","lever":"mandate","value":"2 24"}"#.to_string());
            say(
                &mut g,
                format!(r#"{{"type":"lever","lever":"pilot","value":"{} {}"}}"#, t % 39, (t + 5) % 39),
            );
            say(&mut g, r#"{"type":"step"}"#.to_string());
        }
        (g.class, replies)
    }

    #[test]
    fn a_class_that_tried_a_ninth_mandate_is_refused_and_its_log_replays_to_the_same_bits() {
        // Two of the scenario's own: room for six of the teacher's each.
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/classroom.toml"));
        let own = "\n[[mandate]]\ninnovation = \"one-window service\"\nissuer = \"centre\"\nmonth = 30\ndeadline = 60\n";
        let pilot = "\n[[pilot]]\ninnovation = \"one-window service\"\nunits = [\"D1-1\"]\nmonth = 40\n";
        let dir = std::env::temp_dir().join(format!("pioneer-ninth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        for (extra, room) in [(String::new(), 8), (own.repeat(2) + &pilot.repeat(2), 6)] {
            let text = std::fs::read_to_string(path).expect("classroom") + &extra;
            let sc = Scenario::parse(path, text).expect("classroom");
            let (_, base) = sc.build().expect("builds");
            let (c, replies) = pull_every_month(Classroom::new(sc, 1, "ABCD".into()).expect("builds"), 12);
            // Months 1 to `room` take a mandate and a pilot; every later one is refused, saying why.
            for (t, r) in replies.chunks(3).enumerate() {
                let room_left = t < room;
                assert_eq!(r[0].is_ok(), room_left, "month {}: mandate {:?}", t + 1, r[0]);
                assert_eq!(r[1].is_ok(), room_left, "month {}: pilot {:?}", t + 1, r[1]);
                if !room_left {
                    for (reply, name) in [(&r[0], "mandates"), (&r[1], "pilots")] {
                        let Err(Refusal(why)) = reply else { unreachable!() };
                        assert!(why.contains(&format!("at most 8 {name}")), "{why}");
                        assert!(why.contains("8 in force"), "{why}");
                    }
                }
            }
            assert_eq!((c.params.n_mandates, c.params.n_pilots), (8, 8));
            // The log holds exactly what acted: the teacher's `room` mandates and pilots.
            let count = |name: &str| c.log.levers.iter().filter(|p| p.lever.name() == name).count();
            assert_eq!((count("mandate"), count("pilot")), (room, room));
            assert!(c.events.iter().all(|e| !e.contains("was not pulled")), "{:?}", c.events);
            // Written, read back and replayed: the class's bits, month by month.
            let file = dir.join("decisions.csv");
            std::fs::write(&file, c.log_csv()).expect("writes");
            let log = crate::model::play::read_log(&file, c.model.world.len(), &base, c.month).expect("reads");
            assert_eq!(log, c.log);
            let (model, prm) = c.scenario.build().expect("builds");
            let (records, state) = crate::model::play::replay_records(&model, &prm, c.seed, &log, c.month);
            assert_eq!(&state, c.state());
            let flat: Vec<u32> = (1..=c.month).flat_map(|t| c.record(t).to_vec()).collect();
            assert_eq!(records, flat);
            // The same log with one mandate more is refused at its line, not replayed short.
            let mut text = c.log_csv();
            text.push_str("12,,teacher,,,,,,,mandate,1 12\n");
            std::fs::write(&file, &text).expect("writes");
            let e = crate::model::play::read_log(&file, c.model.world.len(), &base, c.month).expect_err("a mandate too many");
            assert_eq!((e.line, e.field.as_deref()), (Some(text.lines().count()), Some("lever")), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn students_play_districts_under_names_of_their_own() {
        let mut c = class();
        let city = (0..c.model.world.len()).find(|&u| c.model.world.level[u] == 0).expect("the city");
        let Err(Refusal(why)) = c.join("ABCD", "Ann", Some(city), "t0") else {
            panic!("the city is the model's")
        };
        assert!(why.contains("students play the units of level"), "{why}");
        let ann = c.join("ABCD", " Ann ", None, "t1").expect("joins").clone();
        assert_eq!(ann.name, "Ann");
        assert_ne!(c.model.world.level[ann.unit], 0);
        for name in ["ann", "ANN", "teacher", "A\u{202E}nn"] {
            assert!(c.join("ABCD", name, None, "t2").is_err(), "{name:?} is refused");
        }
        assert!(c.assign(ann.id, city).is_err(), "nor can the teacher move a student to the city");
        assert_eq!(c.students.len(), 1);
    }

    #[test]
    fn rankings_say_why_and_add_up() {
        let mut c = class();
        let s = c.join("ABCD", "Ann", None, "t0").expect("joins").unit;
        while c.step() {}
        assert!(c.rankings.iter().any(|r| r.unit == s), "Ann's unit was ranked");
        assert!(c.rankings.iter().any(|r| r.promoted));
        let rho = to_f64(c.params.rho);
        for r in &c.rankings {
            assert!((r.score - (r.performance + r.credit + r.legitimacy)).abs() < 1e-9, "{r:?}");
            assert!(r.rank >= 1 && r.rank <= r.peers);
            assert_eq!(r.promoted, ((r.rank - 1) as f64) < rho * r.peers as f64 - 1e-9, "{r:?}");
            assert!(r.why(rho).contains(&format!("rank {} of {}", r.rank, r.peers)));
        }
        assert!(c.traces.iter().all(|l| l.unit == s), "only the student's unit is traced");
        assert!(!c.traces.is_empty());
    }

    #[test]
    fn a_reassigned_student_takes_their_policy_along() {
        let mut c = class();
        let a = c.join("ABCD", "Ann", None, "t0").expect("joins").unit;
        let eager = Policy {
            agenda: Choice::Yes,
            ..Policy::default()
        };
        c.choose("t0", eager).expect("chooses");
        c.step();
        let free = (0..c.model.world.len())
            .find(|&u| u != a && c.model.world.level[u] == c.model.world.level[a])
            .expect("a free unit");
        assert!(c.assign(0, a).is_err(), "taken (by Ann herself)");
        c.assign(0, free).expect("moves");
        c.step();
        assert_eq!(c.students[0].unit, free);
        assert_eq!(c.policy(free), eager);
        assert_eq!(c.policy(a), Policy::default(), "the old unit follows the model again");
        assert_eq!(&c.replayed(), c.state());
    }
}
