//! The classroom game: one run of a scenario stepped month by month on the CPU, students' policies
//! for the units they hold applied at month boundaries and logged, so a class replays to the bit.

use crate::model::fixed::{to_f64, ONE};
use crate::model::params::{Params, NEVER};
pub use crate::model::play::{replay, step_month, Decision};
use crate::model::trace::{EventLog, Policy};
use crate::model::{agg, init_batch, Model, RunId};
use crate::scenario::Scenario;
use crate::state::BatchState;

/// Most students in one class.
pub const MAX_STUDENTS: usize = 200;
/// Longest student name, in characters.
pub const MAX_NAME: usize = 40;

/// A student and the unit they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// Order of joining, from 0: decisions of one month apply in this order.
    pub id: u32,
    pub name: String,
    pub token: String,
    pub unit: usize,
}

/// Why a request was refused (said to the client, and logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

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
    /// Decisions waiting for the next month, and those applied.
    pending: Vec<Decision>,
    pub log: Vec<Decision>,
    pub students: Vec<Student>,
    /// What a student types to join.
    pub code: String,
    /// The model's band for this scenario and seed, with no players: the share adopted month by
    /// month over the scenario's replicates (median, 5 %, 95 %), as `pioneer run` gives it.
    pub band: (Vec<f64>, Vec<f64>, Vec<f64>),
    /// What happened lately, newest last: adoptions, complete ladders, promotions, recognitions.
    pub events: Vec<String>,
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
    let n = m.world.len() as f64;
    let share: Vec<Vec<f64>> = (0..ids.len())
        .map(|r| (1..=months).map(|t| out.record(r, t)[agg::ADOPTERS] as f64 / n).collect())
        .collect();
    crate::plot::quantiles(&share)
}

impl Classroom {
    /// A class on `sc` (run 0 of `seed`), its join code `code`.
    pub fn new(sc: Scenario, seed: u64, code: String) -> Result<Classroom, crate::error::InputError> {
        let (model, params) = sc.build()?;
        let id = RunId::new(seed, 0, 0);
        let state = init_batch(&model, &[params], &[id]);
        let n = model.world.len();
        let band = band(&sc, &model, &params, seed);
        Ok(Classroom {
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
            log: Vec::new(),
            students: Vec::new(),
            code,
        })
    }

    /// Months the scenario runs.
    pub fn months(&self) -> u32 {
        self.scenario.spec.months
    }

    /// Start again from month 0 with `seed`; the students keep their units and their policies
    /// are cleared.
    pub fn reset(&mut self, seed: u64) {
        self.seed = seed;
        self.id = RunId::new(seed, 0, 0);
        self.state = init_batch(&self.model, &[self.params], &[self.id]);
        self.records.clear();
        self.month = 0;
        self.policy.iter_mut().for_each(|p| *p = Policy::default());
        self.pending.clear();
        self.log.clear();
        self.events.clear();
        self.band = band(&self.scenario, &self.model, &self.params, seed);
    }

    /// A new student `name` with the code `code` takes `unit` (None: the free unit of the lowest
    /// index at the lowest level present among districts), holding `token`.
    pub fn join(&mut self, code: &str, name: &str, unit: Option<usize>, token: String) -> Result<&Student, Refusal> {
        if code.trim() != self.code {
            return Err(Refusal("that is not this class's code".into()));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            return Err(Refusal(format!("a name is 1 to {MAX_NAME} characters")));
        }
        if self.students.len() >= MAX_STUDENTS {
            return Err(Refusal(format!("the class is full ({MAX_STUDENTS} students)")));
        }
        let held = |u: usize| self.students.iter().any(|s| s.unit == u);
        let unit = match unit {
            Some(u) if u >= self.model.world.len() => return Err(Refusal(format!("there is no unit {u}"))),
            Some(u) if held(u) => return Err(Refusal(format!("unit {u} is taken"))),
            Some(u) => u,
            None => {
                let deepest = self.model.world.level.iter().copied().max().unwrap_or(0);
                (0..self.model.world.len())
                    .find(|&u| self.model.world.level[u] == deepest && !held(u))
                    .ok_or_else(|| Refusal("every unit is taken".into()))?
            }
        };
        let id = self.students.len() as u32;
        self.students.push(Student {
            id,
            name: name.to_string(),
            token,
            unit,
        });
        Ok(&self.students[id as usize])
    }

    /// The student holding `token`.
    pub fn student(&self, token: &str) -> Option<&Student> {
        self.students.iter().find(|s| s.token == token)
    }

    /// The student holding `token` sets their unit's policy, from the next month on.
    pub fn choose(&mut self, token: &str, policy: Policy) -> Result<(), Refusal> {
        let s = self.student(token).ok_or_else(|| Refusal("unknown student".into()))?;
        if policy.publicity.is_some_and(|m| m > ONE) {
            return Err(Refusal("publicity is from 0 to 1".into()));
        }
        let d = Decision {
            month: self.month + 1,
            student: s.id,
            unit: s.unit,
            policy,
        };
        // The last choice of a month stands.
        self.pending.retain(|p| p.student != d.student);
        self.pending.push(d);
        Ok(())
    }

    /// The decision log as CSV (`model::play::read_log` reads it back).
    pub fn log_csv(&self) -> String {
        let mut s = String::from(crate::model::play::LOG_HEADER);
        for d in &self.log {
            let name = self.students.get(d.student as usize).map_or("", |s| s.name.as_str());
            crate::model::play::log_row(d, name, &mut s);
        }
        s
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
        self.pending.sort_by_key(|d| d.student);
        for d in self.pending.drain(..) {
            self.policy[d.unit] = d.policy;
            self.log.push(d);
        }
        let (rec, log) = step_month(
            &self.model,
            &self.params,
            self.id.key,
            &mut self.state,
            &self.policy,
            t,
            EventLog::default(),
        );
        self.records.push(rec);
        for e in &log.events {
            let notable = ["adopted", "completed", "leader: promoted"].iter().any(|w| e.what.starts_with(w)) || e.what.contains("recogni");
            if notable {
                let name = &self.model.world.names[e.unit as usize];
                let who = self
                    .students
                    .iter()
                    .find(|s| s.unit == e.unit as usize)
                    .map(|s| format!(" ({})", s.name))
                    .unwrap_or_default();
                self.events.push(format!("month {t}: {name}{who} {}", e.what));
            }
        }
        let extra = self.events.len().saturating_sub(EVENTS);
        self.events.drain(..extra);
        self.month = t;
        true
    }

    /// The record of month t (1-based).
    pub fn record(&self, t: u32) -> &[u32] {
        &self.records[t as usize - 1]
    }

    /// The run's state now.
    pub fn state(&self) -> &BatchState {
        &self.state
    }

    /// Share of units that adopted innovation `k`, month by month.
    pub fn curve(&self, k: usize) -> Vec<f64> {
        let n = self.model.world.len() as f64;
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
        let mut state = self.state.clone();
        let views = state.runs_mut();
        let (inc, gap) = crate::model::trace::incentive_and_gap(&self.model, &self.params, &views[0], i);
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
        let group = self.model.world.group[i];
        let peers: Vec<usize> = (0..self.model.world.len())
            .filter(|&j| self.model.world.group[j] == group)
            .collect();
        let mine = self.score(i);
        let rank = 1 + peers.iter().filter(|&&j| self.score(j) > mine).count();
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
            "rank": rank,
            "peers": peers.len(),
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
        assert!(c.join("WXYZ", "Ann", None, "t0".into()).is_err());
        let a = c.join("ABCD", "Ann", None, "t0".into()).expect("joins").unit;
        let b = c.join("ABCD", "Bo", None, "t1".into()).expect("joins").unit;
        assert_ne!(a, b);
        assert!(c.join("ABCD", "Cy", Some(a), "t2".into()).is_err(), "a held unit");
        assert!(c.join("ABCD", "", None, "t2".into()).is_err());
        let eager = Policy {
            agenda: Choice::Yes,
            invent: Choice::No,
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
        let replayed = replay(&c.model, &c.params, 1, &c.log, 120);
        assert_eq!(&replayed, c.state(), "the log replays the class");
        let view = c.unit_view(a);
        assert_eq!(view["policy"]["agenda"], "yes");
    }
}
