// The parameter block of one parameter point, field for field as `model::params::Params`.
// Rust twin: src/model/params.rs (#[repr(C)]; every field 4 bytes, so the storage layouts agree).

const MAX_INNOV: u32 = 8u;
const MAX_LEVERS: u32 = 8u;
const MAX_SCHED: u32 = 8u;
const NEVER: u32 = 0xffffffffu;

struct Sched {
    from_: array<u32, 8>, // `from` is a reserved word in WGSL
    val: array<u32, 8>,
}

struct Innov {
    available: u32,
    difficulty: u32,
    rungs: u32,
    closed: u32,
    signal: Sched,
}

struct Mandate {
    innov: u32,
    start: u32,
    deadline: u32,
    compliance: u32,
    depth: u32,
    _pad: array<u32, 3>,
}

struct Pilot {
    innov: u32,
    month: u32,
    _pad: array<u32, 2>,
}

struct Params {
    n_units: u32,
    n_innov: u32,
    n_mandates: u32,
    n_pilots: u32,
    term: u32,
    age_peak: u32,
    age_cap: u32,
    age_retire: u32,
    appoint_lo: u32,
    appoint_hi: u32,
    ambition_lo: u32,
    ambition_hi: u32,
    rho: u32,
    p_transfer: u32,
    p_drop: u32,
    w_c: u32,
    w_l: u32,
    r_need: u32,
    theta_lo: u32,
    theta_hi: u32,
    eta_e: u32,
    nu: u32,
    w_h: u32,
    gamma_g: u32,
    pi: u32,
    d0: u32,
    gamma_d: u32,
    r_agenda: u32,
    r_lapse: u32,
    r_learn: u32,
    r_invent: u32,
    delta_max: u32,
    delta_new: u32,
    q_lo: u32,
    q_hi: u32,
    absorb: u32,
    template_q: u32,
    r_impl: u32,
    b0: i32,
    b_l: i32,
    b_u: i32,
    b_c: i32,
    pen_fail: u32,
    g_p: u32,
    kappa: u32,
    lambda: u32,
    lambda_u: u32,
    p_floor: u32,
    eps_p: u32,
    eps_l: u32,
    recog_every: u32,
    recog_count: u32,
    l_bonus: u32,
    u_boost: u32,
    init_p_lo: u32,
    init_p_hi: u32,
    init_e_hi: u32,
    init_l_lo: u32,
    init_l_hi: u32,
    beta0: u32,
    lambda_b: u32,
    eps_b: u32,
    b_b: i32,
    b_phi: i32,
    b_demo: i32,
    b_bonus: u32,
    b_loss: u32,
    lambda_c: u32,
    w_p: u32,
    init_b_lo: u32,
    init_b_hi: u32,
    mu_lo: u32,
    mu_hi: u32,
    phi_lo: u32,
    phi_hi: u32,
    space: Sched,
    innov: array<Innov, 8>,
    mandates: array<Mandate, 8>,
    pilots: array<Pilot, 8>,
}

// Rust twin: model::params::Sched::at
fn sched_at(s: Sched, t: u32) -> u32 {
    var v = s.val[0];
    for (var i = 1u; i < MAX_SCHED; i++) {
        if s.from_[i] <= t {
            v = s.val[i];
        }
    }
    return v;
}
