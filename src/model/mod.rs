//! The model, pure: fixed-point arithmetic, random draws, parameters and the rules of a month.
//! No I/O, no threads, no GPU here; both backends call or mirror these functions.

pub mod agg;
pub mod fixed;
pub mod params;
pub mod play;
pub mod rng;
pub mod rules;
pub mod trace;

use crate::state::{outcome, route, BatchState, RUNG_WORDS};
use crate::world::World;
use fixed::*;
use params::{Params, NEVER};
use rng::{draw, stream};

/// A design in place before month 1 (e.g. city F's one-window service in `jdistrict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub unit: u32,
    pub innov: u32,
    /// Quality, Q16.
    pub quality: u32,
    /// Whether it starts as the recognised national exemplar of the innovation.
    pub exemplar: bool,
    /// (v2) Rungs already reached, 1..=rungs.
    pub depth: u32,
}

/// Starting values set by the scenario for one named unit (`[[unit]]`), in every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Setup {
    pub unit: u32,
    /// Q16 values; `None` keeps the drawn value.
    pub performance: Option<u32>,
    pub expectation: Option<u32>,
    pub legitimacy: Option<u32>,
    pub ambition: Option<u32>,
    pub threshold: Option<u32>,
    /// Leader's age and tenure in months.
    pub age: Option<u32>,
    pub tenure: Option<u32>,
    /// (v2) Resistance φ of the departments, and the first leader's publicity μ.
    pub resistance: Option<u32>,
    pub publicity: Option<u32>,
}

/// Everything shared by all runs of a batch: the world, the lever masks, the lookup table.
#[derive(Debug, Clone)]
pub struct Model {
    pub world: World,
    /// Bit m set: the unit is under mandate m's issuer.
    pub mandate_mask: Vec<u32>,
    /// Bit p set: the unit is in pilot p.
    pub pilot_mask: Vec<u32>,
    pub seeded: Vec<Seeded>,
    pub setups: Vec<Setup>,
    /// Logistic lookup table (fixed::sigmoid_table).
    pub sigmoid: Vec<u32>,
    /// The neighbour lists as the CPU's neighbour mean reads them.
    pub nbr_lists: rules::NeighbourLists,
    /// Whether unit i is in the population that adopts (`[world] population`; all units by
    /// default): only these count in shares, curves and summaries.
    pub member: Vec<bool>,
    /// The share of the institutional space S(t) unit i finds, Q16 (`rules::room_space`): the
    /// world's room (`World::room`, ONE unless a file world's `room` column says), and 0 outside
    /// the population, whose need never arises.
    pub room: Vec<u32>,
    /// The count of `member`, kept by `set_population` (read once per row of every table).
    population: usize,
}

impl Model {
    pub fn new(world: World) -> Self {
        let n = world.len();
        let nbr_lists = rules::NeighbourLists::new(&world);
        let room = (0..n).map(|i| world_room(&world, i)).collect();
        Model {
            world,
            nbr_lists,
            mandate_mask: vec![0; n],
            pilot_mask: vec![0; n],
            seeded: Vec::new(),
            setups: Vec::new(),
            sigmoid: sigmoid_table(),
            member: vec![true; n],
            room,
            population: n,
        }
    }

    /// The number of units in the population that adopts: the denominator of every share.
    pub fn population(&self) -> usize {
        self.population
    }

    /// Put only the units `inside` says in the population: the others never count and, finding
    /// no room (`room` 0), never adopt; they leave the mandates' reach. The units inside keep
    /// their world's room.
    pub fn set_population(&mut self, inside: impl Fn(usize) -> bool) {
        for i in 0..self.world.len() {
            let m = inside(i);
            self.member[i] = m;
            self.room[i] = if m { world_room(&self.world, i) } else { 0 };
            if !m {
                self.mandate_mask[i] = 0;
            }
        }
        self.population = self.member.iter().filter(|&&m| m).count();
    }
}

/// Unit i's room as its world gives it: ONE where the world has no room column.
fn world_room(w: &World, i: usize) -> u32 {
    w.room.get(i).copied().unwrap_or(ONE)
}

/// One run of a batch: which parameter point and replicate, and its random key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunId {
    pub point: u32,
    pub replicate: u32,
    pub key: u32,
}

impl RunId {
    pub fn new(seed: u64, point: u32, replicate: u32) -> Self {
        RunId {
            point,
            replicate,
            key: rng::run_key(seed, point, replicate),
        }
    }
}

/// Draw the month-0 state of every run (on the host, once per batch; both backends start
/// from these bytes).
pub fn init_batch(m: &Model, params: &[Params], runs: &[RunId]) -> BatchState {
    let n = m.world.len();
    let kn = params.first().map_or(0, |p| p.n_innov as usize);
    let mut st = BatchState::zeroed(runs.len(), n, kn);
    st.clear_adoptions();
    for (r, id) in runs.iter().enumerate() {
        let prm = &params[id.point as usize];
        let key = id.key;
        for i in 0..n {
            let iu = i as u32;
            let at = r * n + i;
            st.theta[at] = uniform_q(draw(key, iu, 0, stream::INIT_THETA), prm.theta_lo, prm.theta_hi);
            st.ambition[at] = uniform_q(draw(key, iu, 0, stream::INIT_AMBITION), prm.ambition_lo, prm.ambition_hi);
            let tenure = uniform_int(draw(key, iu, 0, stream::INIT_TENURE), 0, prm.term.saturating_sub(1));
            st.tenure[at] = tenure;
            st.age[at] = uniform_int(draw(key, iu, 0, stream::INIT_AGE), prm.appoint_lo, prm.appoint_hi) + tenure;
            let p = uniform_q(draw(key, iu, 0, stream::INIT_P), prm.init_p_lo, prm.init_p_hi);
            st.p[at] = p;
            st.p0[at] = p;
            st.e[at] = (p + uniform_q(draw(key, iu, 0, stream::INIT_E), 0, prm.init_e_hi)).min(ONE);
            st.l[at] = uniform_q(draw(key, iu, 0, stream::INIT_L), prm.init_l_lo, prm.init_l_hi);
            st.b[at] = uniform_q(draw(key, iu, 0, stream::INIT_B), prm.init_b_lo, prm.init_b_hi);
            st.mu[at] = uniform_q(draw(key, iu, 0, stream::INIT_MU), prm.mu_lo, prm.mu_hi);
            st.phi[at] = match m.world.resistance[i] {
                NEVER => uniform_q(draw(key, iu, 0, stream::INIT_PHI), prm.phi_lo, prm.phi_hi),
                given => given,
            };
            st.cap[at] = m.world.capacity[i];
        }
        for s in &m.setups {
            let at = r * n + s.unit as usize;
            if let Some(v) = s.performance {
                st.p[at] = v;
                st.p0[at] = v;
            }
            if let Some(v) = s.expectation {
                st.e[at] = v;
            }
            if let Some(v) = s.legitimacy {
                st.l[at] = v;
            }
            if let Some(v) = s.ambition {
                st.ambition[at] = v;
            }
            if let Some(v) = s.threshold {
                st.theta[at] = v;
            }
            if let Some(v) = s.age {
                st.age[at] = v;
            }
            if let Some(v) = s.tenure {
                st.tenure[at] = v;
            }
            if let Some(v) = s.resistance {
                st.phi[at] = v;
            }
            if let Some(v) = s.publicity {
                st.mu[at] = v;
            }
        }
        for s in &m.seeded {
            let k = s.innov as usize;
            let i = s.unit as usize;
            let at = (r * kn + k) * n + i;
            st.adopt_month[at] = 0;
            st.quality[at] = s.quality;
            st.variant[at] = rules::new_variant(i);
            st.route[at] = route::SEEDED;
            st.depth[at] = s.depth;
            st.ad_extra[at] = outcome::pack(0, outcome::RETIRED, 0);
            for j in 0..s.depth as usize {
                // Month 0 in the rung's half-word.
                st.rung_m[at * RUNG_WORDS + j / 2] &= !(0xFFFF << (16 * (j % 2)));
            }
            let ex = r * kn + k;
            if s.exemplar && (st.ex_unit[ex] == NEVER || s.quality > st.ex_q[ex]) {
                st.ex_unit[ex] = s.unit;
                st.ex_q[ex] = s.quality;
                st.ex_v[ex] = st.variant[at];
            }
        }
    }
    st
}
