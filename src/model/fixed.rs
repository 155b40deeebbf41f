//! Exact integer arithmetic for the model: Q16 values in [0,1], Q8 gains and signed coefficients.
//! Mirrored function by function in `shaders/fixed.wgsl`; change both together.

/// 1.0 in Q16: a value x in [0,1] is stored as `round(x * 65535)`.
pub const ONE: u32 = 65535;
/// 1.0 in Q8: gains above 1 (γ_g, γ_d, κ, g_P, ...) are stored as `round(x * 256)`.
pub const GAIN_ONE: u32 = 256;
/// Entries of the logistic table: z from -8 to +8 in steps of 1024/65535 (about 1/64).
pub const SIGMOID_LEN: usize = 1025;
/// Index of z = 0 in the logistic table.
pub const SIGMOID_MID: i32 = 512;

/// Q16 from a real number, clamped to [0,1]. Host side only (scenario loading).
pub fn q16(x: f64) -> u32 {
    (x.clamp(0.0, 1.0) * ONE as f64).round() as u32
}

/// Q8 gain from a real number in [0, 255.99]. Host side only.
pub fn gain(x: f64) -> u32 {
    (x.clamp(0.0, 255.99) * GAIN_ONE as f64).round() as u32
}

/// Signed Q8 coefficient from a real number in [-127, 127]. Host side only.
pub fn coef(x: f64) -> i32 {
    (x.clamp(-127.0, 127.0) * GAIN_ONE as f64).round() as i32
}

/// Real number of a Q16 value (for output only, never inside a step).
pub fn to_f64(x: u32) -> f64 {
    x as f64 / ONE as f64
}

/// Product of two Q16 values: `(a * b) >> 16`. Never overflows (65535² < 2³²).
/// WGSL twin: `mul_q` in shaders/fixed.wgsl.
#[inline(always)]
pub fn mul_q(a: u32, b: u32) -> u32 {
    (a * b) >> 16
}

/// A Q8 gain times a Q16 value, clamped to 1: `min(ONE, (g * x) >> 8)`.
/// `g` must be below 2^16 (gain < 256). WGSL twin: `mul_gain`.
#[inline(always)]
pub fn mul_gain(g: u32, x: u32) -> u32 {
    ((g * x) >> 8).min(ONE)
}

/// A signed Q8 coefficient times a Q16 value, giving a signed Q16 value.
/// `|b|` must be below 2^15. WGSL twin: `mul_coef`.
#[inline(always)]
pub fn mul_coef(b: i32, x: u32) -> i32 {
    (b * x as i32) >> 8
}

/// `a - b` clamped at 0. WGSL twin: `sub_sat`.
#[inline(always)]
pub fn sub_sat(a: u32, b: u32) -> u32 {
    a.saturating_sub(b)
}

/// Integer square root, exact floor (digit by digit, 16 rounds). WGSL twin: `isqrt`.
#[inline(always)]
pub fn isqrt(x: u32) -> u32 {
    let mut rem = x;
    let mut root = 0u32;
    let mut bit = 1u32 << 30;
    while bit > rem {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}

/// Geometric mean of two Q16 values, in Q16: `isqrt(a * b)` (exact, since a·b < 2³²).
/// WGSL twin: `geo_mean`.
#[inline(always)]
pub fn geo_mean(a: u32, b: u32) -> u32 {
    isqrt(a * b)
}

/// Q16 reciprocal-like ratio `ONE * ONE / (ONE + d)`: the novelty 1 / (1 + d).
/// WGSL twin: `novelty_ratio`.
#[inline(always)]
pub fn novelty_ratio(d: u32) -> u32 {
    (ONE * ONE) / (ONE + d.min(ONE * 64))
}

/// Logistic table: entry i is σ((i - 512) · 1024 / 65535) in Q16. Built once on the host.
pub fn sigmoid_table() -> Vec<u32> {
    (0..SIGMOID_LEN)
        .map(|i| {
            let z = (i as f64 - SIGMOID_MID as f64) * 1024.0 / ONE as f64;
            q16(1.0 / (1.0 + (-z).exp()))
        })
        .collect()
}

/// Logistic of a signed Q16 argument by table lookup. WGSL twin: `sigmoid_q`.
#[inline(always)]
pub fn sigmoid_q(table: &[u32], z: i32) -> u32 {
    let idx = ((z >> 10) + SIGMOID_MID).clamp(0, SIGMOID_LEN as i32 - 1);
    table[idx as usize]
}

/// Bernoulli trial: a 32-bit random draw `h` succeeds with probability `p` (Q16), where
/// `p = ONE` always succeeds and `p = 0` never does. WGSL twin: `chance`.
#[inline(always)]
pub fn chance(h: u32, p: u32) -> bool {
    (h >> 16) < p + (p >> 15)
}

/// `chance(h, mul_q(r, isqrt(x)))` without the root. The draw passes every probability from
/// `p_min` up and none below, so it passes where the root is at least `⌈p_min · 2^16 / r⌉`; and
/// `isqrt(x) ≥ s ⟺ x ≥ s²`. CPU only (the WGSL twin takes the root): one division where the
/// root took 16 dependent rounds.
#[inline(always)]
pub fn chance_of_root(h: u32, r: u32, x: u32) -> bool {
    // chance(h, p) ⟺ h/2^16 < p + p/2^15, which is p for p < 2^15 and p + 1 above.
    let hh = h >> 16;
    let p_min = if hh < 32767 { hh + 1 } else { hh.max(32768) };
    if r == 0 {
        return false;
    }
    let s_min = ((p_min as u64) << 16).div_ceil(r as u64);
    s_min <= 65535 && x as u64 >= s_min * s_min
}

/// Uniform Q16 value from a 32-bit draw. WGSL twin: `unit_q`.
#[inline(always)]
pub fn unit_q(h: u32) -> u32 {
    mul_q(h >> 16, ONE + 1).min(ONE)
}

/// Uniform Q16 value in [lo, hi] from a 32-bit draw. WGSL twin: `uniform_q`.
#[inline(always)]
pub fn uniform_q(h: u32, lo: u32, hi: u32) -> u32 {
    lo + mul_q(sub_sat(hi, lo), unit_q(h))
}

/// Uniform integer in [lo, hi] (inclusive) from a 32-bit draw. WGSL twin: `uniform_int`.
#[inline(always)]
pub fn uniform_int(h: u32, lo: u32, hi: u32) -> u32 {
    if hi <= lo {
        lo
    } else {
        lo + (h % (hi - lo + 1))
    }
}

/// Exact division by a divisor fixed for a run (a unit's neighbour count, the incentive's age
/// span): `x / d` for every `x < 2^31` by one multiply and a shift, `x·m >> s` with
/// `m = ⌈2^s / d⌉ ≤ 2^33` and `s = 32 + ⌈log₂ d⌉` (the error `x·(m·d − 2^s) / (d·2^s)` stays
/// below `1/d`, and `x·m < 2^64`). CPU only: the WGSL twins divide, and both give the same integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recip {
    m: u64,
    s: u32,
}

impl Recip {
    /// The reciprocal of `d`, for `d < 2^31` (`d` = 0 is taken as 1: callers never divide by it).
    pub fn new(d: u32) -> Self {
        assert!(d < 1 << 31, "Recip::new({d}): divisors below 2^31 only");
        let d = d.max(1);
        let s = 32 + (32 - (d - 1).leading_zeros());
        let m = (1u128 << s).div_ceil(d as u128);
        Recip { m: m as u64, s }
    }

    /// `x / d`, exactly, for `x < 2^31`.
    #[inline(always)]
    pub fn divide(self, x: u32) -> u32 {
        debug_assert!(x < 1 << 31);
        ((x as u64 * self.m) >> self.s) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn mul_q_close_to_real(a in 0u32..=ONE, b in 0u32..=ONE) {
            let exact = to_f64(a) * to_f64(b);
            let got = to_f64(mul_q(a, b));
            // (a*b)>>16 loses at most 1/65535 by the shift and 1/65535 by the scale 65535 vs 65536.
            prop_assert!((exact - got).abs() <= 2.0 / ONE as f64, "{} vs {}", exact, got);
        }

        #[test]
        fn isqrt_is_floor_sqrt(x in any::<u32>()) {
            let r = isqrt(x) as u64;
            prop_assert!(r * r <= x as u64);
            prop_assert!((r + 1) * (r + 1) > x as u64);
        }

        #[test]
        fn chance_of_root_is_the_chance_of_the_root(h in any::<u32>(), r in 0u32..=ONE, x in any::<u32>()) {
            prop_assert_eq!(chance_of_root(h, r, x), chance(h, mul_q(r, isqrt(x))));
        }

        #[test]
        fn geo_mean_close_to_real(a in 0u32..=ONE, b in 0u32..=ONE) {
            let exact = (to_f64(a) * to_f64(b)).sqrt();
            prop_assert!((exact - to_f64(geo_mean(a, b))).abs() <= 1.0 / ONE as f64 + 1e-12);
        }

        #[test]
        fn gain_close_to_real(g in 0.0f64..100.0, x in 0u32..=ONE) {
            let exact = (gain(g) as f64 / 256.0 * to_f64(x)).min(1.0);
            prop_assert!((exact - to_f64(mul_gain(gain(g), x))).abs() <= 2.0 / ONE as f64);
            prop_assert!((gain(g) as f64 / 256.0 - g).abs() <= 0.5 / 256.0);
        }

        #[test]
        fn coef_close_to_real(b in -100.0f64..100.0, x in 0u32..=ONE) {
            let exact = coef(b) as f64 / 256.0 * to_f64(x);
            let got = mul_coef(coef(b), x) as f64 / ONE as f64;
            prop_assert!((exact - got).abs() <= 2.0 / ONE as f64);
        }

        #[test]
        fn sigmoid_close_to_real(z in -7.9f64..7.9) {
            let t = sigmoid_table();
            let zq = (z * ONE as f64).round() as i32;
            let exact = 1.0 / (1.0 + (-z).exp());
            // step of the table is 1/64; the slope of σ is at most 1/4.
            prop_assert!((exact - to_f64(sigmoid_q(&t, zq))).abs() <= 0.25 / 64.0 + 2.0 / ONE as f64);
        }

        #[test]
        fn novelty_close_to_real(d in 0u32..=4 * ONE) {
            let exact = 1.0 / (1.0 + d as f64 / ONE as f64);
            prop_assert!((exact - to_f64(novelty_ratio(d))).abs() <= 2.0 / ONE as f64);
        }

        #[test]
        fn uniform_in_range(h in any::<u32>(), lo in 0u32..=ONE, hi in 0u32..=ONE) {
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            let u = uniform_q(h, lo, hi);
            prop_assert!(u >= lo && u <= hi);
        }
    }

    proptest! {
        #[test]
        fn recip_divides_exactly(x in 0u32..1 << 31, d in 1u32..1 << 31) {
            prop_assert_eq!(Recip::new(d).divide(x), x / d);
        }

        #[test]
        fn recip_divides_small_divisors_exactly(x in 0u32..1 << 31, d in 1u32..=70000) {
            prop_assert_eq!(Recip::new(d).divide(x), x / d);
        }
    }

    #[test]
    fn recip_edges() {
        let top = (1u32 << 31) - 1;
        for d in [1u32, 2, 3, 7, 96, 4095, 4096, 65535, 65536, 1 << 30, (1 << 30) + 1, top] {
            let r = Recip::new(d);
            for x in [0u32, 1, d - 1, d, (d + 1).min(top), top - 1, top] {
                assert_eq!(r.divide(x), x / d, "{x} / {d}");
            }
        }
    }

    #[test]
    fn chance_edges() {
        for h in [0u32, 1, 0xFFFF_FFFF, 0x8000_0000, 12345678] {
            assert!(chance(h, ONE));
            assert!(!chance(h, 0));
        }
        // p = 0.5: about half of a sweep of draws succeeds.
        let hits = (0..65536u32).filter(|&i| chance(i << 16, ONE / 2)).count();
        assert!((hits as i64 - 32768).abs() <= 2, "{hits}");
    }

    /// `chance_of_root` against the chance of the root for every draw's top 16 bits, with
    /// probabilities and products at their edges: 0, 1, the ends of Q16, squares and their
    /// neighbours, and where chance's `p + p/2^15` steps.
    #[test]
    fn chance_of_root_at_every_draw() {
        let mut xs = vec![0u32, 1, 2, 3, u32::MAX, ONE * ONE, ONE * ONE - 1];
        for s in [1u32, 2, 181, 32767, 32768, 46340, 65534, 65535] {
            xs.extend([s * s - 1, s * s, s.saturating_mul(s).saturating_add(1)]);
        }
        for r in [0, 1, 2, 255, 256, 32767, 32768, 32769, 40000, ONE - 1, ONE] {
            for hh in 0..=0xFFFFu32 {
                let h = hh << 16 | (hh.wrapping_mul(0x9e37) & 0xFFFF);
                for &x in &xs {
                    assert_eq!(chance_of_root(h, r, x), chance(h, mul_q(r, isqrt(x))), "h {h:#x}, r {r}, x {x}");
                }
            }
        }
    }
}
