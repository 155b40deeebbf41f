//! The scalar parameters of a scenario's `[params]` table: one row each with default, range,
//! unit and meaning, from which the struct, validation, docs and sweeps are all generated.

use crate::error::InputError;
use serde::{Deserialize, Serialize};

/// How a parameter is stored inside the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A value in [0,1] (Q16).
    Share,
    /// A gain that may exceed 1 (Q8: resolution 1/256).
    Gain,
    /// A signed coefficient (Q8).
    Coef,
    /// A whole number of months.
    Months,
    /// Years of age (stored as months).
    Years,
    /// A whole count.
    Count,
}

macro_rules! param_table {
    ($( $name:ident : $default:expr, $lo:expr, $hi:expr, $unit:ident, $doc:expr; )*) => {
        /// The `[params]` table: every scalar parameter (MODEL.md §7 names in comments).
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct ParamSpec {
            $( #[doc = $doc] pub $name: f64, )*
        }

        impl Default for ParamSpec {
            fn default() -> Self {
                ParamSpec { $( $name: $default, )* }
            }
        }

        /// One row of the parameter table.
        #[derive(Debug, Clone, Copy)]
        pub struct ParamInfo {
            pub name: &'static str,
            pub default: f64,
            pub lo: f64,
            pub hi: f64,
            pub unit: Unit,
            pub doc: &'static str,
        }

        /// Every scalar parameter, in table order.
        pub const PARAMS: &[ParamInfo] = &[
            $( ParamInfo { name: stringify!($name), default: $default, lo: $lo, hi: $hi, unit: Unit::$unit, doc: $doc }, )*
        ];

        impl ParamSpec {
            /// Value of a parameter by name.
            pub fn get(&self, name: &str) -> Option<f64> {
                match name { $( stringify!($name) => Some(self.$name), )* _ => None }
            }
            /// Set a parameter by name (for sweeps and overrides); false if there is no such name.
            /// Every value, in the order of `PARAMS`.
            pub fn values(&self) -> [f64; PARAMS.len()] {
                [ $( self.$name, )* ]
            }
            pub fn set(&mut self, name: &str, v: f64) -> bool {
                match name { $( stringify!($name) => { self.$name = v; true } )* _ => false }
            }
        }
    };
}

param_table! {
    r_need: 0.2, 0.0, 1.0, Share, "r_need: monthly chance (times S(t)) that a unit past its threshold starts a need";
    theta_lo: 0.2, 0.0, 1.0, Share, "θ ~ U(theta_lo, theta_hi): need threshold, drawn once per unit and run";
    theta_hi: 0.6, 0.0, 1.0, Share, "upper bound of θ";
    ambition_lo: 0.3, 0.0, 1.0, Share, "α ~ U(ambition_lo, ambition_hi): a leader's ambition";
    ambition_hi: 1.0, 0.0, 1.0, Share, "upper bound of α";
    appoint_age_lo: 40.0, 18.0, 80.0, Years, "age at appointment ~ U(lo, hi) years";
    appoint_age_hi: 52.0, 18.0, 80.0, Years, "upper bound of the appointment age";
    age_peak: 50.0, 18.0, 90.0, Years, "incentive factor A(age) is 1 up to this age";
    age_cap: 58.0, 18.0, 90.0, Years, "A(age) falls linearly to 0 at this age";
    age_retire: 60.0, 18.0, 90.0, Years, "a leader retires at this age";
    term: 60.0, 1.0, 600.0, Months, "months in a leader's term";
    rho: 0.2, 0.0, 1.0, Share, "ρ: promoted if fewer than ρ × group size peers score higher";
    p_transfer: 0.5, 0.0, 1.0, Share, "chance that a new leader comes from a peer, carrying its designs";
    p_drop: 0.5, 0.0, 1.0, Share, "chance that a new leader drops the active process";
    w_c: 1.0, 0.0, 255.0, Gain, "w_C: weight of credit C in the promotion score";
    w_l: 1.0, 0.0, 255.0, Gain, "w_L: weight of legitimacy L in the promotion score";
    eta_e: 0.02, 0.0, 1.0, Share, "η_E: monthly pull of expectation E toward the reference R";
    nu: 0.5, 0.0, 1.0, Share, "ν: weight of the exemplar in R, and monthly chance the exemplar is visible";
    w_h: 0.5, 0.0, 1.0, Share, "w_h: weight of the neighbour gap (vs the expectation gap)";
    gamma_g: 10.0, 0.0, 255.0, Gain, "γ_g: gain of the performance gap";
    pi: 0.8, 0.0, 1.0, Share, "π: upper signal felt when the parent adopted the innovation";
    d0: 0.05, 0.0, 1.0, Share, "d0: baseline external demand";
    gamma_d: 2.0, 0.0, 255.0, Gain, "γ_d: gain of firms' demand f·max(0, E − P)";
    r_agenda: 0.5, 0.0, 1.0, Share, "r_agenda: need → agenda with probability r_agenda·√(U·D)";
    r_lapse: 0.02, 0.0, 1.0, Share, "r_lapse: monthly chance that an unmet need lapses";
    r_learn: 0.25, 0.0, 1.0, Share, "r_learn: monthly chance a design learned from a source completes";
    r_invent: 0.02, 0.0, 1.0, Share, "r_invent: monthly chance (times c) an invented design completes";
    delta_max: 0.15, 0.0, 1.0, Share, "δ_max: largest improvement on a learned design (times I·U01)";
    delta_new: 0.05, 0.0, 1.0, Share, "δ_new: an improvement at least this large makes a new variant";
    q_lo: 0.2, 0.0, 1.0, Share, "invented quality = c · U(q_lo, q_hi)";
    q_hi: 0.6, 0.0, 1.0, Share, "upper bound of the invented quality factor";
    absorb: 0.9, 0.0, 1.0, Share, "a learned copy keeps Q*·(absorb + (1 − absorb)·c) of the source quality";
    template_q: 0.5, 0.0, 1.0, Share, "quality of a mandate's template when there is no exemplar";
    r_impl: 0.2, 0.0, 1.0, Share, "r_impl: monthly chance implementation completes";
    b0: -1.5, -100.0, 100.0, Coef, "b0: intercept of the success logistic";
    b_l: 3.0, -100.0, 100.0, Coef, "b_L: weight of legitimacy in success";
    b_u: 2.0, -100.0, 100.0, Coef, "b_U: weight of the upper signal in success";
    b_c: 1.0, -100.0, 100.0, Coef, "b_c: weight of capacity in success";
    pen_fail: 0.1, 0.0, 1.0, Share, "a failed implementation multiplies L by (1 − pen_fail)";
    g_p: 2.0, 0.0, 255.0, Gain, "g_P: each rung raises P by g_P·q·(1 − P)/R_k";
    kappa: 4.0, 0.0, 255.0, Gain, "κ: novelty of rung j, n_j = 1/(1 + κ · share of the peer group that reached it)";
    lambda: 0.3, 0.0, 1.0, Share, "λ: legitimacy from a rung, λ·n_j·q·(1 + μ)";
    lambda_u: 0.02, 0.0, 1.0, Share, "λ_U: legitimacy from upper support, λ_U·U, at each rung";
    beta0: 0.3, 0.0, 1.0, Share, "β0: the pitch wins B ≥ U·(β0 + (1 − β0)·L) when the agenda forms";
    lambda_b: 0.3, 0.0, 1.0, Share, "λ_B: upper backing from a rung, λ_B·n_j·q·(1 + μ)";
    eps_b: 0.01, 0.0, 1.0, Share, "ε_B: monthly fading of upper backing B";
    b_b: 2.0, -100.0, 100.0, Coef, "b_B: weight of upper backing in a rung's success";
    b_phi: 2.0, -100.0, 100.0, Coef, "b_φ: the hurdle of rung j rises by b_φ·φ·(j − 1)/(R_k − 1)";
    b_demo: 1.0, -100.0, 100.0, Coef, "b_demo: a rung the design's source already reached is this much easier";
    b_bonus: 0.2, 0.0, 1.0, Share, "B_bonus: upper backing from being recognised";
    b_loss: 0.5, 0.0, 1.0, Share, "B_loss: share of B lost when a new leader arrives";
    lambda_c: 0.1, 0.0, 1.0, Share, "λ_c: a complete ladder raises capacity by λ_c·(1 − c)";
    w_p: 0.5, 0.0, 255.0, Gain, "w_P: weight of performance gained, P − P0, in the promotion score";
    init_b_lo: 0.0, 0.0, 1.0, Share, "initial B ~ U(init_b_lo, init_b_hi)";
    init_b_hi: 0.1, 0.0, 1.0, Share, "upper bound of initial B";
    mu_lo: 0.0, 0.0, 1.0, Share, "μ ~ U(mu_lo, mu_hi): a leader's publicity, drawn for each new leader";
    mu_hi: 1.0, 0.0, 1.0, Share, "upper bound of μ";
    resistance_lo: 0.2, 0.0, 1.0, Share, "φ ~ U(resistance_lo, resistance_hi) per unit and run, unless the world gives it";
    resistance_hi: 0.8, 0.0, 1.0, Share, "upper bound of φ";
    p_floor: 0.2, 0.0, 1.0, Share, "P_floor: performance drifts toward this";
    eps_p: 0.002, 0.0, 1.0, Share, "ε_P: monthly drift of P toward P_floor";
    eps_l: 0.005, 0.0, 1.0, Share, "ε_L: monthly decay of legitimacy";
    recog_every: 24.0, 0.0, 1200.0, Months, "R: months in a recognition window (0: no recognition)";
    recog_count: 10.0, 0.0, 10000.0, Count, "M: adoptions recognised per window";
    l_bonus: 0.2, 0.0, 1.0, Share, "L_bonus: legitimacy from being recognised";
    u_boost: 0.05, 0.0, 1.0, Share, "u_boost: rise of u_k per window with a recognised adoption of k";
    init_p_lo: 0.3, 0.0, 1.0, Share, "initial P ~ U(init_p_lo, init_p_hi)";
    init_p_hi: 0.4, 0.0, 1.0, Share, "upper bound of initial P";
    init_e_hi: 0.02, 0.0, 1.0, Share, "initial E = P + U(0, init_e_hi)";
    init_l_lo: 0.0, 0.0, 1.0, Share, "initial L ~ U(init_l_lo, init_l_hi)";
    init_l_hi: 0.2, 0.0, 1.0, Share, "upper bound of initial L";
}

impl ParamSpec {
    /// Check ranges and orderings; the error names the field (`params.NAME`).
    pub fn validate(&self) -> Result<(), InputError> {
        for (info, v) in PARAMS.iter().zip(self.values()) {
            if !v.is_finite() || v < info.lo || v > info.hi {
                return Err(
                    InputError::new(format!("{} is out of range: allowed {} to {} ({})", v, info.lo, info.hi, info.doc))
                        .field(format!("params.{}", info.name)),
                );
            }
            if matches!(info.unit, Unit::Months | Unit::Count) && v.fract() != 0.0 {
                return Err(InputError::new(format!("{v} must be a whole number")).field(format!("params.{}", info.name)));
            }
        }
        let order = [
            ("theta_lo", "theta_hi"),
            ("ambition_lo", "ambition_hi"),
            ("appoint_age_lo", "appoint_age_hi"),
            ("q_lo", "q_hi"),
            ("init_p_lo", "init_p_hi"),
            ("init_l_lo", "init_l_hi"),
            ("init_b_lo", "init_b_hi"),
            ("mu_lo", "mu_hi"),
            ("resistance_lo", "resistance_hi"),
            ("age_peak", "age_cap"),
            ("age_cap", "age_retire"),
        ];
        for (a, b) in order {
            let (va, vb) = (self.get(a).unwrap_or(0.0), self.get(b).unwrap_or(0.0));
            if va > vb {
                return Err(InputError::new(format!("{a} = {va} must not exceed {b} = {vb}")).field(format!("params.{a}")));
            }
        }
        if self.age_peak >= self.age_cap {
            return Err(InputError::new("age_peak must be below age_cap").field("params.age_peak"));
        }
        Ok(())
    }
}
