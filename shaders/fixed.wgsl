// Exact integer arithmetic: Q16 values in [0,1], Q8 gains and signed Q8 coefficients.
// Rust twin: src/model/fixed.rs (same names, same order of operations; no floating point).
// WGSL u32 arithmetic wraps where Rust would panic; the Rust side never overflows by design,
// so the two agree on every input the model produces.

const ONE: u32 = 65535u;
const GAIN_ONE: u32 = 256u;
const SIGMOID_LEN: u32 = 1025u;
const SIGMOID_MID: i32 = 512;

// Rust twin: model::fixed::mul_q
fn mul_q(a: u32, b: u32) -> u32 {
    return (a * b) >> 16u;
}

// Rust twin: model::fixed::mul_gain
fn mul_gain(g: u32, x: u32) -> u32 {
    return min((g * x) >> 8u, ONE);
}

// Rust twin: model::fixed::mul_coef (i32 product, arithmetic shift in both languages)
fn mul_coef(b: i32, x: u32) -> i32 {
    return (b * i32(x)) >> 8u;
}

// Rust twin: model::fixed::sub_sat
fn sub_sat(a: u32, b: u32) -> u32 {
    return select(0u, a - b, a >= b);
}

// Rust twin: model::fixed::isqrt (digit by digit, exact floor)
fn isqrt(x: u32) -> u32 {
    var rem = x;
    var root = 0u;
    var bit = 1u << 30u;
    while bit > rem {
        bit = bit >> 2u;
    }
    while bit != 0u {
        if rem >= root + bit {
            rem = rem - (root + bit);
            root = (root >> 1u) + bit;
        } else {
            root = root >> 1u;
        }
        bit = bit >> 2u;
    }
    return root;
}

// Rust twin: model::fixed::geo_mean
fn geo_mean(a: u32, b: u32) -> u32 {
    return isqrt(a * b);
}

// Rust twin: model::fixed::novelty_ratio
fn novelty_ratio(d: u32) -> u32 {
    return (ONE * ONE) / (ONE + min(d, ONE * 64u));
}

// Rust twin: model::fixed::sigmoid_q (the table lives in the world buffer at L.w_sigmoid)
fn sigmoid_q(z: i32) -> u32 {
    let idx = clamp((z >> 10u) + SIGMOID_MID, 0, i32(SIGMOID_LEN) - 1);
    return world[L.w_sigmoid + u32(idx)];
}

// Rust twin: model::fixed::chance
fn chance(h: u32, p: u32) -> bool {
    return (h >> 16u) < p + (p >> 15u);
}

// Rust twin: model::fixed::unit_q
fn unit_q(h: u32) -> u32 {
    return min(mul_q(h >> 16u, ONE + 1u), ONE);
}

// Rust twin: model::fixed::uniform_q
fn uniform_q(h: u32, lo: u32, hi: u32) -> u32 {
    return lo + mul_q(sub_sat(hi, lo), unit_q(h));
}

// Rust twin: model::fixed::uniform_int (hi > lo here, so the divisor is never 0)
fn uniform_int(h: u32, lo: u32, hi: u32) -> u32 {
    if hi <= lo {
        return lo;
    }
    return lo + (h % (hi - lo + 1u));
}
