//! The month of MODEL.md §4, one function per phase; the CPU backend calls these as they are.
//! Each function has a WGSL twin of the same name in `shaders/step.wgsl` (same order of operations).

// The rules take the run's pieces one by one, as their WGSL twins do.
#![allow(clippy::too_many_arguments)]

use super::agg;
use super::fixed::*;
use super::params::{Params, MAX_LEVERS, NEVER};
use super::rng::{draw, stream, stream::sub};
use super::trace::{Event, Tracer};
use super::Model;
use crate::state::{process, route, stage, RunMut};
use crate::world::{MAX_LEVELS, NO_PARENT};

/// Per-run values of month `t` that every unit reads (computed before the units step).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prelude {
    /// Institutional space S(t).
    pub space: u32,
    /// Upper signal u_k(t) including recognition boosts.
    pub signal: [u32; 8],
    /// Share of units that adopted k as of month t, Q16 (floor of adopters·65536/N, capped).
    pub share: [u32; 8],
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

/// Phase 0 (per run): schedules, boosts, adoption shares, exemplar performance.
/// WGSL twin: `prelude_run`.
pub fn prelude_run(prm: &Params, run: &RunMut, t: u32) -> Prelude {
    let n = prm.n_units;
    let mut pre = Prelude {
        space: prm.space.at(t),
        ..Default::default()
    };
    for k in 0..prm.n_innov as usize {
        pre.signal[k] = (prm.innov[k].signal.at(t) + run.boost[k]).min(ONE);
        pre.share[k] = ratio_q(run.adopters[k], n);
        let ex = run.ex_unit[k];
        if ex != NEVER {
            pre.ex_p = pre.ex_p.max(run.p[ex as usize]);
        }
    }
    pre
}

/// Phase A (per unit): mean performance of the neighbours as of month t; own P without any.
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

/// Step 2: incentive I = α · A(age). WGSL twin: `incentive`.
#[inline(always)]
pub fn incentive(prm: &Params, ambition: u32, age: u32) -> u32 {
    let a = if age <= prm.age_peak {
        ONE
    } else if age >= prm.age_cap {
        0
    } else {
        ONE * (prm.age_cap - age) / (prm.age_cap - prm.age_peak)
    };
    mul_q(ambition, a)
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
    if w & (process::MANDATED | process::PILOT) != 0 {
        u = ONE;
    }
    u
}

/// Step 5: the available, not-yet-adopted innovation most visible to unit i (most adopting
/// neighbours, then a recognised exemplar, then lowest k), or NEVER. WGSL twin: `most_visible`.
pub fn most_visible(m: &Model, prm: &Params, run: &RunMut, i: usize, t: u32) -> u32 {
    let n = prm.n_units as usize;
    let nb = m.world.neighbours(i);
    let mut best = NEVER;
    let mut best_score = 0u32;
    for k in 0..prm.n_innov as usize {
        if t < prm.innov[k].available || run.adopt_month[k * n + i] != NEVER {
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

/// The best design unit i can learn for innovation k: (route, quality, variant), route NONE if
/// there is no source. Order among equal quality: neighbour, exemplar, parent, leader.
/// WGSL twin: `best_source`.
pub fn best_source(m: &Model, prm: &Params, key: u32, run: &RunMut, i: usize, k: usize, t: u32) -> (u32, u32, u32) {
    let n = prm.n_units as usize;
    let mut src = (route::NONE, 0u32, 0u32);
    let mut found = false;
    for &j in m.world.neighbours(i) {
        let j = j as usize;
        if adopted_before(run, n, k, j, t) {
            let q = run.quality[k * n + j];
            if !found || q > src.1 {
                src = (route::NEIGHBOUR, q, run.variant[k * n + j]);
                found = true;
            }
        }
    }
    let ex = run.ex_unit[k];
    if ex != NEVER && ex as usize != i && chance(draw(key, i as u32, t, sub(stream::VISIBLE, k as u32)), prm.nu) {
        let q = run.ex_q[k];
        if !found || q > src.1 {
            src = (route::EXEMPLAR, q, run.ex_v[k]);
            found = true;
        }
    }
    let parent = m.world.parent[i];
    if parent != NO_PARENT && adopted_before(run, n, k, parent as usize, t) {
        let q = run.quality[k * n + parent as usize];
        if !found || q > src.1 {
            src = (route::PARENT, q, run.variant[k * n + parent as usize]);
            found = true;
        }
    }
    if run.know_v[k * n + i] != 0 {
        let q = run.know_q[k * n + i];
        if !found || q > src.1 {
            src = (route::LEADER, q, run.know_v[k * n + i]);
        }
    }
    src
}

/// Step 8: probability that implementation succeeds. WGSL twin: `success_prob`.
#[inline(always)]
pub fn success_prob(m: &Model, prm: &Params, difficulty: u32, l: u32, u: u32, c: u32) -> u32 {
    let z = mul_coef(prm.b0, ONE) - difficulty as i32 + mul_coef(prm.b_l, l) + mul_coef(prm.b_u, u) + mul_coef(prm.b_c, c);
    sigmoid_q(&m.sigmoid, z)
}

/// Step 10 and the tournament score: drift of P and L. WGSL twin: `drift`.
#[inline(always)]
pub fn drift(prm: &Params, p: u32, l: u32) -> (u32, u32) {
    let p = if p >= prm.p_floor {
        p - mul_q(prm.eps_p, p - prm.p_floor)
    } else {
        p + mul_q(prm.eps_p, prm.p_floor - p)
    };
    (p, l - mul_q(prm.eps_l, l))
}

/// Step 11: tournament score (P − P0) + w_C·C + w_L·L, signed Q16. WGSL twin: `score`.
#[inline(always)]
pub fn score(prm: &Params, p: u32, p0: u32, c: u32, l: u32) -> i32 {
    p as i32 - p0 as i32 + ((prm.w_c * c) >> 8) as i32 + ((prm.w_l * l) >> 8) as i32
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

/// Steps 1–10 for unit i (phase B). Writes only unit i's own slots and `score[i]`.
/// WGSL twin: `step_unit`.
pub fn step_unit<T: Tracer>(
    m: &Model,
    prm: &Params,
    key: u32,
    pre: &Prelude,
    run: &mut RunMut,
    nbr_p: &[u32],
    score_out: &mut [i32],
    i: usize,
    t: u32,
    tr: &mut T,
) {
    let n = prm.n_units as usize;
    let iu = i as u32;
    let c = m.world.capacity[i];
    // 1. Leader ages.
    let age = run.age[i] + 1;
    let tenure = run.tenure[i] + 1;
    run.age[i] = age;
    run.tenure[i] = tenure;
    // 2–4. Incentive, expectation, gap.
    let inc = incentive(prm, run.ambition[i], age);
    let mut p = run.p[i];
    let e = expectation(prm, run.e[i], nbr_p[i], pre.ex_p);
    run.e[i] = e;
    let g = gap(prm, p, e, nbr_p[i]);
    let mut l = run.l[i];

    let w0 = run.proc_[i];
    let s0 = process::stage(w0);
    let mut w = process::tick(w0);
    let mut ev = Event::new(t, iu, s0, inc, g, run.theta[i], l);

    // 13. Vertical levers: mandates, then pilots.
    let mut forced = false;
    if s0 <= stage::AGENDA {
        for mi in 0..(prm.n_mandates as usize).min(MAX_LEVERS) {
            let md = &prm.mandates[mi];
            let k = md.innov as usize;
            if m.mandate_mask[i] & (1 << mi) != 0
                && t >= md.start
                && t <= md.deadline
                && t >= prm.innov[k].available
                && run.adopt_month[k * n + i] == NEVER
                && chance(draw(key, iu, 0, sub(stream::COMPLY, mi as u32)), md.compliance)
            {
                w = process::pack(stage::DESIGN, k as u32, route::MANDATED, process::MANDATED);
                run.cand_v[i] = mi as u32;
                forced = true;
                if T::ON {
                    ev.k = k as u32;
                    ev.prob = md.compliance;
                    tr.event(ev.to(stage::DESIGN, "mandate: design ordered from above"));
                }
                break;
            }
        }
    }
    if !forced && s0 <= stage::NEED {
        for pi in 0..(prm.n_pilots as usize).min(MAX_LEVERS) {
            let pl = &prm.pilots[pi];
            let k = pl.innov as usize;
            if m.pilot_mask[i] & (1 << pi) != 0 && t == pl.month && run.adopt_month[k * n + i] == NEVER {
                w = process::pack(stage::AGENDA, k as u32, route::NONE, process::PILOT);
                forced = true;
                if T::ON {
                    ev.k = k as u32;
                    ev.signal = ONE;
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
                // and never when I·g = 0, whatever θ is.
                let drive = inc * g;
                let theta = run.theta[i];
                let pr = mul_q(pre.space, prm.r_need);
                if drive > 0 && drive >= theta * theta && chance(draw(key, iu, t, stream::NEED), pr) {
                    let kk = most_visible(m, prm, run, i, t);
                    if kk != NEVER {
                        w = process::pack(stage::NEED, kk, route::NONE, 0);
                        if T::ON {
                            ev.k = kk;
                            ev.prob = pr;
                            tr.event(ev.to(stage::NEED, "need: incentive and gap passed the threshold"));
                        }
                    }
                }
            }
            stage::NEED => {
                // 6. Agenda (P2).
                let u = upper_signal(m, prm, pre, run, i, k, w0, t);
                let d = demand(prm, p, e, m.world.firms[i]);
                let pr = mul_q(prm.r_agenda, geo_mean(u, d));
                if chance(draw(key, iu, t, stream::AGENDA), pr) {
                    w = process::pack(stage::AGENDA, k as u32, route::NONE, w0 & process::PILOT);
                    if T::ON {
                        ev.k = k as u32;
                        (ev.signal, ev.demand, ev.prob) = (u, d, pr);
                        tr.event(ev.to(stage::AGENDA, "agenda: upper signal and external demand"));
                    }
                } else if chance(draw(key, iu, t, stream::LAPSE), prm.r_lapse) {
                    w = 0;
                    if T::ON {
                        ev.k = k as u32;
                        (ev.signal, ev.demand, ev.prob) = (u, d, pr);
                        tr.event(ev.to(stage::IDLE, "lapse: the need found no agenda"));
                    }
                }
            }
            stage::AGENDA | stage::DESIGN => {
                // 7. Design (P3).
                let flags = w0 & (process::MANDATED | process::PILOT);
                let mut done = false;
                if w0 & process::MANDATED != 0 {
                    if chance(draw(key, iu, t, stream::DESIGN), prm.r_learn) {
                        let mi = run.cand_v[i] as usize;
                        let (q, v) = if run.ex_unit[k] != NEVER {
                            (run.ex_q[k], run.ex_v[k])
                        } else {
                            (prm.template_q, template_variant(prm, mi))
                        };
                        run.cand_q[i] = q;
                        run.cand_v[i] = v;
                        w = process::pack(stage::IMPLEMENT, k as u32, route::MANDATED, flags);
                        done = true;
                        if T::ON {
                            ev.k = k as u32;
                            (ev.source, ev.source_q, ev.quality, ev.variant) = (route::MANDATED, q, q, v);
                            tr.event(ev.to(stage::IMPLEMENT, "design: mandated template"));
                        }
                    }
                } else {
                    let (src, sq, sv) = best_source(m, prm, key, run, i, k, t);
                    if src != route::NONE {
                        if chance(draw(key, iu, t, stream::DESIGN), prm.r_learn) {
                            let copy = mul_q(sq, prm.absorb + mul_q(ONE - prm.absorb, c));
                            let delta = mul_q(mul_q(inc, prm.delta_max), unit_q(draw(key, iu, t, stream::IMPROVE)));
                            let q = (copy + delta).min(ONE);
                            let v = if delta >= prm.delta_new { new_variant(i) } else { sv };
                            run.cand_q[i] = q;
                            run.cand_v[i] = v;
                            w = process::pack(stage::IMPLEMENT, k as u32, src, flags);
                            done = true;
                            if T::ON {
                                ev.k = k as u32;
                                (ev.source, ev.source_q, ev.delta, ev.quality, ev.variant) = (src, sq, delta, q, v);
                                tr.event(ev.to(stage::IMPLEMENT, "design: learned from a source and improved"));
                            }
                        }
                    } else if chance(draw(key, iu, t, stream::DESIGN), mul_q(prm.r_invent, c)) {
                        let q = mul_q(c, uniform_q(draw(key, iu, t, stream::QUALITY), prm.q_lo, prm.q_hi));
                        let v = new_variant(i);
                        run.cand_q[i] = q;
                        run.cand_v[i] = v;
                        w = process::pack(stage::IMPLEMENT, k as u32, route::INVENTED, flags);
                        done = true;
                        if T::ON {
                            ev.k = k as u32;
                            (ev.source, ev.quality, ev.variant) = (route::INVENTED, q, v);
                            tr.event(ev.to(stage::IMPLEMENT, "design: invented, nothing to learn from"));
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
                // 8. Implementation (P4).
                if chance(draw(key, iu, t, stream::IMPL_DONE), prm.r_impl) {
                    let u = upper_signal(m, prm, pre, run, i, k, w0, t);
                    let sp = success_prob(m, prm, prm.innov[k].difficulty, l, u, c);
                    let q = run.cand_q[i];
                    if chance(draw(key, iu, t, stream::SUCCESS), sp) {
                        // 9. Adoption.
                        let at = k * n + i;
                        let r = process::route(w0);
                        run.adopt_month[at] = t;
                        run.quality[at] = q;
                        run.variant[at] = run.cand_v[i];
                        run.route[at] = r;
                        p += mul_q(mul_gain(prm.g_p, q), ONE - p);
                        let nov = novelty_ratio(mul_gain(prm.kappa, pre.share[k]));
                        let merit = mul_q(nov, q);
                        run.merit[at] = merit;
                        run.credit[i] = (run.credit[i] + merit).min(ONE);
                        let gain_l = mul_q(prm.lambda, merit);
                        l = (l + gain_l + mul_q(gain_l, prm.mu) + mul_q(prm.lambda_u, u)).min(ONE);
                        w = 0;
                        if T::ON {
                            ev.k = k as u32;
                            (ev.signal, ev.prob, ev.quality, ev.variant, ev.source) = (u, sp, q, run.cand_v[i], r);
                            ev.legitimacy = l;
                            tr.event(ev.to(stage::IDLE, "adopted: implementation succeeded"));
                        }
                    } else {
                        l -= mul_q(l, prm.pen_fail);
                        w = 0;
                        if T::ON {
                            ev.k = k as u32;
                            (ev.signal, ev.prob, ev.quality) = (u, sp, q);
                            ev.legitimacy = l;
                            tr.event(ev.to(stage::IDLE, "failed: implementation did not succeed"));
                        }
                    }
                }
            }
        }
    }
    run.proc_[i] = w;
    // 10. Drift.
    let (p, l) = drift(prm, p, l);
    run.p[i] = p;
    run.l[i] = l;
    score_out[i] = score(prm, p, run.p0[i], run.credit[i], l);
}

/// Step 11 for unit i (phase C): term end, retirement, promotion by peer rank, replacement.
/// Also adds unit i's end-of-month state to the month's record `rec`.
/// WGSL twin: `tournament_unit`.
pub fn tournament_unit<T: Tracer>(
    m: &Model,
    prm: &Params,
    key: u32,
    run: &mut RunMut,
    scores: &[i32],
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
        if !retire {
            let peers = m.world.peers(i);
            let mine = scores[i];
            let mut higher = 0u32;
            for &j in peers {
                let sj = scores[j as usize];
                if sj > mine || (sj == mine && (j as usize) < i) {
                    higher += 1;
                }
            }
            promoted = higher * ONE < prm.rho * peers.len() as u32;
            replace = promoted;
        }
        let p = run.p[i];
        run.tenure[i] = 0;
        run.credit[i] = 0;
        run.p0[i] = p;
        if replace {
            run.age[i] = uniform_int(draw(key, iu, t, stream::LEADER_AGE), prm.appoint_lo, prm.appoint_hi);
            run.ambition[i] = uniform_q(draw(key, iu, t, stream::LEADER_AMBITION), prm.ambition_lo, prm.ambition_hi);
            let peers = m.world.peers(i);
            let transfer = peers.len() > 1 && chance(draw(key, iu, t, stream::TRANSFER), prm.p_transfer);
            let mut from = NEVER;
            if transfer {
                // A random peer other than i: pick among the other len-1 members.
                let pick = draw(key, iu, t, stream::TRANSFER_PEER) % (peers.len() as u32 - 1);
                let pos = peers.iter().position(|&j| j as usize == i).unwrap_or(0) as u32;
                from = peers[(pick + (pick >= pos) as u32) as usize];
            }
            for k in 0..prm.n_innov as usize {
                let at = k * n + i;
                if from != NEVER && adopted_before(run, n, k, from as usize, t) {
                    run.know_q[at] = run.quality[k * n + from as usize];
                    run.know_v[at] = run.variant[k * n + from as usize];
                } else {
                    run.know_q[at] = 0;
                    run.know_v[at] = 0;
                }
            }
            let w = run.proc_[i];
            let dropped = process::stage(w) != stage::IDLE && chance(draw(key, iu, t, stream::DROP), prm.p_drop);
            if dropped {
                run.proc_[i] = 0;
            }
            if T::ON {
                let mut ev = Event::new(t, iu, process::stage(w), 0, 0, run.theta[i], run.l[i]);
                ev.k = process::innov(w);
                ev.source = from;
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
            tr.event(ev.to(process::stage(w), "leader: term ended without promotion; serves again"));
        }
        if promoted {
            rec[agg::global_base(prm.n_innov as usize) + agg::PROMOTIONS] += 1;
        }
    }
    record_unit(m, prm, run, rec, i, t);
}

/// Add unit i's end-of-month state to the month's record. WGSL twin: `record_unit`.
#[inline(always)]
pub fn record_unit(m: &Model, prm: &Params, run: &RunMut, rec: &mut [u32], i: usize, t: u32) {
    let n = prm.n_units as usize;
    let kn = prm.n_innov as usize;
    let level = m.world.level[i] as usize;
    for k in 0..kn {
        let at = k * n + i;
        let base = k * agg::PER_INNOV;
        let month = run.adopt_month[at];
        if month <= t {
            rec[base + agg::ADOPTERS] += 1;
            if level < MAX_LEVELS {
                rec[base + agg::BY_LEVEL + level] += 1;
            }
            if month == t {
                rec[base + agg::BY_ROUTE + run.route[at] as usize] += 1;
            }
        }
    }
    let w = run.proc_[i];
    let s = process::stage(w);
    let g = agg::global_base(kn);
    if s == stage::IDLE {
        rec[g + agg::IDLE] += 1;
    } else {
        rec[process::innov(w) as usize * agg::PER_INNOV + agg::BY_STAGE + s as usize - 1] += 1;
    }
    agg::add_split(rec, g + agg::SUM_P, run.p[i]);
    agg::add_split(rec, g + agg::SUM_E, run.e[i]);
    agg::add_split(rec, g + agg::SUM_L, run.l[i]);
    agg::add_split(rec, g + agg::SUM_I, incentive(prm, run.ambition[i], run.age[i]));
}

/// True if adoption (i, k) ranks before (j, kj) for recognition: higher merit, then lower
/// unit id, then lower innovation. WGSL twin: `ranks_before`.
#[inline(always)]
fn ranks_before(mi: u32, i: usize, k: usize, mj: u32, j: usize, kj: usize) -> bool {
    mi > mj || (mi == mj && (i < j || (i == j && k < kj)))
}

/// Step 12 (phase D, per run, in the last month of each window): recognise the M adoptions of
/// the window with the highest n·q. WGSL twin: `recognise_run`, which applies the same picks in
/// the same order; the GPU finds them in parallel (`recog_collect` lists this loop's candidates,
/// `recog_rank` ranks each by `ranks_before`, a total order, so the first M ranks are its picks).
pub fn recognise_run<T: Tracer>(prm: &Params, run: &mut RunMut, rec: &mut [u32], t: u32, tr: &mut T) {
    if prm.recog_every == 0 || !t.is_multiple_of(prm.recog_every) {
        return;
    }
    let n = prm.n_units as usize;
    let kn = prm.n_innov as usize;
    let start = t + 1 - prm.recog_every.min(t + 1);
    // The previous pick (merit, unit, k); each round picks the best adoption ranking after it.
    let mut last: Option<(u32, usize, usize)> = None;
    let mut boosted = [false; 8];
    let mut count = 0u32;
    for _ in 0..prm.recog_count {
        let mut best: Option<(u32, usize, usize)> = None;
        for i in 0..n {
            for k in 0..kn {
                let at = k * n + i;
                let month = run.adopt_month[at];
                if month == NEVER || month < start || month > t || run.route[at] == route::SEEDED {
                    continue;
                }
                let merit = run.merit[at];
                if let Some((lm, li, lk)) = last {
                    if !ranks_before(lm, li, lk, merit, i, k) {
                        continue;
                    }
                }
                match best {
                    Some((bm, bi, bk)) if !ranks_before(merit, i, k, bm, bi, bk) => {}
                    _ => best = Some((merit, i, k)),
                }
            }
        }
        let Some((merit, i, k)) = best else { break };
        last = best;
        count += 1;
        let at = k * n + i;
        run.l[i] = (run.l[i] + prm.l_bonus).min(ONE);
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
            let mut ev = Event::new(t, i as u32, process::stage(run.proc_[i]), 0, 0, run.theta[i], run.l[i]);
            ev.k = k as u32;
            (ev.quality, ev.variant, ev.prob) = (q, run.variant[at], merit);
            tr.event(ev.to(process::stage(run.proc_[i]), "recognised: named as good practice by the centre"));
        }
    }
    rec[agg::global_base(kn) + agg::RECOGNITIONS] += count;
}

/// Phase E (per run): adopters as of the next month, from this month's record.
/// WGSL twin: `close_run`.
pub fn close_run(prm: &Params, run: &mut RunMut, rec: &[u32]) {
    for k in 0..prm.n_innov as usize {
        run.adopters[k] = rec[k * agg::PER_INNOV + agg::ADOPTERS];
    }
}
