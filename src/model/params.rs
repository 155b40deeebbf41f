//! The parameter block of one parameter point, in exact integer form, as both backends read it.
//! `#[repr(C)]` and Pod so it uploads as is; mirrored by `shaders/params.wgsl`.

use bytemuck::{Pod, Zeroable};

/// Most innovations a scenario may have.
pub const MAX_INNOV: usize = 8;
/// Most mandates, pilots and schedule breakpoints.
pub const MAX_LEVERS: usize = 8;
/// Breakpoints of a piecewise-constant schedule.
pub const MAX_SCHED: usize = 8;
/// "Never" for months (not adopted, no exemplar, unused schedule slot).
pub const NEVER: u32 = u32::MAX;

/// Piecewise-constant schedule: value `val[i]` from month `from[i]` on; unused slots have
/// `from = NEVER`. `from[0]` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct Sched {
    pub from: [u32; MAX_SCHED],
    pub val: [u32; MAX_SCHED],
}

impl Sched {
    pub fn constant(v: u32) -> Self {
        let mut s = Sched {
            from: [NEVER; MAX_SCHED],
            val: [0; MAX_SCHED],
        };
        s.from[0] = 0;
        s.val[0] = v;
        s
    }
    /// Value in month `t`. WGSL twin: `sched_at`.
    #[inline(always)]
    pub fn at(&self, t: u32) -> u32 {
        let mut v = self.val[0];
        for i in 1..MAX_SCHED {
            if self.from[i] <= t {
                v = self.val[i];
            }
        }
        v
    }
}

/// One innovation.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct Innov {
    /// First month in which units may feel a need for it.
    pub available: u32,
    /// Difficulty, Q16 (subtracted inside the success logistic).
    pub difficulty: u32,
    /// (v2) Rungs of the ladder R_k, 1..=8.
    pub rungs: u32,
    /// Share of units closed to it for a whole run (`rules::closed_to`), Q16; 0 closes none.
    pub closed: u32,
    /// Upper-level policy signal u_k(t) before recognition boosts, Q16.
    pub signal: Sched,
}

/// A mandate: units under the issuer (bit `m` of the unit's mandate mask) that comply must
/// adopt innovation `innov` to `depth` rungs from `start` to `deadline` (inclusive).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct Mandate {
    pub innov: u32,
    pub start: u32,
    pub deadline: u32,
    /// Probability that a unit complies (drawn once per unit and run), Q16.
    pub compliance: u32,
    /// (v2) Depth the mandate requires, 1..=rungs.
    pub depth: u32,
    pub _pad: [u32; 3],
}

/// A pilot: units with bit `p` of their pilot mask put `innov` on their agenda in `month`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct Pilot {
    pub innov: u32,
    pub month: u32,
    pub _pad: [u32; 2],
}

/// Every parameter of MODEL.md §4/§7 in integer form. Q16 unless marked: `(gain)` is Q8
/// (x·256, may exceed 1), `(coef)` is signed Q8, `(months)` is a count of months.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
pub struct Params {
    pub n_units: u32,
    pub n_innov: u32,
    pub n_mandates: u32,
    pub n_pilots: u32,
    // Leaders (months).
    pub term: u32,
    pub age_peak: u32,
    pub age_cap: u32,
    pub age_retire: u32,
    pub appoint_lo: u32,
    pub appoint_hi: u32,
    pub ambition_lo: u32,
    pub ambition_hi: u32,
    pub rho: u32,
    pub p_transfer: u32,
    pub p_drop: u32,
    pub w_c: u32, // (gain)
    pub w_l: u32, // (gain)
    // Need (P1).
    pub r_need: u32,
    pub theta_lo: u32,
    pub theta_hi: u32,
    pub eta_e: u32,
    pub nu: u32,
    pub w_h: u32,
    pub gamma_g: u32, // (gain)
    // Agenda (P2).
    pub pi: u32,
    pub d0: u32,
    pub gamma_d: u32, // (gain)
    pub r_agenda: u32,
    pub r_lapse: u32,
    // Design (P3).
    pub r_learn: u32,
    pub r_invent: u32,
    pub delta_max: u32,
    pub delta_new: u32,
    pub q_lo: u32,
    pub q_hi: u32,
    pub absorb: u32,
    pub template_q: u32,
    // Implementation (P4).
    pub r_impl: u32,
    pub b0: i32,  // (coef)
    pub b_l: i32, // (coef)
    pub b_u: i32, // (coef)
    pub b_c: i32, // (coef)
    pub pen_fail: u32,
    // Adoption.
    pub g_p: u32,   // (gain)
    pub kappa: u32, // (gain)
    pub lambda: u32,
    pub lambda_u: u32,
    // Drift.
    pub p_floor: u32,
    pub eps_p: u32,
    pub eps_l: u32,
    // Recognition.
    pub recog_every: u32, // (months)
    pub recog_count: u32,
    pub l_bonus: u32,
    pub u_boost: u32,
    // Initial state.
    pub init_p_lo: u32,
    pub init_p_hi: u32,
    pub init_e_hi: u32,
    pub init_l_lo: u32,
    pub init_l_hi: u32,
    // (v2) Upper backing, resistance, demonstration, publicity, expanding power.
    pub beta0: u32,
    pub lambda_b: u32,
    pub eps_b: u32,
    pub b_b: i32,    // (coef)
    pub b_phi: i32,  // (coef)
    pub b_demo: i32, // (coef)
    pub b_bonus: u32,
    pub b_loss: u32,
    pub lambda_c: u32,
    pub w_p: u32, // (gain)
    pub init_b_lo: u32,
    pub init_b_hi: u32,
    pub mu_lo: u32,
    pub mu_hi: u32,
    pub phi_lo: u32,
    pub phi_hi: u32,
    /// Institutional space S(t).
    pub space: Sched,
    pub innov: [Innov; MAX_INNOV],
    pub mandates: [Mandate; MAX_LEVERS],
    pub pilots: [Pilot; MAX_LEVERS],
}

impl Params {
    pub fn innov(&self, k: usize) -> &Innov {
        &self.innov[k]
    }
}
