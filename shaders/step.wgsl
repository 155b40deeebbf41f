// The month of MODEL.md §4 on the GPU: bindings, the rules, and one kernel per phase.
// Rust twin: src/model/rules.rs (each function has its twin's name and order of operations).
//
// Keep every invocation's loops short: Mesa's llvmpipe/lavapipe (the CI's software Vulkan) stops
// any invocation after 65,535 loop iterations in total, silently. So no kernel scans a whole run
// in one invocation: recognition's top-M selection is computed in parallel (recog_collect,
// recog_rank) and only the M picks are applied by one invocation per run (recognise_run).

// ---- Shared constants (Rust twins: crate::state::{stage, route, process}, model::agg). ----

const ST_IDLE: u32 = 0u;
const ST_NEED: u32 = 1u;
const ST_AGENDA: u32 = 2u;
const ST_DESIGN: u32 = 3u;
const ST_IMPLEMENT: u32 = 4u;

const RT_NONE: u32 = 0u;
const RT_INVENTED: u32 = 1u;
const RT_NEIGHBOUR: u32 = 2u;
const RT_EXEMPLAR: u32 = 3u;
const RT_PARENT: u32 = 4u;
const RT_LEADER: u32 = 5u;
const RT_MANDATED: u32 = 6u;
const RT_SEEDED: u32 = 7u;

const PR_MANDATED: u32 = 512u; // 1 << 9

const NO_PARENT: u32 = 0xffffffffu;
const MAX_LEVELS: u32 = 4u;

const AG_ADOPTERS: u32 = 0u;
const AG_BY_LEVEL: u32 = 1u;
const AG_BY_ROUTE: u32 = 5u;
const AG_BY_STAGE: u32 = 13u;
const AG_DEPTH: u32 = 17u;
const AG_COMPLETE: u32 = 25u;
const AG_RUNG_ATTEMPTS: u32 = 26u;
const AG_RUNG_FAILURES: u32 = 27u;
const AG_PER_INNOV: u32 = 28u;
const AG_IDLE: u32 = 0u;
const AG_SUM_P: u32 = 1u;
const AG_SUM_E: u32 = 3u;
const AG_SUM_L: u32 = 5u;
const AG_SUM_I: u32 = 7u;
const AG_SUM_B: u32 = 9u;
const AG_PROMOTIONS: u32 = 11u;
const AG_RECOGNITIONS: u32 = 12u;

// Fates of an adopting leader (Rust twin: crate::state::outcome).
const FATE_PENDING: u32 = 0u;
const FATE_PROMOTED: u32 = 1u;
const FATE_NOT_PROMOTED: u32 = 2u;
const FATE_RETIRED: u32 = 3u;

// Words per unit and innovation of the rung_m column (Rust twin: crate::state::RUNG_WORDS).
const RUNG_WORDS: u32 = 4u;

// Words of one run's prelude in the scratch buffer: space, signal[8], ex_p.
const PRE_LEN: u32 = 10u;
// Invocations per workgroup (Rust: backend::gpu::WORKGROUP).
const WG: u32 = 64u;

// ---- Bindings (Rust twin: backend::gpu, `GpuLayout` and the buffers it describes). ----

// Offsets (in u32 words) of every column in the packed buffers, and the month being stepped.
// One copy per month, selected with a dynamic offset.
struct Layout {
    runs: u32,
    units: u32,
    innov: u32,
    month: u32,
    rec_len: u32,
    months: u32,
    // state columns, in the order of BatchState::columns()
    c_p: u32,
    c_e: u32,
    c_l: u32,
    c_b: u32,
    c_credit: u32,
    c_p0: u32,
    c_theta: u32,
    c_ambition: u32,
    c_mu: u32,
    c_phi: u32,
    c_cap: u32,
    c_age: u32,
    c_tenure: u32,
    c_proc: u32,
    c_cand_q: u32,
    c_cand_v: u32,
    c_adopt_month: u32,
    c_quality: u32,
    c_variant: u32,
    c_route: u32,
    c_depth: u32,
    c_merit: u32,
    c_merit_m: u32,
    c_know_q: u32,
    c_know_v: u32,
    c_know_d: u32,
    c_ad_leader: u32,
    c_ad_extra: u32,
    c_rung_m: u32,
    c_boost: u32,
    c_ex_unit: u32,
    c_ex_q: u32,
    c_ex_v: u32,
    // world segments
    w_level: u32,
    w_parent: u32,
    w_capacity: u32,
    w_firms: u32,
    w_nbr_start: u32,
    w_nbr: u32,
    w_group: u32,
    w_group_start: u32,
    w_group_members: u32,
    w_mandate_mask: u32,
    w_pilot_mask: u32,
    w_sigmoid: u32,
    w_room: u32,
    // scratch segments
    s_nbr_p: u32,
    s_prelude: u32,
    _pad0: u32,
    _pad1: u32,
}

struct RunSlot {
    point: u32,
    key: u32,
}

// Rust twin: model::rules::Prelude
struct Prelude {
    space: u32,
    signal: array<u32, 8>,
    ex_p: u32,
}

@group(0) @binding(0) var<uniform> L: Layout;
@group(0) @binding(1) var<storage, read_write> st: array<u32>;
@group(0) @binding(2) var<storage, read> world: array<u32>;
@group(0) @binding(3) var<storage, read> params: array<Params>;
@group(0) @binding(4) var<storage, read> runs: array<RunSlot>;
@group(0) @binding(5) var<storage, read_write> scratch: array<u32>;
@group(0) @binding(6) var<storage, read_write> agg: array<atomic<u32>>;
// Work lists per run: recognition's [count, candidates (units·innovations), picks in rank order],
// then the leaving leaders' [count, units] (each unit i as 2i + promoted, see leave_base).
@group(0) @binding(7) var<storage, read_write> recog: array<atomic<u32>>;

// The run this invocation works on: index in the chunk, parameter point, random key.
var<private> R: u32;
var<private> PT: u32;
var<private> KEY: u32;
// The run's prelude of this month (loaded by the per-unit kernels).
var<private> PRE: Prelude;

fn set_run(r: u32) {
    R = r;
    PT = runs[r].point;
    KEY = runs[r].key;
}

// Index of unit i in a [run][unit] column.
fn ui(col: u32, i: u32) -> u32 {
    return col + R * L.units + i;
}

// Offset of (innovation k, unit i) in a [run][innovation][unit] column, without the column base.
fn kat(k: u32, i: u32) -> u32 {
    return (R * L.innov + k) * L.units + i;
}

// Index of innovation k in a [run][innovation] column.
fn ri(col: u32, k: u32) -> u32 {
    return col + R * L.innov + k;
}

// First word of this run's record of month t (t = 1 is the first record).
fn rec_at(t: u32) -> u32 {
    return (R * L.months + t - 1u) * L.rec_len;
}

// ---- Process word (Rust twin: crate::state::process). ----

// Rust twin: state::process::stage
fn proc_stage(w: u32) -> u32 {
    return w & 7u;
}

// Rust twin: state::process::innov
fn proc_innov(w: u32) -> u32 {
    return (w >> 3u) & 7u;
}

// Rust twin: state::process::route
fn proc_route(w: u32) -> u32 {
    return (w >> 6u) & 7u;
}

// Rust twin: state::process::src_depth
fn proc_src_depth(w: u32) -> u32 {
    return (w >> 11u) & 15u;
}

// Rust twin: state::process::required
fn proc_required(w: u32) -> u32 {
    return (w >> 15u) & 15u;
}

// Rust twin: state::process::with_src
fn with_src(d: u32) -> u32 {
    return d << 11u;
}

// Rust twin: state::process::with_required
fn with_required(d: u32) -> u32 {
    return d << 15u;
}

// Rust twin: state::process::carried
fn proc_carried(w: u32) -> u32 {
    return w & (PR_MANDATED | (15u << 15u));
}

// Rust twin: state::process::pack
fn proc_pack(stage: u32, innov: u32, route: u32, flags: u32) -> u32 {
    return stage | (innov << 3u) | (route << 6u) | flags;
}

// Rust twin: state::process::tick
fn proc_tick(w: u32) -> u32 {
    if (w >> 20u) == 0xfffu {
        return w;
    }
    return w + (1u << 20u);
}

// ---- The adopting leader's word `ad_extra` (Rust twin: crate::state::outcome). ----

// Rust twin: state::outcome::pack
fn ad_pack(incentive: u32, fate: u32, src_depth: u32) -> u32 {
    return incentive | (fate << 16u) | (src_depth << 20u);
}

// Rust twin: state::outcome::fate
fn ad_fate(x: u32) -> u32 {
    return (x >> 16u) & 3u;
}

// Rust twin: state::outcome::with_fate
fn ad_with_fate(x: u32, fate: u32) -> u32 {
    return (x & ~(3u << 16u)) | (fate << 16u);
}

// Rust twin: state::outcome::src_depth
fn ad_src_depth(x: u32) -> u32 {
    return (x >> 20u) & 15u;
}

// The month record of the tournament phase is first summed per workgroup (in `wrec`, one record
// per run the workgroup touches: at most two when a run has at least WG units), then added to
// `agg` once per word: far fewer atomics on the same address. Integer sums: order cannot matter.
const MAX_REC: u32 = 237u; // agg::record_len(MAX_INNOV)
var<workgroup> wrec: array<atomic<u32>, 474>; // 2 * MAX_REC
// Whether this dispatch sums per workgroup, and this invocation's record slot in `wrec`.
var<private> WG_SUM: bool;
var<private> WG_SLOT: u32;

// Add v to word w of this run's record of month t.
fn rec_add(t: u32, w: u32, v: u32) {
    if WG_SUM {
        atomicAdd(&wrec[WG_SLOT * L.rec_len + w], v);
    } else {
        atomicAdd(&agg[rec_at(t) + w], v);
    }
}

// Rust twin: model::agg::add_split_column (a value at a time; w: the word within the record)
fn add_split(t: u32, w: u32, v: u32) {
    rec_add(t, w, v & 255u);
    rec_add(t, w + 1u, v >> 8u);
}

// ---- The rules. ----

// Rust twin: model::rules::ratio_q
fn ratio_q(a: u32, n: u32) -> u32 {
    let hi = (a * 256u) / n;
    let lo = ((a * 256u) % n) * 256u / n;
    return min(hi * 256u + lo, ONE);
}

// Rust twin: model::rules::prelude_run
fn prelude_run(t: u32) -> Prelude {
    var pre: Prelude;
    pre.space = sched_at(params[PT].space, t);
    for (var k = 0u; k < params[PT].n_innov; k++) {
        pre.signal[k] = min(sched_at(params[PT].innov[k].signal, t) + st[ri(L.c_boost, k)], ONE);
        let ex = st[ri(L.c_ex_unit, k)];
        if ex != NEVER {
            pre.ex_p = max(pre.ex_p, st[ui(L.c_p, ex)]);
        }
    }
    return pre;
}

// Rust twin: model::rules::room_space
fn room_space(space: u32, room: u32) -> u32 {
    if room >= ONE {
        return space;
    }
    return mul_q(space, room);
}

// Rust twin: model::rules::neighbour_mean
fn neighbour_mean(i: u32) -> u32 {
    let a = world[L.w_nbr_start + i];
    let b = world[L.w_nbr_start + i + 1u];
    if a == b {
        return st[ui(L.c_p, i)];
    }
    var sum = 0u;
    for (var x = a; x < b; x++) {
        sum += st[ui(L.c_p, world[L.w_nbr + x])] >> 4u;
    }
    return min((sum / (b - a)) << 4u, ONE);
}

// Rust twin: model::rules::incentive
fn incentive(ambition: u32, age: u32) -> u32 {
    var a: u32;
    if age <= params[PT].age_peak {
        a = ONE;
    } else if age >= params[PT].age_cap {
        a = 0u;
    } else {
        a = ONE * (params[PT].age_cap - age) / (params[PT].age_cap - params[PT].age_peak);
    }
    return mul_q(ambition, a);
}

// Rust twin: model::rules::expectation
fn expectation(e: u32, nbr_p: u32, ex_p: u32) -> u32 {
    let r = max(nbr_p, mul_q(params[PT].nu, ex_p));
    if r >= e {
        return e + mul_q(params[PT].eta_e, r - e);
    }
    return e - mul_q(params[PT].eta_e, e - r);
}

// Rust twin: model::rules::gap
fn gap(p: u32, e: u32, nbr_p: u32) -> u32 {
    let behind = mul_q(params[PT].w_h, sub_sat(nbr_p, p)) + mul_q(ONE - params[PT].w_h, sub_sat(e, p));
    return mul_gain(params[PT].gamma_g, behind);
}

// Rust twin: model::rules::demand
fn demand(p: u32, e: u32, firms: u32) -> u32 {
    return min(mul_gain(params[PT].gamma_d, mul_q(firms, sub_sat(e, p))) + params[PT].d0, ONE);
}

// Rust twin: model::rules::adopted_before
fn adopted_before(k: u32, j: u32, t: u32) -> bool {
    return st[L.c_adopt_month + kat(k, j)] < t;
}

// Rust twin: model::rules::rung_month
fn rung_month(k: u32, j: u32, rung: u32) -> u32 {
    let w = st[L.c_rung_m + kat(k, j) * RUNG_WORDS + ((rung - 1u) >> 1u)];
    let m = (w >> (((rung - 1u) & 1u) * 16u)) & 0xffffu;
    if m == 0xffffu {
        return NEVER;
    }
    return m;
}

// Rust twin: model::rules::set_rung_month
fn set_rung_month(k: u32, i: u32, rung: u32, t: u32) {
    let at = L.c_rung_m + kat(k, i) * RUNG_WORDS + ((rung - 1u) >> 1u);
    let shift = ((rung - 1u) & 1u) * 16u;
    st[at] = (st[at] & ~(0xffffu << shift)) | (t << shift);
}

// Rust twin: model::rules::depth_before
fn depth_before(k: u32, j: u32, t: u32) -> u32 {
    let r = params[PT].innov[k].rungs;
    var d = 0u;
    while d < r && rung_month(k, j, d + 1u) < t {
        d += 1u;
    }
    return d;
}

// Rust twin: model::rules::piloted
fn piloted(i: u32, k: u32, t: u32) -> bool {
    let np = min(params[PT].n_pilots, MAX_LEVERS);
    for (var pj = 0u; pj < np; pj++) {
        let pl = params[PT].pilots[pj];
        if (world[L.w_pilot_mask + i] & (1u << pj)) != 0u && pl.innov == k && t >= pl.month {
            return true;
        }
    }
    return false;
}

// Rust twin: model::rules::upper_signal
fn upper_signal(i: u32, k: u32, w: u32, t: u32) -> u32 {
    var u = PRE.signal[k];
    let parent = world[L.w_parent + i];
    if parent != NO_PARENT && adopted_before(k, parent, t) {
        u = max(u, params[PT].pi);
    }
    if (w & PR_MANDATED) != 0u || piloted(i, k, t) {
        u = ONE;
    }
    return u;
}

// Rust twin: model::rules::pitch
fn pitch(b: u32, u: u32, l: u32) -> u32 {
    return max(b, mul_q(u, params[PT].beta0 + mul_q(ONE - params[PT].beta0, l)));
}

// Rust twin: model::rules::closed_to
fn closed_to(i: u32, k: u32) -> bool {
    let c = params[PT].innov[k].closed;
    return c != 0u && chance(draw(KEY, i, 0u, sub(S_CLOSED, k)), c);
}

// Rust twin: model::rules::most_visible
fn most_visible(i: u32, t: u32) -> u32 {
    let a = world[L.w_nbr_start + i];
    let b = world[L.w_nbr_start + i + 1u];
    var best = NEVER;
    var best_score = 0u;
    for (var k = 0u; k < params[PT].n_innov; k++) {
        if t < params[PT].innov[k].available || st[L.c_adopt_month + kat(k, i)] != NEVER || closed_to(i, k) {
            continue;
        }
        var count = 0u;
        for (var x = a; x < b; x++) {
            if adopted_before(k, world[L.w_nbr + x], t) {
                count += 1u;
            }
        }
        let sc = count * 2u + select(0u, 1u, st[ri(L.c_ex_unit, k)] != NEVER) + 1u;
        if sc > best_score {
            best_score = sc;
            best = k;
        }
    }
    return best;
}

// Rust twin: model::rules::shallowest
fn shallowest(i: u32) -> u32 {
    var best = NEVER;
    var bd = 1u;
    var br = 1u;
    for (var k = 0u; k < params[PT].n_innov; k++) {
        let d = st[L.c_depth + kat(k, i)];
        let r = params[PT].innov[k].rungs;
        if d >= 1u && d < r && d * br < bd * r && !closed_to(i, k) {
            best = k;
            bd = d;
            br = r;
        }
    }
    return best;
}

// Rust twin: model::rules::Source
struct Source {
    route: u32,
    quality: u32,
    variant: u32,
    depth: u32,
    unit: u32,
}

// Rust twin: model::rules::best_source
fn best_source(i: u32, k: u32, t: u32) -> Source {
    var src = Source(RT_NONE, 0u, 0u, 0u, NEVER);
    let a = world[L.w_nbr_start + i];
    let b = world[L.w_nbr_start + i + 1u];
    for (var x = a; x < b; x++) {
        let j = world[L.w_nbr + x];
        if adopted_before(k, j, t) {
            let q = st[L.c_quality + kat(k, j)];
            if src.route == RT_NONE || q > src.quality {
                src = Source(RT_NEIGHBOUR, q, st[L.c_variant + kat(k, j)], 0u, j);
            }
        }
    }
    let ex = st[ri(L.c_ex_unit, k)];
    if ex != NEVER && ex != i && chance(draw(KEY, i, t, sub(S_VISIBLE, k)), params[PT].nu) {
        let q = st[ri(L.c_ex_q, k)];
        if src.route == RT_NONE || q > src.quality {
            src = Source(RT_EXEMPLAR, q, st[ri(L.c_ex_v, k)], 0u, ex);
        }
    }
    let parent = world[L.w_parent + i];
    if parent != NO_PARENT && adopted_before(k, parent, t) {
        let q = st[L.c_quality + kat(k, parent)];
        if src.route == RT_NONE || q > src.quality {
            src = Source(RT_PARENT, q, st[L.c_variant + kat(k, parent)], 0u, parent);
        }
    }
    if st[L.c_know_v + kat(k, i)] != 0u {
        let q = st[L.c_know_q + kat(k, i)];
        if src.route == RT_NONE || q > src.quality {
            src = Source(RT_LEADER, q, st[L.c_know_v + kat(k, i)], st[L.c_know_d + kat(k, i)], NEVER);
        }
    }
    if src.unit != NEVER {
        src.depth = depth_before(k, src.unit, t);
    }
    return src;
}

// Rust twin: model::rules::hurdle
fn hurdle(k: u32, j: u32, d_src: u32, phi: u32) -> i32 {
    let r = params[PT].innov[k].rungs;
    var h = i32(params[PT].innov[k].difficulty);
    if r > 1u {
        h += mul_coef(params[PT].b_phi, phi * (j - 1u) / (r - 1u));
    }
    if j <= d_src {
        h -= mul_coef(params[PT].b_demo, ONE);
    }
    return h;
}

// Rust twin: model::rules::success_prob
fn success_prob(h: i32, l: u32, b: u32, u: u32, c: u32) -> u32 {
    let z = mul_coef(params[PT].b0, ONE) - h + mul_coef(params[PT].b_l, l) + mul_coef(params[PT].b_b, b)
        + mul_coef(params[PT].b_u, u) + mul_coef(params[PT].b_c, c);
    return sigmoid_q(z);
}

// Rust twin: model::rules::peer_share
fn peer_share(i: u32, k: u32, j: u32, t: u32) -> u32 {
    let grp = world[L.w_group + i];
    let ga = world[L.w_group_start + grp];
    let gb = world[L.w_group_start + grp + 1u];
    let len = gb - ga;
    if len <= 1u {
        return 0u;
    }
    var count = 0u;
    for (var x = ga; x < gb; x++) {
        let p = world[L.w_group_members + x];
        if p != i && rung_month(k, p, j) < t {
            count += 1u;
        }
    }
    return ratio_q(count, len - 1u);
}

// Rust twin: model::rules::window_start
fn window_start(t: u32) -> u32 {
    let every = params[PT].recog_every;
    if every == 0u {
        return t;
    }
    return (t - 1u) / every * every + 1u;
}

// Rust twin: model::rules::rung_reached (returns P, L, B)
fn rung_reached(i: u32, k: u32, j: u32, q: u32, u: u32, p_in: u32, l_in: u32, b_in: u32, t: u32) -> vec3<u32> {
    let at = kat(k, i);
    let r = params[PT].innov[k].rungs;
    st[L.c_depth + at] = j;
    set_rung_month(k, i, j, t);
    let p = p_in + mul_q(min(((params[PT].g_p * q) >> 8u) / r, ONE), ONE - p_in);
    let nov = novelty_ratio(mul_gain(params[PT].kappa, peer_share(i, k, j, t)));
    let nq = mul_q(nov, q);
    st[ui(L.c_credit, i)] = min(st[ui(L.c_credit, i)] + nq / r, ONE);
    let mu = st[ui(L.c_mu, i)];
    let gain_l = mul_q(params[PT].lambda, nq);
    let l = min(l_in + gain_l + mul_q(gain_l, mu) + mul_q(params[PT].lambda_u, u), ONE);
    let gain_b = mul_q(params[PT].lambda_b, nq);
    let b = min(b_in + gain_b + mul_q(gain_b, mu), ONE);
    let merit = (nq + mul_q(nq, mu)) * j / r;
    if st[L.c_merit_m + at] >= window_start(t) {
        st[L.c_merit + at] = max(st[L.c_merit + at], merit);
    } else {
        st[L.c_merit + at] = merit;
    }
    st[L.c_merit_m + at] = t;
    if j == r {
        let c = st[ui(L.c_cap, i)];
        st[ui(L.c_cap, i)] = c + mul_q(params[PT].lambda_c, ONE - c);
    }
    return vec3<u32>(p, l, b);
}

// Rust twin: model::rules::drift (returns P, L, B)
fn drift(p_in: u32, l: u32, b: u32) -> vec3<u32> {
    var p = p_in;
    if p >= params[PT].p_floor {
        p = p - mul_q(params[PT].eps_p, p - params[PT].p_floor);
    } else {
        p = p + mul_q(params[PT].eps_p, params[PT].p_floor - p);
    }
    return vec3<u32>(p, l - mul_q(params[PT].eps_l, l), b - mul_q(params[PT].eps_b, b));
}

// Rust twin: model::rules::score
fn score(p: u32, p0: u32, c: u32, l: u32) -> i32 {
    var dp: i32;
    if p >= p0 {
        dp = i32((params[PT].w_p * (p - p0)) >> 8u);
    } else {
        dp = -i32((params[PT].w_p * (p0 - p)) >> 8u);
    }
    return dp + i32((params[PT].w_c * c) >> 8u) + i32((params[PT].w_l * l) >> 8u);
}

// Rust twin: model::rules::new_variant
fn new_variant(i: u32) -> u32 {
    return i + 1u;
}

// Rust twin: model::rules::template_variant
fn template_variant(m: u32) -> u32 {
    return params[PT].n_units + 1u + m;
}

// Rust twin: model::rules::step_process (steps 1–10 for unit i; writes only unit i's slots, its
// changes and sums to the month's record, and, when its leader leaves at step 11, its place on
// the run's leaving list). The CPU takes the same steps in three passes: step_common,
// step_process for the busy units, drift_all.
fn step_unit(i: u32, t: u32) {
    // 1. Leader ages.
    let age = st[ui(L.c_age, i)] + 1u;
    let tenure = st[ui(L.c_tenure, i)] + 1u;
    st[ui(L.c_age, i)] = age;
    st[ui(L.c_tenure, i)] = tenure;
    // 2–4. Incentive, expectation, gap.
    let inc = incentive(st[ui(L.c_ambition, i)], age);
    var p = st[ui(L.c_p, i)];
    let nbr_p = scratch[L.s_nbr_p + R * L.units + i];
    let e = expectation(st[ui(L.c_e, i)], nbr_p, PRE.ex_p);
    st[ui(L.c_e, i)] = e;
    let g = gap(p, e, nbr_p);
    var l = st[ui(L.c_l, i)];
    var b = st[ui(L.c_b, i)];

    let w0 = st[ui(L.c_proc, i)];
    let s0 = proc_stage(w0);
    var w = proc_tick(w0);

    // 13. Vertical levers: mandates, then pilots. A forced agenda makes the pitch too.
    var forced = false;
    if s0 <= ST_AGENDA {
        let nm = min(params[PT].n_mandates, MAX_LEVERS);
        for (var mi = 0u; mi < nm; mi++) {
            let md = params[PT].mandates[mi];
            let k = md.innov;
            let at = kat(k, i);
            // The world's mask first: most units are never mandated, and need not read their depth.
            if (world[L.w_mandate_mask + i] & (1u << mi)) == 0u || t < md.start || t > md.deadline
                || t < params[PT].innov[k].available {
                continue;
            }
            let d = st[L.c_depth + at];
            if d < md.depth && chance(draw(KEY, i, 0u, sub(S_COMPLY, mi)), md.compliance) {
                b = pitch(b, ONE, l);
                let flags = PR_MANDATED | with_required(md.depth);
                if d == 0u {
                    w = proc_pack(ST_DESIGN, k, RT_MANDATED, flags);
                    st[ui(L.c_cand_v, i)] = mi;
                } else {
                    // Adopted below the required depth: straight to the next rung of its own design.
                    w = proc_pack(ST_IMPLEMENT, k, RT_MANDATED, flags | with_src(ad_src_depth(st[L.c_ad_extra + at])));
                    st[ui(L.c_cand_q, i)] = st[L.c_quality + at];
                    st[ui(L.c_cand_v, i)] = st[L.c_variant + at];
                }
                forced = true;
                break;
            }
        }
    }
    if !forced && s0 <= ST_NEED {
        let np = min(params[PT].n_pilots, MAX_LEVERS);
        for (var pj = 0u; pj < np; pj++) {
            let pl = params[PT].pilots[pj];
            let k = pl.innov;
            if (world[L.w_pilot_mask + i] & (1u << pj)) != 0u && t == pl.month && st[L.c_depth + kat(k, i)] == 0u {
                b = pitch(b, ONE, l);
                w = proc_pack(ST_AGENDA, k, RT_NONE, 0u);
                forced = true;
                break;
            }
        }
    }

    if !forced {
        let k = proc_innov(w0);
        if s0 == ST_IDLE {
            // 5. Need (P1): √(I·g) ≥ θ, compared squared (for integer θ, ⌊√x⌋ ≥ θ ⟺ x ≥ θ²),
            // and never when I·g = 0, whatever θ is. (v2) With every available innovation
            // adopted, the need deepens the shallowest ladder.
            let drive = inc * g;
            let theta = st[ui(L.c_theta, i)];
            let pr = mul_q(room_space(PRE.space, world[L.w_room + i]), params[PT].r_need);
            if drive > 0u && drive >= theta * theta && chance(draw(KEY, i, t, S_NEED), pr) {
                var kk = most_visible(i, t);
                if kk == NEVER {
                    kk = shallowest(i);
                }
                if kk != NEVER {
                    w = proc_pack(ST_NEED, kk, RT_NONE, 0u);
                }
            }
        } else if s0 == ST_NEED {
            // 6. Agenda (P2), and (v2) the pitch for upper backing.
            let u = upper_signal(i, k, w0, t);
            let d = demand(p, e, world[L.w_firms + i]);
            // pr <= r_agenda: a draw that fails r_agenda fails pr, so the root is taken only
            // where it can matter (pr = 0 gives the same failure).
            let h = draw(KEY, i, t, S_AGENDA);
            var pr = 0u;
            if chance(h, params[PT].r_agenda) {
                pr = mul_q(params[PT].r_agenda, geo_mean(u, d));
            }
            if chance(h, pr) {
                b = pitch(b, u, l);
                let at = kat(k, i);
                if st[L.c_depth + at] >= 1u {
                    // Deepening skips design: the candidate is the unit's own design.
                    st[ui(L.c_cand_q, i)] = st[L.c_quality + at];
                    st[ui(L.c_cand_v, i)] = st[L.c_variant + at];
                    w = proc_pack(ST_IMPLEMENT, k, RT_NONE, with_src(ad_src_depth(st[L.c_ad_extra + at])));
                } else {
                    w = proc_pack(ST_AGENDA, k, RT_NONE, 0u);
                }
            } else if chance(draw(KEY, i, t, S_LAPSE), params[PT].r_lapse) {
                w = 0u;
            }
        } else if s0 == ST_AGENDA || s0 == ST_DESIGN {
            // 7. Design (P3). The candidate keeps its source's depth (d_src).
            let flags = proc_carried(w0);
            let c = st[ui(L.c_cap, i)];
            var done = false;
            if (w0 & PR_MANDATED) != 0u {
                if chance(draw(KEY, i, t, S_DESIGN), params[PT].r_learn) {
                    let mi = st[ui(L.c_cand_v, i)];
                    let ex = st[ri(L.c_ex_unit, k)];
                    var q: u32;
                    var v: u32;
                    var d: u32;
                    if ex != NEVER {
                        q = st[ri(L.c_ex_q, k)];
                        v = st[ri(L.c_ex_v, k)];
                        d = depth_before(k, ex, t);
                    } else {
                        q = params[PT].template_q;
                        v = template_variant(mi);
                        d = 0u;
                    }
                    st[ui(L.c_cand_q, i)] = q;
                    st[ui(L.c_cand_v, i)] = v;
                    w = proc_pack(ST_IMPLEMENT, k, RT_MANDATED, flags | with_src(d));
                    done = true;
                }
            } else {
                // The draw first: where it completes neither a learned nor an invented design,
                // no source can matter, and best_source is skipped.
                let h = draw(KEY, i, t, S_DESIGN);
                let p_invent = mul_q(params[PT].r_invent, c);
                var src = Source(RT_NONE, 0u, 0u, 0u, NEVER);
                if chance(h, params[PT].r_learn) || chance(h, p_invent) {
                    src = best_source(i, k, t);
                }
                if src.route != RT_NONE {
                    if chance(h, params[PT].r_learn) {
                        let copy = mul_q(src.quality, params[PT].absorb + mul_q(ONE - params[PT].absorb, c));
                        let delta = mul_q(mul_q(inc, params[PT].delta_max), unit_q(draw(KEY, i, t, S_IMPROVE)));
                        let q = min(copy + delta, ONE);
                        let v = select(src.variant, new_variant(i), delta >= params[PT].delta_new);
                        st[ui(L.c_cand_q, i)] = q;
                        st[ui(L.c_cand_v, i)] = v;
                        w = proc_pack(ST_IMPLEMENT, k, src.route, flags | with_src(src.depth));
                        done = true;
                    }
                } else if chance(h, p_invent) {
                    let q = mul_q(c, uniform_q(draw(KEY, i, t, S_QUALITY), params[PT].q_lo, params[PT].q_hi));
                    let v = new_variant(i);
                    st[ui(L.c_cand_q, i)] = q;
                    st[ui(L.c_cand_v, i)] = v;
                    w = proc_pack(ST_IMPLEMENT, k, RT_INVENTED, flags);
                    done = true;
                }
            }
            if !done && s0 == ST_AGENDA {
                w = proc_pack(ST_DESIGN, k, RT_NONE, flags);
            }
        } else {
            // 8. Implementation (P4), one rung at a time.
            if chance(draw(KEY, i, t, S_IMPL_DONE), params[PT].r_impl) {
                let at = kat(k, i);
                let j = st[L.c_depth + at] + 1u;
                let r = params[PT].innov[k].rungs;
                let u = upper_signal(i, k, w0, t);
                let phi = st[ui(L.c_phi, i)];
                let h = hurdle(k, j, proc_src_depth(w0), phi);
                let sp = success_prob(h, l, b, u, st[ui(L.c_cap, i)]);
                let rb = k * AG_PER_INNOV;
                rec_add(t, rb + AG_RUNG_ATTEMPTS, 1u);
                if chance(draw(KEY, i, t, S_SUCCESS), sp) {
                    // 9. A rung reached; at rung 1 the adoption.
                    if j == 1u {
                        st[L.c_adopt_month + at] = t;
                        st[L.c_quality + at] = st[ui(L.c_cand_q, i)];
                        st[L.c_variant + at] = st[ui(L.c_cand_v, i)];
                        st[L.c_route + at] = proc_route(w0);
                        st[L.c_ad_leader + at] = st[ui(L.c_ambition, i)] | (st[ui(L.c_mu, i)] << 16u);
                        st[L.c_ad_extra + at] = ad_pack(inc, FATE_PENDING, proc_src_depth(w0));
                        rec_add(t, rb + AG_BY_ROUTE + proc_route(w0), 1u);
                    }
                    tally_rung(t, k, i, j);
                    let q = st[L.c_quality + at];
                    let plb = rung_reached(i, k, j, q, u, p, l, b, t);
                    p = plb.x;
                    l = plb.y;
                    b = plb.z;
                    let push = j < r && (j < proc_required(w0) || chance(draw(KEY, i, t, S_CONTINUE), inc));
                    if push {
                        w = proc_pack(ST_IMPLEMENT, k, proc_route(w0), proc_carried(w0) | with_src(proc_src_depth(w0)));
                    } else {
                        w = 0u;
                    }
                } else {
                    rec_add(t, rb + AG_RUNG_FAILURES, 1u);
                    l -= mul_q(l, params[PT].pen_fail);
                    b -= mul_q(b, params[PT].pen_fail);
                    w = 0u;
                }
            }
        }
    }
    st[ui(L.c_proc, i)] = w;
    tally_moved(t, w0, w);
    // 10. Drift.
    let plb = drift(p, l, b);
    st[ui(L.c_p, i)] = plb.x;
    st[ui(L.c_l, i)] = plb.y;
    st[ui(L.c_b, i)] = plb.z;
    // The month's sums, as they stand unless the leader leaves (phase C adds the difference).
    let gb = params[PT].n_innov * AG_PER_INNOV;
    add_split(t, gb + AG_SUM_P, plb.x);
    add_split(t, gb + AG_SUM_E, e);
    add_split(t, gb + AG_SUM_L, plb.y);
    add_split(t, gb + AG_SUM_I, inc);
    add_split(t, gb + AG_SUM_B, plb.z);
    // 11, its condition: a leader who retires or ends a term is ranked and replaced in phase C.
    if age >= params[PT].age_retire || tenure >= params[PT].term {
        let lb = leave_base();
        let slot = atomicAdd(&recog[lb], 1u);
        atomicStore(&recog[lb + 1u + slot], 2u * i);
    }
}

// Rust twin: model::rules::tournament_unit (step 11's ranking, for a leaving leader not retiring:
// whether unit i is promoted). Phase C1 only reads; phase C2 applies, so that every ranking sees
// its peers' scores as phase B left them.
fn tournament_rank(i: u32) -> bool {
    let grp = world[L.w_group + i];
    let ga = world[L.w_group_start + grp];
    let gb = world[L.w_group_start + grp + 1u];
    let mine = score(st[ui(L.c_p, i)], st[ui(L.c_p0, i)], st[ui(L.c_credit, i)], st[ui(L.c_l, i)]);
    var higher = 0u;
    for (var x = ga; x < gb; x++) {
        let j = world[L.w_group_members + x];
        let sj = score(st[ui(L.c_p, j)], st[ui(L.c_p0, j)], st[ui(L.c_credit, j)], st[ui(L.c_l, j)]);
        if sj > mine || (sj == mine && j < i) {
            higher += 1u;
        }
    }
    return higher * ONE < params[PT].rho * (gb - ga);
}

// Rust twin: model::rules::tournament_unit (step 11 for a leaving leader of unit i, ranked by
// tournament_rank; what the leaving changes in the month's record)
fn tournament_unit(i: u32, promoted: bool, t: u32) {
    let retire = st[ui(L.c_age, i)] >= params[PT].age_retire;
    let replace = retire || promoted;
    let grp = world[L.w_group + i];
    let ga = world[L.w_group_start + grp];
    let gb = world[L.w_group_start + grp + 1u];
    let len = gb - ga;
    // (v2) The leaders who adopted in this term learn their fate at this first ranking.
    var fate = FATE_NOT_PROMOTED;
    if retire {
        fate = FATE_RETIRED;
    } else if promoted {
        fate = FATE_PROMOTED;
    }
    for (var k = 0u; k < params[PT].n_innov; k++) {
        let at = kat(k, i);
        if st[L.c_adopt_month + at] != NEVER && ad_fate(st[L.c_ad_extra + at]) == FATE_PENDING {
            st[L.c_ad_extra + at] = ad_with_fate(st[L.c_ad_extra + at], fate);
        }
    }
    let p = st[ui(L.c_p, i)];
    st[ui(L.c_tenure, i)] = 0u;
    st[ui(L.c_credit, i)] = 0u;
    st[ui(L.c_p0, i)] = p;
    if replace {
        let g = params[PT].n_innov * AG_PER_INNOV;
        sub_split(t, g + AG_SUM_I, incentive(st[ui(L.c_ambition, i)], st[ui(L.c_age, i)]));
        sub_split(t, g + AG_SUM_B, st[ui(L.c_b, i)]);
        st[ui(L.c_age, i)] = uniform_int(draw(KEY, i, t, S_LEADER_AGE), params[PT].appoint_lo, params[PT].appoint_hi);
        st[ui(L.c_ambition, i)] = uniform_q(draw(KEY, i, t, S_LEADER_AMBITION), params[PT].ambition_lo, params[PT].ambition_hi);
        st[ui(L.c_mu, i)] = uniform_q(draw(KEY, i, t, S_LEADER_PUBLICITY), params[PT].mu_lo, params[PT].mu_hi);
        st[ui(L.c_b, i)] -= mul_q(st[ui(L.c_b, i)], params[PT].b_loss);
        add_split(t, g + AG_SUM_I, incentive(st[ui(L.c_ambition, i)], st[ui(L.c_age, i)]));
        add_split(t, g + AG_SUM_B, st[ui(L.c_b, i)]);
        let transfer = len > 1u && chance(draw(KEY, i, t, S_TRANSFER), params[PT].p_transfer);
        var from_ = NEVER;
        if transfer {
            // A random peer other than i: pick among the other len-1 members.
            let pick = draw(KEY, i, t, S_TRANSFER_PEER) % (len - 1u);
            var pos = 0u;
            for (var x = ga; x < gb; x++) {
                if world[L.w_group_members + x] == i {
                    pos = x - ga;
                    break;
                }
            }
            from_ = world[L.w_group_members + ga + pick + select(0u, 1u, pick >= pos)];
        }
        for (var k = 0u; k < params[PT].n_innov; k++) {
            let at = kat(k, i);
            if from_ != NEVER && adopted_before(k, from_, t) {
                st[L.c_know_q + at] = st[L.c_quality + kat(k, from_)];
                st[L.c_know_v + at] = st[L.c_variant + kat(k, from_)];
                st[L.c_know_d + at] = depth_before(k, from_, t);
            } else {
                st[L.c_know_q + at] = 0u;
                st[L.c_know_v + at] = 0u;
                st[L.c_know_d + at] = 0u;
            }
        }
        let w = st[ui(L.c_proc, i)];
        let dropped = proc_stage(w) != ST_IDLE && chance(draw(KEY, i, t, S_DROP), params[PT].p_drop);
        if dropped {
            st[ui(L.c_proc, i)] = 0u;
            tally_moved(t, w, 0u);
        }
    }
    if promoted {
        rec_add(t, params[PT].n_innov * AG_PER_INNOV + AG_PROMOTIONS, 1u);
    }
}

// ---- The month record (Rust twin: model::rules::Tally). ----
// The counts of units by stage and by depth are kept from changes, as on the CPU: phase B and C
// add each change to the month's record, k_tally_start adds the counts of the state a chunk
// starts from to its first month, and k_levels turns the changes into counts (month t's count is
// the sum of the changes up to t). The sums of P, E, L, I and B are added in phase B from the
// values it holds, and phase C adds what a leader's leaving changes. Integer atomics on u32
// wrap, so a month's change may be "negative"; only the finished counts are read.

// Rust twin: model::agg::is_level
fn is_level(w: u32, kn: u32) -> bool {
    if w >= kn * AG_PER_INNOV {
        return w == kn * AG_PER_INNOV + AG_IDLE;
    }
    let o = w % AG_PER_INNOV;
    return o < AG_BY_ROUTE || (o >= AG_BY_STAGE && o <= AG_COMPLETE);
}

// Where a unit with process word w is counted: its stage of its innovation, or idle.
// Rust twin: model::rules::Tally::stage_slot
fn stage_slot(w: u32) -> u32 {
    let s = proc_stage(w);
    if s == ST_IDLE {
        return params[PT].n_innov * AG_PER_INNOV + AG_IDLE;
    }
    return proc_innov(w) * AG_PER_INNOV + AG_BY_STAGE + s - 1u;
}

// A unit's process word went from w0 to w.
// Rust twin: model::rules::Tally::moved
fn tally_moved(t: u32, w0: u32, w: u32) {
    if ((w0 ^ w) & 0x3fu) != 0u {
        rec_add(t, stage_slot(w0), 0xffffffffu);
        rec_add(t, stage_slot(w), 1u);
    }
}

// Unit i reached rung j of innovation k (from depth j − 1).
// Rust twin: model::rules::Tally::rung
fn tally_rung(t: u32, k: u32, i: u32, j: u32) {
    let base = k * AG_PER_INNOV;
    if j == 1u {
        rec_add(t, base + AG_ADOPTERS, 1u);
        let level = world[L.w_level + i];
        if level < MAX_LEVELS {
            rec_add(t, base + AG_BY_LEVEL + level, 1u);
        }
    } else {
        rec_add(t, base + AG_DEPTH + j - 2u, 0xffffffffu);
    }
    rec_add(t, base + AG_DEPTH + j - 1u, 1u);
    if j == params[PT].innov[k].rungs {
        rec_add(t, base + AG_COMPLETE, 1u);
    }
}

// Unit i's counts in the state a chunk starts from, added to month t.
// Rust twin: model::rules::Tally::of
fn tally_unit(i: u32, t: u32) {
    rec_add(t, stage_slot(st[ui(L.c_proc, i)]), 1u);
    for (var k = 0u; k < params[PT].n_innov; k++) {
        let d = st[L.c_depth + kat(k, i)];
        for (var j = 1u; j <= d; j++) {
            tally_rung(t, k, i, j);
        }
    }
}

// Take value v back out of a split sum (wrapping: the month's total comes out exact).
fn sub_split(t: u32, w: u32, v: u32) {
    rec_add(t, w, 0u - (v & 255u));
    rec_add(t, w + 1u, 0u - (v >> 8u));
}

// Rust twin: model::rules::ranks_before
fn ranks_before(mi: u32, i: u32, k: u32, mj: u32, j: u32, kj: u32) -> bool {
    return mi > mj || (mi == mj && (i < j || (i == j && k < kj)));
}

// True if this run recognises in month t.
fn recognises(t: u32) -> bool {
    let every = params[PT].recog_every;
    return every != 0u && (t % every) == 0u;
}

// First word of this run's recognition work space.
fn recog_base() -> u32 {
    return R * (2u + 2u * L.units * L.innov + L.units);
}

// This run's list of leaving leaders, after its recognition space: a count, then the units.
fn leave_base() -> u32 {
    return recog_base() + 1u + 2u * L.units * L.innov;
}

// Part 1 of recognise_run's selection (per unit): list unit i's candidates of the window (the
// filter of rules::recognise_run: a rung reached in the window). The list's order does not matter.
fn recog_collect(i: u32, t: u32) {
    if !recognises(t) {
        return;
    }
    let start = window_start(t);
    let base = recog_base();
    for (var k = 0u; k < params[PT].n_innov; k++) {
        if st[L.c_merit_m + kat(k, i)] < start {
            continue;
        }
        let slot = atomicAdd(&recog[base], 1u);
        atomicStore(&recog[base + 1u + slot], (i << 3u) | k);
    }
}

// Part 2 (per candidate): its rank = how many candidates rank before it (rules::ranks_before, a
// total order); the first M ranks are exactly the picks of rules::recognise_run, in its order.
fn recog_rank(slot: u32) {
    let base = recog_base();
    let count = atomicLoad(&recog[base]);
    if slot >= count {
        return;
    }
    let me = atomicLoad(&recog[base + 1u + slot]);
    let i = me >> 3u;
    let k = me & 7u;
    let merit = st[L.c_merit + kat(k, i)];
    var rank = 0u;
    for (var x = 0u; x < count; x++) {
        let o = atomicLoad(&recog[base + 1u + x]);
        let oi = o >> 3u;
        let ok = o & 7u;
        if ranks_before(st[L.c_merit + kat(ok, oi)], oi, ok, merit, i, k) {
            rank += 1u;
        }
    }
    if rank < params[PT].recog_count {
        atomicStore(&recog[base + 1u + L.units * L.innov + rank], me);
    }
}

// Rust twin: model::rules::recognise_run (per run). The picks come ranked from recog_rank;
// they are applied in rank order, as the Rust loop picks them.
fn recognise_run(t: u32) {
    if !recognises(t) {
        return;
    }
    let kn = params[PT].n_innov;
    let base = recog_base();
    let count = min(atomicLoad(&recog[base]), params[PT].recog_count);
    var boosted: array<bool, 8>;
    for (var rank = 0u; rank < count; rank++) {
        let pick = atomicLoad(&recog[base + 1u + L.units * L.innov + rank]);
        let bi = pick >> 3u;
        let bk = pick & 7u;
        let at = kat(bk, bi);
        st[ui(L.c_l, bi)] = min(st[ui(L.c_l, bi)] + params[PT].l_bonus, ONE);
        st[ui(L.c_b, bi)] = min(st[ui(L.c_b, bi)] + params[PT].b_bonus, ONE);
        let q = st[L.c_quality + at];
        if st[ri(L.c_ex_unit, bk)] == NEVER || q > st[ri(L.c_ex_q, bk)] {
            st[ri(L.c_ex_unit, bk)] = bi;
            st[ri(L.c_ex_q, bk)] = q;
            st[ri(L.c_ex_v, bk)] = st[L.c_variant + at];
        }
        if !boosted[bk] {
            boosted[bk] = true;
            st[ri(L.c_boost, bk)] = min(st[ri(L.c_boost, bk)] + params[PT].u_boost, ONE);
        }
    }
    atomicAdd(&agg[rec_at(t) + kn * AG_PER_INNOV + AG_RECOGNITIONS], count);
}

// ---- Kernels: one dispatch per phase per month over every run of the chunk. ----
// A dispatch wider than 65,535 workgroups is 2-D; the flat index undoes that.

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

fn load_prelude() {
    let b = L.s_prelude + R * PRE_LEN;
    PRE.space = scratch[b];
    for (var k = 0u; k < 8u; k++) {
        PRE.signal[k] = scratch[b + 1u + k];
    }
    PRE.ex_p = scratch[b + 9u];
}

// Phase 0, per run.
@compute @workgroup_size(64)
fn k_prelude(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if r >= L.runs {
        return;
    }
    set_run(r);
    let pre = prelude_run(L.month);
    let b = L.s_prelude + r * PRE_LEN;
    scratch[b] = pre.space;
    for (var k = 0u; k < 8u; k++) {
        scratch[b + 1u + k] = pre.signal[k];
    }
    scratch[b + 9u] = pre.ex_p;
    atomicStore(&recog[recog_base()], 0u);
    atomicStore(&recog[leave_base()], 0u);
}

// Phase A, per unit.
@compute @workgroup_size(64)
fn k_neighbour(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    if idx >= L.runs * L.units {
        return;
    }
    set_run(idx / L.units);
    let i = idx % L.units;
    scratch[L.s_nbr_p + idx] = neighbour_mean(i);
}

// The month's record is first summed per workgroup in `wrec`; these open and close that.
// Barriers need uniform control flow: a kernel that calls them has no early return.
fn wrec_open(lid: u32) {
    WG_SUM = L.units >= WG && L.rec_len <= MAX_REC;
    if WG_SUM {
        for (var j = lid; j < 2u * MAX_REC; j += WG) {
            atomicStore(&wrec[j], 0u);
        }
    }
    workgroupBarrier();
}

// run0: the first run this workgroup touches; with at least WG units a run spans it at most twice.
fn wrec_close(lid: u32, run0: u32) {
    workgroupBarrier();
    if WG_SUM {
        for (var j = lid; j < 2u * L.rec_len; j += WG) {
            let r = run0 + j / L.rec_len;
            let v = atomicLoad(&wrec[j]);
            if v != 0u && r < L.runs {
                atomicAdd(&agg[(r * L.months + L.month - 1u) * L.rec_len + j % L.rec_len], v);
            }
        }
    }
}

// Phase B, per unit: steps 1–10, and the month's record as they leave it.
@compute @workgroup_size(64)
fn k_step(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let idx = flat(gid, nwg);
    let run0 = ((wid.x + wid.y * nwg.x) * WG) / L.units;
    wrec_open(lid);
    if idx < L.runs * L.units {
        set_run(idx / L.units);
        WG_SLOT = R - run0;
        load_prelude();
        step_unit(idx % L.units, L.month);
    }
    wrec_close(lid, run0);
}

// The leaving leader in slot `slot` of run r's list (phases C1 and C2), or NEVER.
fn leaving(r: u32, slot: u32) -> u32 {
    set_run(r);
    let lb = leave_base();
    if slot >= atomicLoad(&recog[lb]) {
        return NEVER;
    }
    return atomicLoad(&recog[lb + 1u + slot]);
}

// Phase C1, per slot of the leaving list: rank the leaders at a term's end.
@compute @workgroup_size(64)
fn k_rank(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    if idx >= L.runs * L.units {
        return;
    }
    let slot = idx % L.units;
    let e = leaving(idx / L.units, slot);
    if e == NEVER {
        return;
    }
    let i = e >> 1u;
    if st[ui(L.c_age, i)] < params[PT].age_retire && tournament_rank(i) {
        atomicStore(&recog[leave_base() + 1u + slot], e | 1u);
    }
}

// Phase C2, per slot of the leaving list: the leaders leave.
@compute @workgroup_size(64)
fn k_tournament(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    if idx >= L.runs * L.units {
        return;
    }
    let e = leaving(idx / L.units, idx % L.units);
    if e == NEVER {
        return;
    }
    tournament_unit(e >> 1u, (e & 1u) != 0u, L.month);
}

// Before a chunk's first month, per unit: the counts of the state it starts from.
@compute @workgroup_size(64)
fn k_tally_start(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    if idx >= L.runs * L.units {
        return;
    }
    set_run(idx / L.units);
    tally_unit(idx % L.units, 1u);
}

// After a chunk's last month, per run and record word: a count's changes become the count.
@compute @workgroup_size(64)
fn k_levels(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    if idx >= L.runs * L.rec_len {
        return;
    }
    set_run(idx / L.rec_len);
    let w = idx % L.rec_len;
    if !is_level(w, L.innov) {
        return;
    }
    var sum = 0u;
    for (var t = 1u; t <= L.months; t++) {
        sum += atomicLoad(&agg[rec_at(t) + w]);
        atomicStore(&agg[rec_at(t) + w], sum);
    }
}

// Phase D1, per unit (this and D2, D3 are dispatched only in months where some point recognises).
@compute @workgroup_size(64)
fn k_recog_collect(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    if idx >= L.runs * L.units {
        return;
    }
    set_run(idx / L.units);
    recog_collect(idx % L.units, L.month);
}

// Phase D2, per candidate slot (units × innovations per run).
@compute @workgroup_size(64)
fn k_recog_rank(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = flat(gid, nwg);
    let per_run = L.units * L.innov;
    if idx >= L.runs * per_run {
        return;
    }
    set_run(idx / per_run);
    recog_rank(idx % per_run);
}

// Phase D3, per run.
@compute @workgroup_size(64)
fn k_recognise(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let r = flat(gid, nwg);
    if r >= L.runs {
        return;
    }
    set_run(r);
    recognise_run(L.month);
}
