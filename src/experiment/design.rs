//! Designs of parameter points: full factorial grids, Latin hypercubes and Sobol sequences, in
//! the unit cube; every value is computed by index from integers, never by summing floats.

use crate::model::rng;

/// The values of a range `{ from, to, step }`: `from + i·step` for i = 0, 1, … while the value
/// does not pass `to` (with a tolerance of a millionth of a step, so 0 to 1 by 0.1 has 11 values).
pub fn range_values(from: f64, to: f64, step: f64) -> Vec<f64> {
    (0..range_len(from, to, step)).map(|i| tidy(from + i as f64 * step)).collect()
}

/// How many values `range_values` gives (saturating: a float past usize counts as usize::MAX).
pub fn range_len(from: f64, to: f64, step: f64) -> usize {
    ((to - from) / step + 1e-6).floor().max(0.0) as usize + 1
}

/// A float rounded to 12 significant digits: 0.1 + 2·0.1 prints as 0.3, not 0.30000000000000004.
pub fn tidy(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 12 - (x.abs().log10().floor() as i32 + 1);
    let scale = 10f64.powi(digits.clamp(-300, 300));
    (x * scale).round() / scale
}

/// The full factorial of some lists: every combination, the first list varying slowest.
pub fn factorial(lists: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new()];
    for list in lists {
        let mut next = Vec::with_capacity(out.len() * list.len());
        for prefix in &out {
            for &v in list {
                let mut p = prefix.clone();
                p.push(v);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

/// A uniform number in [0, 1) from a counter-based draw (53 random bits).
pub(crate) fn unit(key: u32, a: u32, b: u32, stream: u32) -> f64 {
    let hi = rng::draw(key, a, b, stream) as u64;
    let lo = rng::draw(key, a, b, stream ^ 0x8000_0000) as u64;
    (((hi << 21) ^ lo) & ((1 << 53) - 1)) as f64 / (1u64 << 53) as f64
}

/// Streams of the design draws (kept apart from the model's streams by their high bits).
const LHS_PERMUTE: u32 = 0x4c48_0001;
const LHS_JITTER: u32 = 0x4c48_0002;
const SOBOL_SHIFT: u32 = 0x534f_0001;

/// A Latin hypercube of `n` points in `dims` dimensions: in every dimension each of the n strata
/// [i/n, (i+1)/n) holds exactly one point, at a random place within it; the strata are matched
/// across dimensions by seeded random permutations.
pub fn latin_hypercube(n: usize, dims: usize, key: u32) -> Vec<Vec<f64>> {
    let mut points = vec![vec![0.0; dims]; n];
    for d in 0..dims {
        // Fisher–Yates with counter-based draws.
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (unit(key, d as u32, i as u32, LHS_PERMUTE) * (i + 1) as f64) as usize;
            perm.swap(i, j.min(i));
        }
        for (i, p) in points.iter_mut().enumerate() {
            let jitter = unit(key, d as u32, i as u32, LHS_JITTER);
            p[d] = (perm[i] as f64 + jitter) / n as f64;
        }
    }
    points
}

/// Most dimensions of the Sobol sequence (fields a sampled design may vary).
pub const SOBOL_MAX_DIMS: usize = 32;

/// Direction numbers of Sobol dimensions 2 to 32: the coefficients `a` of the primitive
/// polynomial and the initial numbers m_1 … m_s (s, the degree, is their count), from the table
/// `new-joe-kuo-6.21201` of S. Joe and F. Y. Kuo, "Constructing Sobol sequences with better
/// two-dimensional projections", SIAM J. Sci. Comput. 30 (2008) 2635–2654
/// (https://web.maths.unsw.edu.au/~fkuo/sobol/). Dimension 1 is the van der Corput sequence.
const JOE_KUO: [(u32, &[u32]); SOBOL_MAX_DIMS - 1] = [
    (0, &[1]),
    (1, &[1, 3]),
    (1, &[1, 3, 1]),
    (2, &[1, 1, 1]),
    (1, &[1, 1, 3, 3]),
    (4, &[1, 3, 5, 13]),
    (2, &[1, 1, 5, 5, 17]),
    (4, &[1, 1, 5, 5, 5]),
    (7, &[1, 1, 7, 11, 19]),
    (11, &[1, 1, 5, 1, 1]),
    (13, &[1, 1, 1, 3, 11]),
    (14, &[1, 3, 5, 5, 31]),
    (1, &[1, 3, 3, 9, 7, 49]),
    (13, &[1, 1, 1, 15, 21, 21]),
    (16, &[1, 3, 1, 13, 27, 49]),
    (19, &[1, 1, 1, 15, 7, 5]),
    (22, &[1, 3, 1, 15, 13, 25]),
    (25, &[1, 1, 5, 5, 19, 61]),
    (1, &[1, 3, 7, 11, 23, 15, 103]),
    (4, &[1, 3, 7, 13, 13, 15, 69]),
    (7, &[1, 1, 3, 13, 7, 35, 63]),
    (8, &[1, 3, 5, 9, 1, 25, 53]),
    (14, &[1, 3, 1, 13, 9, 35, 107]),
    (19, &[1, 3, 1, 5, 27, 61, 31]),
    (21, &[1, 1, 5, 11, 19, 41, 61]),
    (28, &[1, 3, 5, 3, 3, 13, 69]),
    (31, &[1, 1, 7, 13, 1, 19, 1]),
    (32, &[1, 3, 7, 5, 13, 19, 59]),
    (37, &[1, 1, 3, 9, 25, 29, 41]),
    (41, &[1, 3, 5, 13, 23, 1, 55]),
    (42, &[1, 3, 7, 3, 13, 59, 17]),
];

/// The 32 direction numbers V_1 … V_32 of dimension `d` (0-based), as 32-bit fractions.
fn directions(d: usize) -> [u32; 32] {
    let mut v = [0u32; 32];
    if d == 0 {
        for (k, slot) in v.iter_mut().enumerate() {
            *slot = 1 << (31 - k);
        }
        return v;
    }
    let (a, m) = JOE_KUO[d - 1];
    let s = m.len();
    for k in 0..32 {
        v[k] = if k < s {
            m[k] << (31 - k)
        } else {
            let mut x = v[k - s] ^ (v[k - s] >> s);
            for i in 1..s {
                if (a >> (s - 1 - i)) & 1 == 1 {
                    x ^= v[k - i];
                }
            }
            x
        };
    }
    v
}

/// The first `n` points of the Sobol sequence in `dims` dimensions (Joe–Kuo directions, Gray-code
/// order, the point 0 first), each coordinate XORed with a seeded random 32-bit shift when
/// `scramble_key` is given (a random digital shift: every point stays in its elementary interval
/// structure, and the design is no longer anchored at 0).
pub fn sobol(n: usize, dims: usize, scramble_key: Option<u32>) -> Vec<Vec<f64>> {
    assert!(dims <= SOBOL_MAX_DIMS, "at most {SOBOL_MAX_DIMS} Sobol dimensions");
    let dirs: Vec<[u32; 32]> = (0..dims).map(directions).collect();
    let shift: Vec<u32> = (0..dims)
        .map(|d| scramble_key.map_or(0, |k| rng::draw(k, d as u32, 0, SOBOL_SHIFT)))
        .collect();
    let mut x = vec![0u32; dims];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            // The rightmost zero bit of i − 1 picks the direction number.
            let c = (!(i - 1)).trailing_zeros() as usize;
            for d in 0..dims {
                x[d] ^= dirs[d][c.min(31)];
            }
        }
        out.push((0..dims).map(|d| (x[d] ^ shift[d]) as f64 / 4_294_967_296.0).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_exact_by_index() {
        let v = range_values(0.0, 1.0, 0.1);
        assert_eq!(v.len(), 11);
        assert_eq!(v[3], 0.3);
        assert_eq!(v[10], 1.0);
        assert_eq!(range_values(5.0, 5.0, 1.0), vec![5.0]);
        assert_eq!(range_values(1.0, 10.0, 4.0), vec![1.0, 5.0, 9.0]);
    }

    #[test]
    fn factorial_varies_the_first_list_slowest() {
        let f = factorial(&[vec![1.0, 2.0], vec![10.0, 20.0, 30.0]]);
        assert_eq!(f.len(), 6);
        assert_eq!(f[0], vec![1.0, 10.0]);
        assert_eq!(f[1], vec![1.0, 20.0]);
        assert_eq!(f[5], vec![2.0, 30.0]);
    }

    #[test]
    fn latin_hypercube_strata_each_hold_one_point() {
        for (n, dims) in [(1, 3), (7, 2), (50, 5), (128, 1)] {
            let pts = latin_hypercube(n, dims, 42);
            for d in 0..dims {
                let mut seen = vec![0; n];
                for p in &pts {
                    assert!((0.0..1.0).contains(&p[d]));
                    seen[(p[d] * n as f64) as usize] += 1;
                }
                assert!(seen.iter().all(|&s| s == 1), "n {n} dim {d}: {seen:?}");
            }
        }
        assert_ne!(latin_hypercube(20, 2, 1), latin_hypercube(20, 2, 2), "the seed matters");
        assert_eq!(latin_hypercube(20, 2, 1), latin_hypercube(20, 2, 1), "and only the seed");
    }

    /// The first 16 points of Joe and Kuo's sequence in 5 dimensions, as their reference program
    /// prints them (and scipy.stats.qmc.Sobol(5, scramble=False) gives).
    #[test]
    fn sobol_matches_the_published_first_points() {
        let want: [[f64; 5]; 16] = [
            [0.0, 0.0, 0.0, 0.0, 0.0],
            [0.5, 0.5, 0.5, 0.5, 0.5],
            [0.75, 0.25, 0.25, 0.25, 0.75],
            [0.25, 0.75, 0.75, 0.75, 0.25],
            [0.375, 0.375, 0.625, 0.875, 0.375],
            [0.875, 0.875, 0.125, 0.375, 0.875],
            [0.625, 0.125, 0.875, 0.625, 0.625],
            [0.125, 0.625, 0.375, 0.125, 0.125],
            [0.1875, 0.3125, 0.9375, 0.4375, 0.5625],
            [0.6875, 0.8125, 0.4375, 0.9375, 0.0625],
            [0.9375, 0.0625, 0.6875, 0.1875, 0.3125],
            [0.4375, 0.5625, 0.1875, 0.6875, 0.8125],
            [0.3125, 0.1875, 0.3125, 0.5625, 0.9375],
            [0.8125, 0.6875, 0.8125, 0.0625, 0.4375],
            [0.5625, 0.4375, 0.0625, 0.8125, 0.1875],
            [0.0625, 0.9375, 0.5625, 0.3125, 0.6875],
        ];
        let got = sobol(16, 5, None);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.as_slice(), w.as_slice(), "point {i}");
        }
        // Every dimension of the first 2^k points is a permutation of the k-bit fractions.
        let pts = sobol(256, SOBOL_MAX_DIMS, None);
        for d in 0..SOBOL_MAX_DIMS {
            let mut v: Vec<u32> = pts.iter().map(|p| (p[d] * 256.0) as u32).collect();
            v.sort_unstable();
            assert_eq!(v, (0..256).collect::<Vec<u32>>(), "dimension {d}");
        }
    }

    #[test]
    fn scrambling_is_seeded_and_keeps_the_strata() {
        let a = sobol(64, 3, Some(7));
        assert_eq!(a, sobol(64, 3, Some(7)));
        assert_ne!(a, sobol(64, 3, Some(8)));
        for d in 0..3 {
            let mut v: Vec<u32> = a.iter().map(|p| (p[d] * 64.0) as u32).collect();
            v.sort_unstable();
            assert_eq!(v, (0..64).collect::<Vec<u32>>(), "dimension {d}");
        }
    }
}
