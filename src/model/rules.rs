//! The month of MODEL.md §4, one function per phase; the CPU backend calls these as they are.
//! Each function has a WGSL twin of the same name in `shaders/step.wgsl` (same order of operations).

// The rules take the run's pieces one by one, as their WGSL twins do.
#![allow(clippy::too_many_arguments)]

use super::agg;
use super::fixed::*;
use super::params::{Params, MAX_LEVERS, NEVER};
use super::rng::{stream, stream::sub, Draws};
use super::trace::{Event, Tracer};
use super::Model;
use crate::state::{outcome, process, route, stage, RunMut, RUNG_WORDS};
use crate::world::{MAX_LEVELS, NO_PARENT};

/// Per-run values of month `t` that every unit reads (computed before the units step).
/// WGSL twin: `Prelude`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prelude {
    /// Institutional space S(t).
    pub space: u32,
    /// Upper signal u_k(t) including recognition boosts.
    pub signal: [u32; 8],
    /// Performance of the exemplar units (the highest over innovations), as of month t.
    pub ex_p: u32,
}

/// `floor(a · 65536 / n)` capped at ONE, exact for `a, n < 2^24`. WGSL twin: `ratio_q`.
#[inline(always)]
pub fn ratio_q(a: u32, n: u32) -> u32 {
    let hi = (a * 256) / n;
    let lo = ((a * 256) % n) * 256 / n;
    (hi * 256 + lo).min(ONE)
}

/// Phase 0 (per run): schedules, boosts, exemplar performance. WGSL twin: `prelude_run`.
pub fn prelude_run(prm: &Params, run: &RunMut, t: u32) -> Prelude {
    let mut pre = Prelude {
        space: prm.space.at(t),
        ..Default::default()
    };
    for k in 0..prm.n_innov as usize {
        pre.signal[k] = (prm.innov[k].signal.at(t) + run.boost[k]).min(ONE);
        let ex = run.ex_unit[k];
        if ex != NEVER {
            pre.ex_p = pre.ex_p.max(run.p[ex as usize]);
        }
    }
    pre
}

/// The institutional space unit i finds in month t: S(t) times its room (`Model::room`), S(t)
/// itself at a room of 1 (so a world without a population's bounds steps the same bits), and 0
/// without room. WGSL twin: `room_space`.
#[inline(always)]
pub fn room_space(space: u32, room: u32) -> u32 {
    if room >= ONE {
        space
    } else {
        mul_q(space, room)
    }
}

/// Phase A (per unit): mean performance of the neighbours as of month t; own P without any.
/// The CPU's month reads it from `NeighbourLists::means`, the same integer.
/// WGSL twin: `neighbour_mean`.
#[inline(always)]
pub fn neighbour_mean(m: &Model, p: &[u32], i: usize) -> u32 {
    let w = &m.world;
    let (a, b) = (w.nbr_start[i] as usize, w.nbr_start[i + 1] as usize);
    if a == b {
        return p[i];
    }
    let mut sum = 0u32;
    for &j in &w.nbr[a..b] {
        sum += p[j as usize] >> 4;
    }
    // Sum of P/16 keeps 2^28 / 4096 neighbours from overflowing; scale back exactly.
    ((sum / (b - a) as u32) << 4).min(ONE)
}

/// The neighbour lists as the CPU reads them for `neighbour_mean`. Every unit has a row of
/// `WIDTH` indices, its first neighbours padded with the index n, which reads a 0, so the main
/// pass sums a whole row without a test or a loop per unit (the order of an integer sum cannot
/// matter). The row's indices are read two to a 64-bit word, half the loads of one by one. The
/// division by the count is a 32-bit multiply and shift (`narrow_mult`).
/// The few units with more neighbours than a row are summed and divided again, exactly, in a pass
/// of their own; the units with none read their own P.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourLists {
    /// Each unit's row: index 2k in the low half of word k, index 2k + 1 in the high half.
    rows: Vec<[u64; NeighbourLists::WIDTH / 2]>,
    /// `narrow_mult` of each unit's count.
    mult: Vec<u32>,
    /// The units with more than `WIDTH` neighbours, where their further ones start in `rest`,
    /// and their count; then n and the end of `rest`.
    more: Vec<(u32, u32, Recip)>,
    rest: Vec<u32>,
    /// The units without neighbours.
    alone: Vec<u32>,
}

/// A sum of `d` values P/16 (each at most 4095) divided by `d` is `(sum · m) >> NARROW_SHIFT`
/// for `m = narrow_mult(d)`, in 32 bits, for every `d` up to 16 (the rows hold 8). With
/// `m = ⌈2^s / d⌉ = (2^s + e) / d`, `e < d`, the quotient is right while `sum · e < 2^s`, which
/// holds since `sum · e ≤ 4095 · d · (d − 1) < 2^20` for `d ≤ 16`; and `sum · m ≤ 4095 · 2^20
/// + sum < 2^32`. A test checks every sum of every such d.
pub const NARROW_SHIFT: u32 = 20;

/// The multiplier of `NARROW_SHIFT` for a count `d` (0 is taken as 1).
pub fn narrow_mult(d: u32) -> u32 {
    (1u32 << NARROW_SHIFT).div_ceil(d.max(1))
}

impl NeighbourLists {
    /// Neighbours in a unit's row: most units of the china world have 6 to 8.
    pub const WIDTH: usize = 8;

    pub fn new(w: &crate::world::World) -> Self {
        let n = w.len();
        let mut lists = NeighbourLists {
            rows: Vec::with_capacity(n),
            mult: Vec::with_capacity(n),
            more: Vec::new(),
            rest: Vec::new(),
            alone: Vec::new(),
        };
        for i in 0..n {
            let nb = w.neighbours(i);
            // `means` reads p16 at these indices unchecked: they must be the world's units.
            assert!(nb.iter().all(|&j| (j as usize) < n), "unit {i} has a neighbour outside the world");
            let mut row = [n as u32; Self::WIDTH];
            let head = nb.len().min(Self::WIDTH);
            row[..head].copy_from_slice(&nb[..head]);
            lists
                .rows
                .push(std::array::from_fn(|k| row[2 * k] as u64 | (row[2 * k + 1] as u64) << 32));
            lists.mult.push(narrow_mult(head as u32));
            if nb.len() > Self::WIDTH {
                lists.more.push((i as u32, lists.rest.len() as u32, Recip::new(nb.len() as u32)));
                lists.rest.extend_from_slice(&nb[Self::WIDTH..]);
            }
            if nb.is_empty() {
                lists.alone.push(i as u32);
            }
        }
        lists.more.push((n as u32, lists.rest.len() as u32, Recip::new(1)));
        lists
    }

    /// `neighbour_mean` of every unit into `out`, from `p16`: every unit's P/16 and a 0 after
    /// them (`p_sixteenths`).
    #[inline(always)]
    pub fn means(&self, p16: &[u32], p: &[u32], out: &mut [u32]) {
        let n = self.mult.len();
        // Every index is at most n (n is the padding's), so this one check covers every gather.
        assert!(
            p16.len() == n + 1 && p.len() == n && out.len() == n,
            "neighbour lists of another world"
        );
        // SAFETY: `new` writes only the indices of the world's units (< n) and the padding n,
        // and p16 has n + 1 entries (asserted above).
        let at = |j: u64| unsafe { *p16.get_unchecked(j as u32 as usize) };
        let row_sum = |row: &[u64; Self::WIDTH / 2]| row.iter().map(|&two| at(two) + at(two >> 32)).sum::<u32>();
        for ((slot, row), &mult) in out.iter_mut().zip(&self.rows).zip(&self.mult) {
            *slot = ((row_sum(row) * mult) >> NARROW_SHIFT) << 4;
        }
        for pair in self.more.windows(2) {
            let ((i, a, count), b) = (pair[0], pair[1].1);
            let sum = row_sum(&self.rows[i as usize]) + self.rest[a as usize..b as usize].iter().map(|&j| p16[j as usize]).sum::<u32>();
            out[i as usize] = (count.divide(sum) << 4).min(ONE);
        }
        for &i in &self.alone {
            out[i as usize] = p[i as usize];
        }
    }
}

/// `p16` for `NeighbourLists::means`: P/16 of every unit of `p`, then a 0.
#[inline(always)]
pub fn p_sixteenths(p: &[u32], p16: &mut Vec<u32>) {
    p16.clear();
    p16.extend(p.iter().map(|&v| v >> 4));
    p16.push(0);
}

/// Step 2: incentive I = α · A(age). `span` is `age_span(prm)`, the exact reciprocal of
/// age_cap − age_peak (the twin divides). WGSL twin: `incentive`.
#[inline(always)]
pub fn incentive(prm: &Params, span: Recip, ambition: u32, age: u32) -> u32 {
    let a = if age <= prm.age_peak {
        ONE
    } else if age >= prm.age_cap {
        0
    } else {
        span.divide(ONE * (prm.age_cap - age))
    };
    mul_q(ambition, a)
}

/// The divisor of the incentive's fall, age_cap − age_peak, as an exact reciprocal (computed
/// once per run).
pub fn age_span(prm: &Params) -> Recip {
    Recip::new(prm.age_cap.saturating_sub(prm.age_peak))
}

/// Step 3: expectation moves toward R = max(neighbour P, ν · exemplar P). WGSL twin: `expectation`.
#[inline(always)]
pub fn expectation(prm: &Params, e: u32, nbr_p: u32, ex_p: u32) -> u32 {
    let r = nbr_p.max(mul_q(prm.nu, ex_p));
    if r >= e {
        e + mul_q(prm.eta_e, r - e)
    } else {
        e - mul_q(prm.eta_e, e - r)
    }
}

/// Step 4: performance gap. WGSL twin: `gap`.
#[inline(always)]
pub fn gap(prm: &Params, p: u32, e: u32, nbr_p: u32) -> u32 {
    let behind = mul_q(prm.w_h, sub_sat(nbr_p, p)) + mul_q(ONE - prm.w_h, sub_sat(e, p));
    mul_gain(prm.gamma_g, behind)
}

/// Step 6: external demand D = min(1, f·γ_d·max(0, E − P) + d0). WGSL twin: `demand`.
#[inline(always)]
pub fn demand(prm: &Params, p: u32, e: u32, firms: u32) -> u32 {
    (mul_gain(prm.gamma_d, mul_q(firms, sub_sat(e, p))) + prm.d0).min(ONE)
}

/// True if unit `j` adopted innovation `k` before month `t`. WGSL twin: `adopted_before`.
#[inline(always)]
fn adopted_before(run: &RunMut, n: usize, k: usize, j: usize, t: u32) -> bool {
    run.adopt_month[k * n + j] < t
}

/// Month in which unit `j` reached rung `rung` (1-based) of innovation `k`, or NEVER. Two
/// months share a word (16 bits each, 0xFFFF = not reached). WGSL twin: `rung_month`.
#[inline(always)]
pub fn rung_month(run: &RunMut, n: usize, k: usize, j: usize, rung: u32) -> u32 {
    let w = run.rung_m[(k * n + j) * RUNG_WORDS + ((rung - 1) >> 1) as usize];
    let m = (w >> (((rung - 1) & 1) * 16)) & 0xFFFF;
    if m == 0xFFFF {
        NEVER
    } else {
        m
    }
}

/// Record that unit `i` reached rung `rung` of `k` in month `t` (`t` < 0xFFFF).
/// WGSL twin: `set_rung_month`.
#[inline(always)]
pub fn set_rung_month(run: &mut RunMut, n: usize, k: usize, i: usize, rung: u32, t: u32) {
    let at = (k * n + i) * RUNG_WORDS + ((rung - 1) >> 1) as usize;
    let shift = ((rung - 1) & 1) * 16;
    run.rung_m[at] = (run.rung_m[at] & !(0xFFFF << shift)) | (t << shift);
}

/// Depth of unit `j` on `k` as of month `t`: the rungs it reached before `t` (rungs are reached
/// in order and never lost, so other units can read this while `j` climbs). WGSL twin: `depth_before`.
#[inline(always)]
pub fn depth_before(prm: &Params, run: &RunMut, n: usize, k: usize, j: usize, t: u32) -> u32 {
    let r = prm.innov[k].rungs;
    let mut d = 0;
    while d < r && rung_month(run, n, k, j, d + 1) < t {
        d += 1;
    }
    d
}

/// True if unit i is in a pilot of innovation k that has begun by month t (U = 1 for the
/// whole ladder). WGSL twin: `piloted`.
#[inline(always)]
pub fn piloted(m: &Model, prm: &Params, i: usize, k: usize, t: u32) -> bool {
    for pi in 0..(prm.n_pilots as usize).min(MAX_LEVERS) {
        let pl = &prm.pilots[pi];
        if m.pilot_mask[i] & (1 << pi) != 0 && pl.innov as usize == k && t >= pl.month {
            return true;
        }
    }
    false
}

/// Step 6: upper signal U = max(u_k, π·[parent adopted k], 1 if mandated or piloted).
/// WGSL twin: `upper_signal`.
#[inline(always)]
pub fn upper_signal(m: &Model, prm: &Params, pre: &Prelude, run: &RunMut, i: usize, k: usize, w: u32, t: u32) -> u32 {
    let n = prm.n_units as usize;
    let mut u = pre.signal[k];
    let parent = m.world.parent[i];
    if parent != NO_PARENT && adopted_before(run, n, k, parent as usize, t) {
        u = u.max(prm.pi);
    }
    if w & process::MANDATED != 0 || piloted(m, prm, i, k, t) {
        u = ONE;
    }
    u
}

/// Step 6 (v2), the pitch: the leader takes the plan to the upper leader and wins backing in
/// proportion to the upper signal and the unit's record, B ← max(B, U·(β0 + (1 − β0)·L)).
/// WGSL twin: `pitch`.
#[inline(always)]
pub fn pitch(prm: &Params, b: u32, u: u32, l: u32) -> u32 {
    b.max(mul_q(u, prm.beta0 + mul_q(ONE - prm.beta0, l)))
}

/// Step 5: whether unit i is closed to innovation k for the whole run: it finds no room for k
/// in the seed's institutional space, so its own need never takes k up (a mandate or a pilot
/// still reaches it). One draw per unit and innovation, fixed for the run (month 0, the
/// innovation as the stream's sub-index), passes with chance `closed_k`; never at 0, where no
/// draw is taken. WGSL twin: `closed_to`.
#[inline(always)]
pub fn closed_to(prm: &Params, draws: &Draws, i: usize, k: usize) -> bool {
    let c = prm.innov[k].closed;
    c != 0 && chance(draws.draw(i as u32, 0, sub(stream::CLOSED, k as u32)), c)
}

/// Step 5: the available, not-yet-adopted innovation most visible to unit i (most adopting
/// neighbours, then a recognised exemplar, then lowest k), or NEVER; never one it is closed to
/// (`closed_to`). WGSL twin: `most_visible`.
pub fn most_visible(m: &Model, prm: &Params, draws: &Draws, run: &RunMut, i: usize, t: u32) -> u32 {
    let n = prm.n_units as usize;
    let nb = m.world.neighbours(i);
    let mut best = NEVER;
    let mut best_score = 0u32;
    for k in 0..prm.n_innov as usize {
        if t < prm.innov[k].available || run.adopt_month[k * n + i] != NEVER || closed_to(prm, draws, i, k) {
            continue;
        }
        let mut count = 0u32;
        for &j in nb {
            if adopted_before(run, n, k, j as usize, t) {
                count += 1;
            }
        }
        let score = count * 2 + (run.ex_unit[k] != NEVER) as u32 + 1;
        if score > best_score {
            best_score = score;
            best = k as u32;
        }
    }
    best
}

/// Step 5 (v2), deepening: the adopted innovation with the lowest d_k/R_k below 1 (lowest k
/// on ties), or NEVER; never one unit i is closed to (adopted by a mandate, it deepens only
/// by order). WGSL twin: `shallowest`.
pub fn shallowest(prm: &Params, draws: &Draws, run: &RunMut, i: usize) -> u32 {
    let n = prm.n_units as usize;
    let mut best = NEVER;
    let (mut bd, mut br) = (1u32, 1u32);
    for k in 0..prm.n_innov as usize {
        let d = run.depth[k * n + i];
        let r = prm.innov[k].rungs;
        if d >= 1 && d < r && d * br < bd * r && !closed_to(prm, draws, i, k) {
            best = k as u32;
            bd = d;
            br = r;
        }
    }
    best
}

/// A design unit i can learn: its route (NONE without a source), quality, variant and the
/// depth its source had reached. WGSL twin: `Source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub route: u32,
    pub quality: u32,
    pub variant: u32,
    pub depth: u32,
    /// The unit it comes from (NEVER for the leader's knowledge).
    pub unit: u32,
}

impl Source {
    /// No source: invent.
    pub const NONE: Source = Source {
        route: route::NONE,
        quality: 0,
        variant: 0,
        depth: 0,
        unit: NEVER,
    };
}

/// The best design unit i can learn for innovation k. Order among equal quality: neighbour,
/// exemplar, parent, leader. WGSL twin: `best_source`.
pub fn best_source(m: &Model, prm: &Params, draws: &Draws, run: &RunMut, i: usize, k: usize, t: u32) -> Source {
    best_source_among(m, prm, draws, run, i, k, t, u32::MAX, NEVER)
}

/// The best design among the source kinds whose route bit is set in `routes`, from unit `only`
/// (NEVER: any unit; the leader's knowledge has no unit): a player's pick of which visible source
/// to learn from, where `best_source` looks at every one. The exemplar's visibility is the same
/// counter-based draw either way.
#[inline(always)]
pub fn best_source_among(
    m: &Model,
    prm: &Params,
    draws: &Draws,
    run: &RunMut,
    i: usize,
    k: usize,
    t: u32,
    routes: u32,
    only: u32,
) -> Source {
    let wants = |r: u32, unit: u32| routes & (1 << r) != 0 && (only == NEVER || unit == only);
    let n = prm.n_units as usize;
    let mut src = Source::NONE;
    for &j in m.world.neighbours(i) {
        let j = j as usize;
        if wants(route::NEIGHBOUR, j as u32) && adopted_before(run, n, k, j, t) {
            let q = run.quality[k * n + j];
            if src.route == route::NONE || q > src.quality {
                src = Source {
                    route: route::NEIGHBOUR,
                    quality: q,
                    variant: run.variant[k * n + j],
                    depth: 0,
                    unit: j as u32,
                };
            }
        }
    }
    let ex = run.ex_unit[k];
    if wants(route::EXEMPLAR, ex)
        && ex != NEVER
        && ex as usize != i
        && chance(draws.draw(i as u32, t, sub(stream::VISIBLE, k as u32)), prm.nu)
    {
        let q = run.ex_q[k];
        if src.route == route::NONE || q > src.quality {
            src = Source {
                route: route::EXEMPLAR,
                quality: q,
                variant: run.ex_v[k],
                depth: 0,
                unit: ex,
            };
        }
    }
    let parent = m.world.parent[i];
    if wants(route::PARENT, parent) && parent != NO_PARENT && adopted_before(run, n, k, parent as usize, t) {
        let q = run.quality[k * n + parent as usize];
        if src.route == route::NONE || q > src.quality {
            src = Source {
                route: route::PARENT,
                quality: q,
                variant: run.variant[k * n + parent as usize],
                depth: 0,
                unit: parent,
            };
        }
    }
    if wants(route::LEADER, NEVER) && run.know_v[k * n + i] != 0 {
        let q = run.know_q[k * n + i];
        if src.route == route::NONE || q > src.quality {
            src = Source {
                route: route::LEADER,
                quality: q,
                variant: run.know_v[k * n + i],
                depth: run.know_d[k * n + i],
                unit: NEVER,
            };
        }
    }
    if src.unit != NEVER {
        src.depth = depth_before(prm, run, n, k, src.unit as usize, t);
    }
    src
}

/// Step 8 (v2): the hurdle of rung j, h_j = difficulty_k + b_φ·φ·(j − 1)/(R_k − 1)
/// − b_demo·[j ≤ d_src], signed Q16. WGSL twin: `hurdle`.
#[inline(always)]
pub fn hurdle(prm: &Params, k: usize, j: u32, d_src: u32, phi: u32) -> i32 {
    let r = prm.innov[k].rungs;
    let mut h = prm.innov[k].difficulty as i32;
    if r > 1 {
        h += mul_coef(prm.b_phi, phi * (j - 1) / (r - 1));
    }
    if j <= d_src {
        h -= mul_coef(prm.b_demo, ONE);
    }
    h
}

/// Step 8: probability that a rung attempt succeeds, σ(b0 − h + b_L·L + b_B·B + b_U·U + b_c·c).
/// WGSL twin: `success_prob`.
#[inline(always)]
pub fn success_prob(m: &Model, prm: &Params, h: i32, l: u32, b: u32, u: u32, c: u32) -> u32 {
    let z = mul_coef(prm.b0, ONE) - h + mul_coef(prm.b_l, l) + mul_coef(prm.b_b, b) + mul_coef(prm.b_u, u) + mul_coef(prm.b_c, c);
    sigmoid_q(&m.sigmoid, z)
}

/// Step 9 (v2): share of unit i's peer group (same parent and level, i excluded) that had
/// reached rung j of k before month t; 0 without peers. WGSL twin: `peer_share`.
pub fn peer_share(m: &Model, prm: &Params, run: &RunMut, i: usize, k: usize, j: u32, t: u32) -> u32 {
    let n = prm.n_units as usize;
    let peers = m.world.peers(i);
    if peers.len() <= 1 {
        return 0;
    }
    let mut count = 0u32;
    for &p in peers {
        if p as usize != i && rung_month(run, n, k, p as usize, j) < t {
            count += 1;
        }
    }
    ratio_q(count, peers.len() as u32 - 1)
}

/// First month of the recognition window that contains month `t` (t itself without windows).
/// WGSL twin: `window_start`.
#[inline(always)]
#[expect(clippy::manual_checked_ops, reason = "the same branch as its WGSL twin, which has no checked_div")]
pub fn window_start(prm: &Params, t: u32) -> u32 {
    if prm.recog_every == 0 {
        t
    } else {
        (t - 1) / prm.recog_every * prm.recog_every + 1
    }
}

/// What reaching a rung changed, for the trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gains {
    pub p: u32,
    pub l: u32,
    pub b: u32,
    /// Novelty among peers n_j (Q16) and the recognition merit n_j·q·(1 + μ)·j/R_k.
    pub novelty: u32,
    pub merit: u32,
}

/// Step 9 (v2): unit i reached rung j of k (design quality q) in month t. Records the rung,
/// raises P, C, L and B (publicity pays twice), keeps the window's best merit for recognition,
/// and at the top of the ladder raises capacity. Returns the new P, L, B. WGSL twin: `rung_reached`.
pub fn rung_reached(
    m: &Model,
    prm: &Params,
    run: &mut RunMut,
    i: usize,
    k: usize,
    j: u32,
    q: u32,
    u: u32,
    p: u32,
    l: u32,
    b: u32,
    t: u32,
) -> Gains {
    let n = prm.n_units as usize;
    let at = k * n + i;
    let r = prm.innov[k].rungs;
    run.depth[at] = j;
    set_rung_month(run, n, k, i, j, t);
    let p = p + mul_q((((prm.g_p * q) >> 8) / r).min(ONE), ONE - p);
    let nov = novelty_ratio(mul_gain(prm.kappa, peer_share(m, prm, run, i, k, j, t)));
    let nq = mul_q(nov, q);
    run.credit[i] = (run.credit[i] + nq / r).min(ONE);
    let mu = run.mu[i];
    let gain_l = mul_q(prm.lambda, nq);
    let l = (l + gain_l + mul_q(gain_l, mu) + mul_q(prm.lambda_u, u)).min(ONE);
    let gain_b = mul_q(prm.lambda_b, nq);
    let b = (b + gain_b + mul_q(gain_b, mu)).min(ONE);
    let merit = (nq + mul_q(nq, mu)) * j / r;
    if run.merit_m[at] >= window_start(prm, t) {
        run.merit[at] = run.merit[at].max(merit);
    } else {
        run.merit[at] = merit;
    }
    run.merit_m[at] = t;
    if j == r {
        run.cap[i] += mul_q(prm.lambda_c, ONE - run.cap[i]);
    }
    Gains {
        p,
        l,
        b,
        novelty: nov,
        merit,
    }
}

/// Step 10 and the tournament score: drift of P, L and (v2) B. WGSL twin: `drift`.
#[inline(always)]
pub fn drift(prm: &Params, p: u32, l: u32, b: u32) -> (u32, u32, u32) {
    let p = if p >= prm.p_floor {
        p - mul_q(prm.eps_p, p - prm.p_floor)
    } else {
        p + mul_q(prm.eps_p, prm.p_floor - p)
    };
    (p, l - mul_q(prm.eps_l, l), b - mul_q(prm.eps_b, b))
}

/// Step 11: tournament score w_P·(P − P0) + w_C·C + w_L·L, signed Q16 (each product rounded
/// toward zero). WGSL twin: `score`.
#[inline(always)]
pub fn score(prm: &Params, p: u32, p0: u32, c: u32, l: u32) -> i32 {
    let [dp, c, l] = score_parts(prm, p, p0, c, l);
    dp + c + l
}

/// The weighted parts of the promotion score: performance gained w_P·(P − P0), credit w_C·C and
/// legitimacy w_L·L (each rounded toward zero); `score` is their sum.
#[inline(always)]
pub fn score_parts(prm: &Params, p: u32, p0: u32, c: u32, l: u32) -> [i32; 3] {
    let dp = if p >= p0 {
        ((prm.w_p * (p - p0)) >> 8) as i32
    } else {
        -(((prm.w_p * (p0 - p)) >> 8) as i32)
    };
    [dp, ((prm.w_c * c) >> 8) as i32, ((prm.w_l * l) >> 8) as i32]
}

/// Variant id of a new design made by unit i (unique per unit and innovation).
/// WGSL twin: `new_variant`.
#[inline(always)]
pub fn new_variant(i: usize) -> u32 {
    i as u32 + 1
}

/// Variant id of mandate m's template when there is no exemplar. WGSL twin: `template_variant`.
#[inline(always)]
pub fn template_variant(prm: &Params, m: usize) -> u32 {
    prm.n_units + 1 + m as u32
}

// Phase B, steps 1–10 for each unit, is the WGSL twin `step_unit` (one thread per unit). The CPU
// takes it in passes over the units, each unit's steps in the same order: the neighbour means
// (`NeighbourLists::means`) and `step_common` (steps 1–4) for every unit; `step_process` (steps
// 5–9 and 13) only for the `BUSY` units, the others' process words tick; and `drift_all` (step
// 10) for every unit. Within phase B a unit reads only its own state and what other units had
// before month t (their P through the neighbour mean, taken before any P changes, and their
// adoptions and rungs before t), so the passes give the twin's results bit for bit.

/// What `step_common` found of a unit: it may act in steps 5–9 or 13 (`step_process`).
pub const BUSY: u8 = 1;
/// What `step_common` found of a unit: its leader retires or ends a term (`tournament_unit`).
pub const LEAVES: u8 = 2;

/// Steps 1–4 for every unit of the run (`span`: `age_span(prm)`): the leader ages; the incentive
/// `inc`, the expectation and the gap `gaps` from the neighbours' mean performance `nbr`
/// (`NeighbourLists::means`). `flags`
/// gets `BUSY` for a unit with a process under way, a mandate or pilot that could reach it, or a
/// need that passed the threshold (step 5, before its draw); the process word of any other unit
/// ticks, all that `step_process` would do. It gets `LEAVES` where the leader retires or ends a
/// term. Part of the WGSL twin `step_unit`.
#[inline(always)]
pub fn step_common(
    m: &Model,
    prm: &Params,
    pre: &Prelude,
    span: Recip,
    run: &mut RunMut,
    nbr: &[u32],
    inc: &mut [u32],
    gaps: &mut [u32],
    flags: &mut [u8],
) {
    let n = prm.n_units as usize;
    let (age, tenure, e, proc_) = (&mut run.age[..n], &mut run.tenure[..n], &mut run.e[..n], &mut run.proc_[..n]);
    let (ambition, p, theta) = (&run.ambition[..n], &run.p[..n], &run.theta[..n]);
    let (mandated, piloted) = (&m.mandate_mask[..n], &m.pilot_mask[..n]);
    let (nbr, inc, gaps, flags) = (&nbr[..n], &mut inc[..n], &mut gaps[..n], &mut flags[..n]);
    for i in 0..n {
        // 1. Leader ages.
        let a = age[i] + 1;
        let te = tenure[i] + 1;
        age[i] = a;
        tenure[i] = te;
        // 2–4. Incentive, expectation, gap.
        let ic = incentive(prm, span, ambition[i], a);
        let ei = expectation(prm, e[i], nbr[i], pre.ex_p);
        e[i] = ei;
        let g = gap(prm, p[i], ei, nbr[i]);
        inc[i] = ic;
        gaps[i] = g;
        let w0 = proc_[i];
        let drive = ic * g;
        // Step 5's test (the draw is `step_process`'s: drawing here for every unit costs more).
        let need = (drive > 0) & (drive >= theta[i] * theta[i]);
        let busy = (process::stage(w0) != stage::IDLE) | ((mandated[i] | piloted[i]) != 0) | need;
        proc_[i] = process::tick_if(w0, !busy);
        let leaves = (a >= prm.age_retire) | (te >= prm.term);
        flags[i] = (busy as u8 * BUSY) | (leaves as u8 * LEAVES);
    }
}

/// The units flagged `BUSY` and those flagged `LEAVES` by `step_common`, in order, into `busy`
/// and `leaving`; returns how many of each. Eight flags are read as one word and their bits
/// gathered by a multiply, so the work goes with the flagged units, not with every unit.
#[inline(always)]
pub fn flagged(flags: &[u8], busy: &mut [u32], leaving: &mut [u32]) -> (usize, usize) {
    // Bit 0 of each of eight bytes, times this, gathers them into the top byte, byte i at bit i.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    const LOW: u64 = 0x0101_0101_0101_0101;
    let (mut n_busy, mut n_leaving) = (0, 0);
    let push = |mut bits: u64, base: usize, out: &mut [u32], n: &mut usize| {
        while bits != 0 {
            out[*n] = (base + bits.trailing_zeros() as usize) as u32;
            *n += 1;
            bits &= bits - 1;
        }
    };
    let mut chunks = flags.chunks_exact(64);
    for (c, chunk) in chunks.by_ref().enumerate() {
        let (mut b, mut l) = (0u64, 0u64);
        for (k, eight) in chunk.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
            b |= ((x & LOW).wrapping_mul(GATHER) >> 56) << (8 * k);
            l |= (((x >> 1) & LOW).wrapping_mul(GATHER) >> 56) << (8 * k);
        }
        push(b, c * 64, busy, &mut n_busy);
        push(l, c * 64, leaving, &mut n_leaving);
    }
    let base = flags.len() - chunks.remainder().len();
    for (j, &f) in chunks.remainder().iter().enumerate() {
        busy[n_busy] = (base + j) as u32;
        n_busy += (f & BUSY != 0) as usize;
        leaving[n_leaving] = (base + j) as u32;
        n_leaving += (f & LEAVES != 0) as usize;
    }
    (n_busy, n_leaving)
}

/// Scratch for `gate_draws`, for a world of n units: a list per group of stages.
#[derive(Debug, Clone)]
pub struct Acting {
    groups: [Vec<u32>; 3],
}

impl Acting {
    pub fn new(n: usize) -> Self {
        Acting {
            groups: std::array::from_fn(|_| vec![0; n]),
        }
    }
}

/// Of the `BUSY` units `busy`, those whose month a single draw decides: an idle unit past its
/// need threshold (step 5's draw) and one implementing (step 8's draw), with no lever from
/// above in reach. Where that draw fails, `step_process` would only tick the process word: this
/// pass ticks it, without a branch per unit, and leaves the units `step_process` must still
/// step in `act`, whose lists it returns. With `by_stage`, in three lists: the units in need,
/// those at the agenda or designing, and the rest (idle or implementing), so that the branches
/// on the stage in `step_process` seldom mispredict. A unit's step reads only what other units
/// had before month t (as on the GPU, where all step at once), so the order changes nothing but
/// the order of a tracer's events. Without, all in one list in unit order. CPU only: the WGSL
/// twin `step_unit` takes the same draws in its stages.
#[inline(always)]
pub fn gate_draws<'a>(
    m: &Model,
    prm: &Params,
    draws: &Draws,
    pre: &Prelude,
    run: &mut RunMut,
    busy: &[u32],
    t: u32,
    act: &'a mut Acting,
    by_stage: bool,
) -> [&'a [u32]; 3] {
    let (proc_, levers, room) = (&mut *run.proc_, (&m.mandate_mask, &m.pilot_mask), &m.room);
    let [need, design, rest] = &mut act.groups;
    let (need, design, rest) = (&mut need[..busy.len()], &mut design[..busy.len()], &mut rest[..busy.len()]);
    let mut count = [0usize; 3];
    for &i in busy {
        let iu = i;
        let i = i as usize;
        let w0 = proc_[i];
        let s = process::stage(w0);
        let (idle, implementing) = (s == stage::IDLE, s == stage::IMPLEMENT);
        let free = (levers.0[i] | levers.1[i]) == 0;
        let gated = implementing | (idle & free);
        let (st, p) = if idle {
            (stream::NEED, mul_q(room_space(pre.space, room[i]), prm.r_need))
        } else {
            (stream::IMPL_DONE, prm.r_impl)
        };
        let go = !gated | chance(draws.draw(iu, t, st), p);
        // Every list is written, and only one count moves: no branch on the stage.
        let (in_need, in_design) = (by_stage & (s == stage::NEED), by_stage & (s == stage::AGENDA || s == stage::DESIGN));
        need[count[0]] = iu;
        design[count[1]] = iu;
        rest[count[2]] = iu;
        count[0] += (go & in_need) as usize;
        count[1] += (go & in_design) as usize;
        count[2] += (go & !in_need & !in_design) as usize;
        proc_[i] = process::tick_if(w0, !go);
    }
    let [need, design, rest] = &act.groups;
    [&need[..count[0]], &design[..count[1]], &rest[..count[2]]]
}

/// Steps 5–9 and 13 for a `BUSY` unit i, after `step_common` gave its incentive `inc` and gap
/// `g`: the levers from above, then the stage of its process. Writes only unit i's own slots and the
/// rung attempt and failure counters of the month's record `rec`. WGSL twin: `step_unit`, which
/// takes steps 1–10 in one function, adds the unit's changes and sums to the month's record, and
/// puts a leaving leader on its run's list for phase C.
#[inline(always)]
pub fn step_process<T: Tracer>(
    m: &Model,
    prm: &Params,
    draws: &Draws,
    pre: &Prelude,
    run: &mut RunMut,
    inc: u32,
    g: u32,
    rec: &mut [u32],
    i: usize,
    t: u32,
    tr: &mut T,
) {
    let n = prm.n_units as usize;
    let iu = i as u32;
    let mut p = run.p[i];
    let e = run.e[i];
    let mut l = run.l[i];
    let mut b = run.b[i];

    let w0 = run.proc_[i];
    let s0 = process::stage(w0);
    let mut w = process::tick(w0);
    let mut ev = Event::new(t, iu, s0, inc, g, run.theta[i], l);

    // 13. Vertical levers: mandates, then pilots. A forced agenda makes the pitch too.
    let mut forced = false;
    if s0 <= stage::AGENDA {
        for mi in 0..(prm.n_mandates as usize).min(MAX_LEVERS) {
            let md = &prm.mandates[mi];
            let k = md.innov as usize;
            let at = k * n + i;
            let d = run.depth[at];
            if m.mandate_mask[i] & (1 << mi) != 0
                && t >= md.start
                && t <= md.deadline
                && t >= prm.innov[k].available
                && d < md.depth
                && chance(draws.draw(iu, 0, sub(stream::COMPLY, mi as u32)), md.compliance)
            {
                let b_before = b;
                b = pitch(prm, b, ONE, l);
                let flags = process::MANDATED | process::with_required(md.depth);
                if d == 0 {
                    w = process::pack(stage::DESIGN, k as u32, route::MANDATED, flags);
                    run.cand_v[i] = mi as u32;
                } else {
                    // Adopted below the required depth: straight to the next rung of its own design.
                    w = process::pack(
                        stage::IMPLEMENT,
                        k as u32,
                        route::MANDATED,
                        flags | process::with_src(outcome::src_depth(run.ad_extra[at])),
                    );
                    run.cand_q[i] = run.quality[at];
                    run.cand_v[i] = run.variant[at];
                }
                forced = true;
                if T::ON {
                    ev.k = k as u32;
                    (ev.prob, ev.signal, ev.backing_before, ev.backing) = (md.compliance, ONE, b_before, b);
                    ev.rung = md.depth;
                    let what = if d == 0 {
                        "mandate: design ordered from above"
                    } else {
                        "mandate: the next rung ordered from above"
                    };
                    tr.event(ev.to(process::stage(w), what));
                }
                break;
            }
        }
    }
    if !forced && s0 <= stage::NEED {
        for pi in 0..(prm.n_pilots as usize).min(MAX_LEVERS) {
            let pl = &prm.pilots[pi];
            let k = pl.innov as usize;
            if m.pilot_mask[i] & (1 << pi) != 0 && t == pl.month && run.depth[k * n + i] == 0 {
                let b_before = b;
                b = pitch(prm, b, ONE, l);
                w = process::pack(stage::AGENDA, k as u32, route::NONE, 0);
                forced = true;
                if T::ON {
                    ev.k = k as u32;
                    (ev.signal, ev.backing_before, ev.backing) = (ONE, b_before, b);
                    tr.event(ev.to(stage::AGENDA, "pilot: put on the agenda from above"));
                }
                break;
            }
        }
    }

    if !forced {
        let k = process::innov(w0) as usize;
        match s0 {
            stage::IDLE => {
                // 5. Need (P1): √(I·g) ≥ θ, compared squared (for integer θ, ⌊√x⌋ ≥ θ ⟺ x ≥ θ²),
                // and never when I·g = 0, whatever θ is. (v2) With every available innovation
                // adopted, the need deepens the shallowest ladder.
                let drive = inc * g;
                let theta = run.theta[i];
                let pr = mul_q(room_space(pre.space, m.room[i]), prm.r_need);
                if drive > 0 && drive >= theta * theta && chance(draws.draw(iu, t, stream::NEED), pr) {
                    let mut kk = most_visible(m, prm, draws, run, i, t);
                    if kk == NEVER {
                        kk = shallowest(prm, draws, run, i);
                    }
                    if kk != NEVER {
                        w = process::pack(stage::NEED, kk, route::NONE, 0);
                        if T::ON {
                            ev.k = kk;
                            ev.prob = pr;
                            ev.rung = run.depth[kk as usize * n + i] + 1;
                            tr.event(ev.to(stage::NEED, "need: incentive and gap passed the threshold"));
                        }
                    }
                }
            }
            stage::NEED => {
                // 6. Agenda (P2), and (v2) the pitch for upper backing.
                let u = upper_signal(m, prm, pre, run, i, k, w0, t);
                let d = demand(prm, p, e, m.world.firms[i]);
                // pr ≤ r_agenda: a draw that fails r_agenda fails pr. One that passes it is
                // compared with the root squared (`chance_of_root`, the same outcome); only a
                // trace, which shows pr, takes the root.
                let h = draws.draw(iu, t, stream::AGENDA);
                let pr = if T::ON { mul_q(prm.r_agenda, geo_mean(u, d)) } else { 0 };
                let passed = if T::ON {
                    chance(h, pr)
                } else {
                    chance(h, prm.r_agenda) && chance_of_root(h, prm.r_agenda, u * d)
                };
                if tr.agenda(i, passed) {
                    let b_before = b;
                    b = pitch(prm, b, u, l);
                    let at = k * n + i;
                    let deepen = run.depth[at] >= 1;
                    if deepen {
                        // Deepening skips design: the candidate is the unit's own design.
                        run.cand_q[i] = run.quality[at];
                        run.cand_v[i] = run.variant[at];
                        w = process::pack(
                            stage::IMPLEMENT,
                            k as u32,
                            route::NONE,
                            process::with_src(outcome::src_depth(run.ad_extra[at])),
                        );
                    } else {
                        w = process::pack(stage::AGENDA, k as u32, route::NONE, 0);
                    }
                    if T::ON {
                        ev.k = k as u32;
                        (ev.signal, ev.demand, ev.prob, ev.backing_before, ev.backing) = (u, d, pr, b_before, b);
                        ev.rung = run.depth[at] + 1;
                        let what = if deepen {
                            "agenda: to deepen the ladder; the pitch won upper backing"
                        } else {
                            "agenda: upper signal and external demand; the pitch won upper backing"
                        };
                        tr.event(ev.to(process::stage(w), what));
                    }
                } else if chance(draws.draw(iu, t, stream::LAPSE), prm.r_lapse) {
                    w = 0;
                    if T::ON {
                        ev.k = k as u32;
                        (ev.signal, ev.demand, ev.prob) = (u, d, pr);
                        tr.event(ev.to(stage::IDLE, "lapse: the need found no agenda"));
                    }
                }
            }
            stage::AGENDA | stage::DESIGN => {
                // 7. Design (P3). The candidate keeps its source's depth (d_src).
                let flags = process::carried(w0);
                let c = run.cap[i];
                let mut done = false;
                if w0 & process::MANDATED != 0 {
                    if chance(draws.draw(iu, t, stream::DESIGN), prm.r_learn) {
                        let mi = run.cand_v[i] as usize;
                        let ex = run.ex_unit[k];
                        let (q, v, d) = if ex != NEVER {
                            (run.ex_q[k], run.ex_v[k], depth_before(prm, run, n, k, ex as usize, t))
                        } else {
                            (prm.template_q, template_variant(prm, mi), 0)
                        };
                        run.cand_q[i] = q;
                        run.cand_v[i] = v;
                        w = process::pack(stage::IMPLEMENT, k as u32, route::MANDATED, flags | process::with_src(d));
                        done = true;
                        if T::ON {
                            ev.k = k as u32;
                            (ev.source, ev.source_q, ev.quality, ev.variant, ev.rung) = (route::MANDATED, q, q, v, d);
                            tr.event(ev.to(stage::IMPLEMENT, "design: mandated template"));
                        }
                    }
                } else {
                    // The draw first: where it completes neither a learned nor an invented design,
                    // no source can matter, and `best_source` is skipped (the tracer's hooks
                    // answer without side effects).
                    let h = draws.draw(iu, t, stream::DESIGN);
                    let p_invent = mul_q(prm.r_invent, c);
                    let mut src = Source::NONE;
                    if chance(h, prm.r_learn) || chance(h, p_invent) {
                        src = best_source(m, prm, draws, run, i, k, t);
                        // A player's pick among the visible sources (the model's best if none of that kind).
                        if let Some((routes, only)) = tr.learn(i) {
                            let mine = best_source_among(m, prm, draws, run, i, k, t, routes, only);
                            if mine.route != route::NONE {
                                src = mine;
                            }
                        }
                    }
                    if src.route != route::NONE && !tr.invent(i) {
                        if chance(h, prm.r_learn) {
                            let copy = mul_q(src.quality, prm.absorb + mul_q(ONE - prm.absorb, c));
                            let delta = mul_q(mul_q(inc, prm.delta_max), unit_q(draws.draw(iu, t, stream::IMPROVE)));
                            let q = (copy + delta).min(ONE);
                            let v = if delta >= prm.delta_new { new_variant(i) } else { src.variant };
                            run.cand_q[i] = q;
                            run.cand_v[i] = v;
                            w = process::pack(stage::IMPLEMENT, k as u32, src.route, flags | process::with_src(src.depth));
                            done = true;
                            if T::ON {
                                ev.k = k as u32;
                                (ev.source, ev.source_q, ev.delta, ev.quality, ev.variant) = (src.route, src.quality, delta, q, v);
                                (ev.rung, ev.source_unit) = (src.depth, src.unit);
                                tr.event(ev.to(stage::IMPLEMENT, "design: learned from a source and improved"));
                            }
                        }
                    } else if chance(h, p_invent) {
                        let q = mul_q(c, uniform_q(draws.draw(iu, t, stream::QUALITY), prm.q_lo, prm.q_hi));
                        let v = new_variant(i);
                        run.cand_q[i] = q;
                        run.cand_v[i] = v;
                        w = process::pack(stage::IMPLEMENT, k as u32, route::INVENTED, flags);
                        done = true;
                        if T::ON {
                            ev.k = k as u32;
                            (ev.source, ev.quality, ev.variant) = (route::INVENTED, q, v);
                            let what = if src.route == route::NONE {
                                "design: invented, nothing to learn from"
                            } else {
                                "design: invented, by the player's choice, with a source in sight"
                            };
                            tr.event(ev.to(stage::IMPLEMENT, what));
                        }
                    }
                }
                if !done && s0 == stage::AGENDA {
                    w = process::pack(stage::DESIGN, k as u32, route::NONE, flags);
                    if T::ON {
                        ev.k = k as u32;
                        tr.event(ev.to(stage::DESIGN, "design: work on a design began; the first attempt did not finish"));
                    }
                }
            }
            _ => {
                // 8. Implementation (P4), one rung at a time.
                if chance(draws.draw(iu, t, stream::IMPL_DONE), prm.r_impl) {
                    let at = k * n + i;
                    let j = run.depth[at] + 1;
                    let r = prm.innov[k].rungs;
                    let u = upper_signal(m, prm, pre, run, i, k, w0, t);
                    let phi = run.phi[i];
                    let h = hurdle(prm, k, j, process::src_depth(w0), phi);
                    let sp = success_prob(m, prm, h, l, b, u, run.cap[i]);
                    let rb = k * agg::PER_INNOV;
                    rec[rb + agg::RUNG_ATTEMPTS] += 1;
                    if T::ON {
                        ev.k = k as u32;
                        (ev.signal, ev.prob, ev.rung, ev.hurdle, ev.resistance) = (u, sp, j, h, phi);
                        ev.backing_before = b;
                    }
                    if chance(draws.draw(iu, t, stream::SUCCESS), sp) {
                        // 9. A rung reached; at rung 1 the adoption.
                        if j == 1 {
                            let ro = process::route(w0);
                            run.adopt_month[at] = t;
                            run.quality[at] = run.cand_q[i];
                            run.variant[at] = run.cand_v[i];
                            run.route[at] = ro;
                            run.ad_leader[at] = run.ambition[i] | (run.mu[i] << 16);
                            run.ad_extra[at] = outcome::pack(inc, outcome::PENDING, process::src_depth(w0));
                        }
                        let q = run.quality[at];
                        let gains = rung_reached(m, prm, run, i, k, j, q, u, p, l, b, t);
                        (p, l, b) = (gains.p, gains.l, gains.b);
                        let push = j < r && (j < process::required(w0) || tr.push(i, chance(draws.draw(iu, t, stream::CONTINUE), inc)));
                        w = if push {
                            process::pack(
                                stage::IMPLEMENT,
                                k as u32,
                                process::route(w0),
                                process::carried(w0) | process::with_src(process::src_depth(w0)),
                            )
                        } else {
                            0
                        };
                        if T::ON {
                            (ev.quality, ev.variant, ev.source) = (q, run.variant[at], process::route(w0));
                            (ev.legitimacy, ev.backing, ev.delta) = (l, b, gains.novelty);
                            let what = if j == 1 {
                                "adopted: the first rung reached"
                            } else if j == r {
                                "completed: the last rung reached, the ladder is complete"
                            } else {
                                "deepened: a further rung reached"
                            };
                            tr.event(ev.to(process::stage(w), what));
                        }
                    } else {
                        rec[rb + agg::RUNG_FAILURES] += 1;
                        l -= mul_q(l, prm.pen_fail);
                        b -= mul_q(b, prm.pen_fail);
                        w = 0;
                        if T::ON {
                            (ev.quality, ev.legitimacy, ev.backing) = (run.cand_q[i], l, b);
                            tr.event(ev.to(stage::IDLE, "failed: the rung was not reached; rungs already reached stay"));
                        }
                    }
                }
            }
        }
    }
    run.proc_[i] = w;
    run.p[i] = p;
    run.l[i] = l;
    run.b[i] = b;
}

/// Step 10 for every unit of the run: drift of P, L and B (`drift`), the last part of the WGSL
/// twin `step_unit`.
#[inline(always)]
pub fn drift_all(prm: &Params, run: &mut RunMut) {
    for ((p, l), b) in run.p.iter_mut().zip(run.l.iter_mut()).zip(run.b.iter_mut()) {
        (*p, *l, *b) = drift(prm, *p, *l, *b);
    }
}

/// The promotion scores a month's rankings read (step 11): every member of each peer group in
/// which a leader's term ends this month, from the state at the end of phase B, in the order of
/// `World::group_members` (so a ranking reads its group's scores side by side, where a unit's
/// peers may lie far apart). The twin is the score `step_unit` writes for every unit on the GPU;
/// the other entries of `scores` are stale; `every` is scratch (a score per unit). `ending` lists (at least) the units whose leader's
/// term ends or who retire this month; `marks` has one entry per peer group, none equal to `t`
/// (month t ≥ 1) before the month.
#[inline(always)]
pub fn rank_scores(
    m: &Model,
    prm: &Params,
    run: &RunMut,
    ending: &[u32],
    t: u32,
    marks: &mut [u32],
    every: &mut [i32],
    scores: &mut [i32],
) {
    let w = &m.world;
    if ending.is_empty() {
        return;
    }
    // Every unit's score in one pass over the columns, then each ranked group's gathered from it.
    let n = prm.n_units as usize;
    let (p, p0, credit, l) = (&run.p[..n], &run.p0[..n], &run.credit[..n], &run.l[..n]);
    for (i, slot) in every[..n].iter_mut().enumerate() {
        *slot = score(prm, p[i], p0[i], credit[i], l[i]);
    }
    for &i in ending {
        let i = i as usize;
        if run.tenure[i] >= prm.term && run.age[i] < prm.age_retire {
            // `marks[g] == t`: group g is scored this month already.
            let g = w.group[i] as usize;
            if marks[g] != t {
                marks[g] = t;
                let from = w.group_start[g] as usize;
                for (slot, &j) in scores[from..].iter_mut().zip(w.peers(i)) {
                    *slot = every[j as usize];
                }
            }
        }
    }
}

/// Step 11 for unit i (phase C): term end, retirement, promotion by peer rank, replacement. A
/// new leader's incentive replaces `inc[i]` (`span`: `age_span(prm)`); `scores` are those of
/// `rank_scores`, in group order. On the GPU this is two kernels over the run's list of leaving
/// leaders, so that every ranking sees its peers as phase B left them. The ranking, reading only:
/// WGSL twin: `tournament_rank`. The rest, with what the leaving changes in the month's record:
/// WGSL twin: `tournament_unit`.
#[inline(always)]
pub fn tournament_unit<T: Tracer>(
    m: &Model,
    prm: &Params,
    draws: &Draws,
    run: &mut RunMut,
    scores: &[i32],
    span: Recip,
    inc: &mut [u32],
    rec: &mut [u32],
    i: usize,
    t: u32,
    tr: &mut T,
) {
    let n = prm.n_units as usize;
    let iu = i as u32;
    let retire = run.age[i] >= prm.age_retire;
    let term_end = run.tenure[i] >= prm.term;
    if retire || term_end {
        let mut replace = retire;
        let mut promoted = false;
        // What the ranking saw, for the trace: score, its parts, peers above, group size.
        let mut ranked = (0i32, [0i32; 3], 0u32, 0u32);
        if !retire {
            let peers = m.world.peers(i);
            // The group's scores side by side (`rank_scores`); i's own from its state, unchanged
            // since phase B (a ranking changes only the ranked unit's state).
            let from = m.world.group_start[m.world.group[i] as usize] as usize;
            let mine = score(prm, run.p[i], run.p0[i], run.credit[i], run.l[i]);
            let mut higher = 0u32;
            for (&j, &sj) in peers.iter().zip(&scores[from..]) {
                higher += ((sj > mine) | ((sj == mine) & (j < i as u32))) as u32;
            }
            promoted = higher * ONE < prm.rho * peers.len() as u32;
            replace = promoted;
            if T::ON {
                let parts = score_parts(prm, run.p[i], run.p0[i], run.credit[i], run.l[i]);
                ranked = (mine, parts, higher, peers.len() as u32);
            }
        }
        // (v2) The leaders who adopted in this term learn their fate at this first ranking.
        let fate = if retire {
            outcome::RETIRED
        } else if promoted {
            outcome::PROMOTED
        } else {
            outcome::NOT_PROMOTED
        };
        for k in 0..prm.n_innov as usize {
            let at = k * n + i;
            if run.adopt_month[at] != NEVER && outcome::fate(run.ad_extra[at]) == outcome::PENDING {
                run.ad_extra[at] = outcome::with_fate(run.ad_extra[at], fate);
            }
        }
        let p = run.p[i];
        run.tenure[i] = 0;
        run.credit[i] = 0;
        run.p0[i] = p;
        if replace {
            run.age[i] = uniform_int(draws.draw(iu, t, stream::LEADER_AGE), prm.appoint_lo, prm.appoint_hi);
            run.ambition[i] = uniform_q(draws.draw(iu, t, stream::LEADER_AMBITION), prm.ambition_lo, prm.ambition_hi);
            run.mu[i] = uniform_q(draws.draw(iu, t, stream::LEADER_PUBLICITY), prm.mu_lo, prm.mu_hi);
            inc[i] = incentive(prm, span, run.ambition[i], run.age[i]);
            run.b[i] -= mul_q(run.b[i], prm.b_loss);
            let peers = m.world.peers(i);
            let transfer = peers.len() > 1 && chance(draws.draw(iu, t, stream::TRANSFER), prm.p_transfer);
            let mut from = NEVER;
            if transfer {
                // A random peer other than i: pick among the other len-1 members.
                let pick = draws.draw(iu, t, stream::TRANSFER_PEER) % (peers.len() as u32 - 1);
                let pos = peers.iter().position(|&j| j as usize == i).unwrap_or(0) as u32;
                from = peers[(pick + (pick >= pos) as u32) as usize];
            }
            for k in 0..prm.n_innov as usize {
                let at = k * n + i;
                if from != NEVER && adopted_before(run, n, k, from as usize, t) {
                    run.know_q[at] = run.quality[k * n + from as usize];
                    run.know_v[at] = run.variant[k * n + from as usize];
                    run.know_d[at] = depth_before(prm, run, n, k, from as usize, t);
                } else {
                    run.know_q[at] = 0;
                    run.know_v[at] = 0;
                    run.know_d[at] = 0;
                }
            }
            let w = run.proc_[i];
            let dropped = process::stage(w) != stage::IDLE && chance(draws.draw(iu, t, stream::DROP), prm.p_drop);
            if dropped {
                run.proc_[i] = 0;
            }
            if T::ON {
                let mut ev = Event::new(t, iu, process::stage(w), 0, 0, run.theta[i], run.l[i]);
                ev.k = process::innov(w);
                ev.source = from;
                ev.backing = run.b[i];
                (ev.score, ev.parts, ev.higher, ev.peers) = ranked;
                let what = match (retire, dropped) {
                    (true, false) => "leader: retired and replaced",
                    (true, true) => "leader: retired and replaced; the newcomer dropped the process",
                    (false, false) => "leader: promoted and replaced",
                    (false, true) => "leader: promoted and replaced; the newcomer dropped the process",
                };
                tr.event(ev.to(process::stage(run.proc_[i]), what));
            }
        } else if T::ON {
            let w = run.proc_[i];
            let mut ev = Event::new(t, iu, process::stage(w), 0, 0, run.theta[i], run.l[i]);
            ev.k = process::innov(w);
            ev.source = NEVER;
            ev.backing = run.b[i];
            (ev.score, ev.parts, ev.higher, ev.peers) = ranked;
            tr.event(ev.to(process::stage(w), "leader: term ended without promotion; serves again"));
        }
        if promoted {
            rec[agg::global_base(prm.n_innov as usize) + agg::PROMOTIONS] += 1;
        }
    }
}

/// The month record's counts of state (adopters, by level, by depth, complete, units by stage
/// and idle), kept from the changes as the month goes rather than by counting every unit each
/// month, and the sums of P, E, L, I and B taken column by column. The counts live in a record's
/// layout (`agg`); the other words stay 0. The GPU keeps them the same way, with atomics
/// (integer sums: the same record): phases B and C add each change to the month's record,
/// `k_tally_start` the counts a chunk starts from, and `k_levels` turns the changes into counts
/// after the last month (`agg::is_level` says which words are counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    counts: Vec<u32>,
}

impl Tally {
    /// The counts of `run`'s state as it stands. WGSL twin: `tally_unit` (per unit).
    pub fn of(m: &Model, prm: &Params, run: &RunMut) -> Self {
        let (n, kn) = (prm.n_units as usize, prm.n_innov as usize);
        let mut tally = Tally {
            counts: vec![0; agg::record_len(kn)],
        };
        for i in 0..n {
            tally.counts[Self::stage_slot(kn, run.proc_[i])] += 1;
            for k in 0..kn {
                for j in 1..=run.depth[k * n + i] {
                    tally.rung(m, prm, k, i, j);
                }
            }
        }
        tally
    }

    /// Where a unit with process word `w` is counted: its stage of its innovation, or idle.
    /// WGSL twin: `stage_slot`.
    #[inline(always)]
    fn stage_slot(kn: usize, w: u32) -> usize {
        match process::stage(w) {
            stage::IDLE => agg::global_base(kn) + agg::IDLE,
            s => process::innov(w) as usize * agg::PER_INNOV + agg::BY_STAGE + s as usize - 1,
        }
    }

    /// A unit's process word went from `w0` to `w`. WGSL twin: `tally_moved`.
    #[inline(always)]
    pub fn moved(&mut self, kn: usize, w0: u32, w: u32) {
        if (w0 ^ w) & 0x3F != 0 {
            self.counts[Self::stage_slot(kn, w0)] -= 1;
            self.counts[Self::stage_slot(kn, w)] += 1;
        }
    }

    /// Unit i reached rung j of innovation k (from depth j − 1). WGSL twin: `tally_rung`.
    #[inline(always)]
    pub fn rung(&mut self, m: &Model, prm: &Params, k: usize, i: usize, j: u32) {
        let base = k * agg::PER_INNOV;
        let c = &mut self.counts;
        if j == 1 {
            c[base + agg::ADOPTERS] += 1;
            let level = m.world.level[i] as usize;
            if level < MAX_LEVELS {
                c[base + agg::BY_LEVEL + level] += 1;
            }
        } else {
            c[base + agg::DEPTH + j as usize - 2] -= 1;
        }
        c[base + agg::DEPTH + j as usize - 1] += 1;
        if j == prm.innov[k].rungs {
            c[base + agg::COMPLETE] += 1;
        }
    }

    /// Add the counts and the end-of-month sums of P, E, L, B and the incentives `inc` to the
    /// month's record (before recognition, as the twin records at the end of phase C).
    #[inline(always)]
    pub fn record(&self, run: &RunMut, inc: &[u32], rec: &mut [u32]) {
        for (r, c) in rec.iter_mut().zip(&self.counts) {
            *r += c;
        }
        let g = self.counts.len() - agg::GLOBAL;
        for (at, col) in [
            (agg::SUM_P, &*run.p),
            (agg::SUM_E, &*run.e),
            (agg::SUM_L, &*run.l),
            (agg::SUM_I, inc),
            (agg::SUM_B, &*run.b),
        ] {
            agg::add_split_column(rec, g + at, col);
        }
    }
}

/// True if candidate (i, k) ranks before (j, kj) for recognition: higher merit, then lower
/// unit id, then lower innovation. WGSL twin: `ranks_before`.
#[inline(always)]
fn ranks_before(mi: u32, i: usize, k: usize, mj: u32, j: usize, kj: usize) -> bool {
    mi > mj || (mi == mj && (i < j || (i == j && k < kj)))
}

/// Step 12 (phase D, per run, in the last month of each window): recognise the M candidates of
/// the window with the highest merit; (v2) a candidate is a unit's best rung of an innovation
/// reached in the window, merit n_j·q·(1 + μ)·j/R_k. WGSL twin: `recognise_run`, which applies
/// the same picks in the same order; the GPU finds them in parallel (`recog_collect` lists the
/// candidates, `recog_rank` ranks each by `ranks_before`, a total order, so the first M ranks are
/// the picks; the CPU sorts them by it).
#[inline(always)]
pub fn recognise_run<T: Tracer>(prm: &Params, run: &mut RunMut, rec: &mut [u32], t: u32, tr: &mut T) {
    if prm.recog_every == 0 || !t.is_multiple_of(prm.recog_every) {
        return;
    }
    recognise_window(prm, run, rec, t, tr, false);
}

/// A recognition out of turn (the classroom teacher's "recognition now", at the end of month t):
/// the window so far, as `recognise_run` would take it; the candidates recognised leave the
/// window's list, so the window's own round does not name them again for the same rungs.
pub fn recognise_now<T: Tracer>(prm: &Params, run: &mut RunMut, rec: &mut [u32], t: u32, tr: &mut T) {
    recognise_window(prm, run, rec, t, tr, true);
}

/// A recognition round in month t (see `recognise_run`); with `leave`, each pick leaves the
/// window's candidates (its merit month cleared: it ranks before the later picks, so the round's
/// own picks are unchanged).
fn recognise_window<T: Tracer>(prm: &Params, run: &mut RunMut, rec: &mut [u32], t: u32, tr: &mut T, leave: bool) {
    let n = prm.n_units as usize;
    let kn = prm.n_innov as usize;
    let start = window_start(prm, t);
    // The window's candidates (merit, unit, k) in the order of `ranks_before`, a total order: the
    // first M are the picks of M rounds that each take the best candidate after the last pick.
    let mut cands: Vec<(u32, usize, usize)> = Vec::new();
    for k in 0..kn {
        for i in 0..n {
            if run.merit_m[k * n + i] >= start {
                cands.push((run.merit[k * n + i], i, k));
            }
        }
    }
    cands.sort_unstable_by(|&(ma, ia, ka), &(mb, ib, kb)| {
        if ranks_before(ma, ia, ka, mb, ib, kb) {
            std::cmp::Ordering::Less
        } else if ranks_before(mb, ib, kb, ma, ia, ka) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    let mut boosted = [false; 8];
    let mut count = 0u32;
    for &(merit, i, k) in cands.iter().take(prm.recog_count as usize) {
        count += 1;
        let at = k * n + i;
        if leave {
            run.merit_m[at] = 0;
        }
        let (l_before, b_before) = (run.l[i], run.b[i]);
        run.l[i] = (run.l[i] + prm.l_bonus).min(ONE);
        run.b[i] = (run.b[i] + prm.b_bonus).min(ONE);
        let q = run.quality[at];
        if run.ex_unit[k] == NEVER || q > run.ex_q[k] {
            run.ex_unit[k] = i as u32;
            run.ex_q[k] = q;
            run.ex_v[k] = run.variant[at];
        }
        if !boosted[k] {
            boosted[k] = true;
            run.boost[k] = (run.boost[k] + prm.u_boost).min(ONE);
        }
        if T::ON {
            let mut ev = Event::new(t, i as u32, process::stage(run.proc_[i]), 0, 0, run.theta[i], l_before);
            ev.k = k as u32;
            (ev.quality, ev.variant, ev.prob) = (q, run.variant[at], merit);
            (ev.legitimacy, ev.backing_before, ev.backing, ev.rung) = (run.l[i], b_before, run.b[i], run.depth[at]);
            tr.event(ev.to(process::stage(run.proc_[i]), "recognised: named as good practice by the centre"));
        }
    }
    rec[agg::global_base(kn) + agg::RECOGNITIONS] += count;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::mix32;
    use std::path::Path;

    /// `narrow_mult` divides exactly every sum of d values P/16 for every count d up to 16, twice
    /// a row, in 32 bits; not so for 19.
    #[test]
    fn the_narrow_multiplier_divides_every_sum_of_p_sixteenths() {
        let top = ONE >> 4;
        for d in 1..=16 {
            let m = narrow_mult(d);
            for x in 0..=top * d {
                let q = x.checked_mul(m).map(|y| y >> NARROW_SHIFT);
                assert_eq!(q, Some(x / d), "{x} / {d}");
            }
        }
        // The bound is the proof's (`NARROW_SHIFT`); past it the multiplier soon fails.
        let d = 19;
        let wrong = (0..=top * d).any(|x| x.checked_mul(narrow_mult(d)).map(|y| y >> NARROW_SHIFT) != Some(x / d));
        assert!(wrong, "19 neighbours divided by the narrow multiplier");
    }

    /// The CPU's pass gives `neighbour_mean`'s integer (the twin's rule) for every unit of the
    /// china baseline's world, some of whose units have more neighbours than one chunk of
    /// `WIDTH`, with P anywhere in 0..=ONE, its ends included.
    #[test]
    fn the_neighbour_pass_is_the_neighbour_mean() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/baseline.toml");
        let sc = crate::scenario::Scenario::load(Path::new(path)).expect("baseline");
        let (m, _) = sc.build().expect("builds");
        assert!((0..m.world.len()).any(|i| m.world.neighbours(i).len() > NeighbourLists::WIDTH));
        same_means(&m.world);
        // A hub with more than two rows of neighbours, a unit with none, and the rest in pairs.
        let mut units = String::from("id,name,level,parent,x,y\nhub,,0,,0.5,0.5\nalone,,0,,0.9,0.9\n");
        let mut edges = String::from("a,b\n");
        for u in 0..20 {
            units += &format!("u{u},,0,,0.{u:02},0.1\n");
            edges += &if u < 19 { format!("hub,u{u}\n") } else { format!("u{u},u0\n") };
        }
        let draws = crate::world::Draws {
            capacity: (0, ONE),
            firms: (0, ONE),
            seed: 1,
        };
        let w = crate::world::from_bytes(
            (Path::new("units.csv"), units.as_bytes()),
            (Path::new("edges.csv"), edges.as_bytes()),
            &draws,
        )
        .expect("world");
        assert_eq!(w.neighbours(0).len(), 19);
        assert!(w.neighbours(1).is_empty());
        same_means(&w);
    }

    #[test]
    fn flagged_lists_the_flagged_units_in_order() {
        for n in [0usize, 1, 7, 63, 64, 65, 200, 3208] {
            let flags: Vec<u8> = (0..n as u32).map(|i| (mix32(i ^ n as u32) % 4) as u8).collect();
            let (mut busy, mut leaving) = (vec![0; n], vec![0; n]);
            let (nb, nl) = flagged(&flags, &mut busy, &mut leaving);
            let want = |bit: u8| (0..n as u32).filter(|&i| flags[i as usize] & bit != 0).collect::<Vec<_>>();
            assert_eq!(busy[..nb], want(BUSY), "{n} units: busy");
            assert_eq!(leaving[..nl], want(LEAVES), "{n} units: leaving");
        }
    }

    /// `gate_draws` then `step_process` for the units it leaves, in unit order or grouped by
    /// stage, gives the state and record of `step_process` for every busy unit, month by month,
    /// with levers (mandate) and without.
    #[test]
    fn the_gate_leaves_every_unit_whose_step_does_more_than_tick() {
        use crate::model::trace::NoTrace;
        use crate::model::{init_batch, RunId};
        let mut gated_out = 0;
        for name in ["baseline", "mandate"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml"));
            let sc = crate::scenario::Scenario::load(&path).expect("loads");
            let (m, prm) = sc.build().expect("builds");
            let id = RunId::new(sc.spec.seed, 0, 1);
            let mut state = init_batch(&m, &[prm], &[id]);
            let (n, rl) = (m.world.len(), agg::record_len(state.innov));
            let span = age_span(&prm);
            let draws = Draws::new(id.key, n);
            let (mut nbr, mut inc, mut gap, mut flags) = (vec![0; n], vec![0; n], vec![0; n], vec![0u8; n]);
            for t in 1..=48 {
                // The month up to its busy units, as `backend::cpu` runs it.
                let mut a = state.clone();
                let busy: Vec<u32>;
                let pre;
                {
                    let run = &mut a.runs_mut()[0];
                    pre = prelude_run(&prm, run, t);
                    let mut p16 = Vec::new();
                    p_sixteenths(run.p, &mut p16);
                    m.nbr_lists.means(&p16, run.p, &mut nbr);
                    step_common(&m, &prm, &pre, span, run, &nbr, &mut inc, &mut gap, &mut flags);
                    busy = (0..n as u32).filter(|&i| flags[i as usize] & BUSY != 0).collect();
                }
                let start = a.clone();
                let mut rec_a = vec![0; rl];
                let run = &mut a.runs_mut()[0];
                let mut tally_a = Tally::of(&m, &prm, run);
                let tally_start = tally_a.clone();
                for &i in &busy {
                    let i = i as usize;
                    let w0 = run.proc_[i];
                    step_process(&m, &prm, &draws, &pre, run, inc[i], gap[i], &mut rec_a, i, t, &mut NoTrace);
                    tally_a.moved(state.innov, w0, run.proc_[i]);
                }
                // The gate's units in unit order, then grouped by stage.
                let mut in_order = Vec::new();
                for by_stage in [false, true] {
                    let (mut b, mut rec_b, mut tally_b) = (start.clone(), vec![0; rl], tally_start.clone());
                    let run = &mut b.runs_mut()[0];
                    let mut scratch = Acting::new(n);
                    let act = gate_draws(&m, &prm, &draws, &pre, run, &busy, t, &mut scratch, by_stage).concat();
                    let n_act = act.len();
                    let stages: Vec<u32> = act.iter().map(|&i| process::stage(run.proc_[i as usize])).collect();
                    for &i in &act {
                        let i = i as usize;
                        let w0 = run.proc_[i];
                        step_process(&m, &prm, &draws, &pre, run, inc[i], gap[i], &mut rec_b, i, t, &mut NoTrace);
                        tally_b.moved(state.innov, w0, run.proc_[i]);
                    }
                    if by_stage {
                        let group = |&s: &u32| match s {
                            stage::NEED => 0,
                            stage::AGENDA | stage::DESIGN => 1,
                            _ => 2,
                        };
                        assert!(stages.iter().map(group).is_sorted(), "{name}, month {t}: not grouped by stage");
                        let mut units = act[..n_act].to_vec();
                        units.sort();
                        assert_eq!(units, in_order, "{name}, month {t}: other units by stage");
                    } else {
                        assert!(act[..n_act].is_sorted(), "{name}, month {t}: not in unit order");
                        in_order = act[..n_act].to_vec();
                        gated_out += busy.len() - n_act;
                    }
                    assert_eq!(rec_a, rec_b, "{name}, month {t}: the record");
                    assert_eq!(tally_a, tally_b, "{name}, month {t}: the tally of stages");
                    for ((col, x), (_, y)) in a.columns().into_iter().zip(b.columns()) {
                        let at = x.iter().zip(y).position(|(p, q)| p != q);
                        assert!(
                            at.is_none(),
                            "{name}, month {t}: state {col}[{at:?}] differs (by stage: {by_stage})"
                        );
                    }
                }
                let mut rec = vec![0; rl];
                crate::backend::cpu::run_months(&m, &prm, id.key, &mut state.runs_mut()[0], &mut rec, t, t, &mut NoTrace, &|_| {});
            }
        }
        assert!(gated_out > 0, "the gate ticked no unit");
    }

    /// `NeighbourLists::means` gives `neighbour_mean`'s integer for every unit of `w`, with P at
    /// 0 and ONE among its values.
    fn same_means(w: &crate::world::World) {
        let m = Model::new(w.clone());
        let n = w.len();
        for seed in 0..4u32 {
            let p: Vec<u32> = (0..n as u32)
                .map(|i| match mix32(i ^ seed.wrapping_mul(0x9e37_79b9)) % 7 {
                    0 => ONE,
                    1 => 0,
                    h => (mix32(h ^ i) % (ONE + 1)).min(ONE),
                })
                .collect();
            let mut p16 = Vec::new();
            p_sixteenths(&p, &mut p16);
            let mut out = vec![0; n];
            m.nbr_lists.means(&p16, &p, &mut out);
            for (i, &got) in out.iter().enumerate() {
                assert_eq!(got, neighbour_mean(&m, &p, i), "unit {i}");
            }
        }
    }
}
