//! Sobol sensitivity indices: the Saltelli (2010) design (matrices A and B, and A with each column
//! taken from B), Saltelli's first-order and Jansen's total-order estimators, bootstrap intervals.

use crate::experiment::design::{sobol, SOBOL_MAX_DIMS};
use crate::model::rng;

/// Most factors: A and B together take two Sobol dimensions per factor.
pub const MAX_FACTORS: usize = SOBOL_MAX_DIMS / 2;
/// Stream of the bootstrap's resampling draws.
const BOOTSTRAP: u32 = 0x5AB0;

/// The design for `k` factors and `n` base rows, in the unit cube: `n (k + 2)` rows, block by
/// block — A (rows 0..n), B (n..2n), then for each factor i the matrix A with column i from B
/// (rows (2 + i) n .. (3 + i) n). A and B are the two halves of a 2k-dimensional Sobol sequence,
/// its first point (all zeros, unless scrambled) left out.
pub fn saltelli(n: usize, k: usize, scramble: Option<u32>) -> Vec<Vec<f64>> {
    assert!((1..=MAX_FACTORS).contains(&k), "1 to {MAX_FACTORS} factors");
    let skip = usize::from(scramble.is_none());
    let base = sobol(n + skip, 2 * k, scramble);
    let (a, b): (Vec<&[f64]>, Vec<&[f64]>) = base[skip..].iter().map(|p| p.split_at(k)).unzip();
    let mut rows: Vec<Vec<f64>> = Vec::with_capacity(n * (k + 2));
    rows.extend(a.iter().map(|r| r.to_vec()));
    rows.extend(b.iter().map(|r| r.to_vec()));
    for i in 0..k {
        rows.extend(a.iter().zip(&b).map(|(ra, rb)| {
            let mut r = ra.to_vec();
            r[i] = rb[i];
            r
        }));
    }
    rows
}

/// A factor's indices with their bootstrap intervals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Index {
    /// First-order index S_i and its interval.
    pub s1: f64,
    pub s1_lo: f64,
    pub s1_hi: f64,
    /// Total-order index S_Ti and its interval.
    pub st: f64,
    pub st_lo: f64,
    pub st_hi: f64,
}

/// S_i and S_Ti of every factor from the outputs `y` of the `saltelli(n, k, …)` design (same
/// order), over the base rows `rows` (each may repeat: a bootstrap sample):
/// V = the variance of f(A) and f(B) together, with mean f̄; S_i = mean((f(B) − f̄) (f(A_B^i) −
/// f(A))) / V (Saltelli 2010, on the centred output as SALib computes it: the same in expectation,
/// and far less noisy when the output's mean is large against its spread, as months are);
/// S_Ti = mean((f(A) − f(A_B^i))²) / 2V (Jansen 1999).
fn estimate(y: &[f64], n: usize, k: usize, rows: &[usize]) -> Vec<(f64, f64)> {
    let (ya, yb) = (&y[..n], &y[n..2 * n]);
    let m = rows.len() as f64;
    let mean = rows.iter().map(|&j| ya[j] + yb[j]).sum::<f64>() / (2.0 * m);
    let var = rows.iter().map(|&j| (ya[j] - mean).powi(2) + (yb[j] - mean).powi(2)).sum::<f64>() / (2.0 * m);
    (0..k)
        .map(|i| {
            let yab = &y[(2 + i) * n..(3 + i) * n];
            if var <= 0.0 {
                return (f64::NAN, f64::NAN);
            }
            let s1 = rows.iter().map(|&j| (yb[j] - mean) * (yab[j] - ya[j])).sum::<f64>() / m / var;
            let st = rows.iter().map(|&j| (ya[j] - yab[j]).powi(2)).sum::<f64>() / (2.0 * m) / var;
            (s1, st)
        })
        .collect()
}

/// The indices of the `k` factors from the outputs `y` of `saltelli(n, k, …)`, with 95 %
/// intervals from `resamples` bootstrap samples of the base rows (seeded by `key`: the same
/// inputs give the same intervals). NaN where the output does not vary.
pub fn indices(y: &[f64], n: usize, k: usize, resamples: usize, key: u32) -> Vec<Index> {
    assert_eq!(y.len(), n * (k + 2), "one output per row of the design");
    let all: Vec<usize> = (0..n).collect();
    let point = estimate(y, n, k, &all);
    let mut boot: Vec<Vec<(f64, f64)>> = Vec::with_capacity(resamples);
    let mut rows = vec![0usize; n];
    for b in 0..resamples {
        for (j, r) in rows.iter_mut().enumerate() {
            *r = rng::draw(key, b as u32, j as u32, BOOTSTRAP) as usize % n;
        }
        boot.push(estimate(y, n, k, &rows));
    }
    let interval = |mut v: Vec<f64>| -> (f64, f64) {
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        // Nearest rank: the value at 1-based rank ⌈p·m⌉.
        let at = |p: f64| {
            v.get(((p * v.len() as f64).ceil() as usize).max(1) - 1)
                .copied()
                .unwrap_or(f64::NAN)
        };
        (at(0.025), at(0.975))
    };
    point
        .iter()
        .enumerate()
        .map(|(i, &(s1, st))| {
            let (s1_lo, s1_hi) = interval(boot.iter().map(|b| b[i].0).collect());
            let (st_lo, st_hi) = interval(boot.iter().map(|b| b[i].1).collect());
            Index {
                s1,
                s1_lo,
                s1_hi,
                st,
                st_lo,
                st_hi,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn the_design_swaps_one_column_at_a_time() {
        let d = saltelli(8, 3, None);
        assert_eq!(d.len(), 8 * 5);
        // The sequence's point (½, …, ½) gives one row where A and B agree; the rest differ.
        assert_eq!((0..8).filter(|&j| d[j] != d[8 + j]).count(), 7);
        for j in 0..8 {
            let (a, b) = (&d[j], &d[8 + j]);
            assert!(a.iter().chain(b.iter()).all(|v| (0.0..1.0).contains(v)));
            for i in 0..3 {
                let ab = &d[(2 + i) * 8 + j];
                for c in 0..3 {
                    assert_eq!(ab[c], if c == i { b[c] } else { a[c] });
                }
            }
        }
    }

    /// The Ishigami function (a = 7, b = 0.1) on [−π, π]³, whose indices are known exactly.
    #[test]
    fn ishigami_indices_are_recovered_within_their_intervals() {
        let (a, b) = (7.0, 0.1);
        let f = |x: &[f64]| {
            let x: Vec<f64> = x.iter().map(|u| -PI + 2.0 * PI * u).collect();
            x[0].sin() + a * x[1].sin().powi(2) + b * x[2].powi(4) * x[0].sin()
        };
        // Analytic: V1 = ½ (1 + b π⁴/5)², V2 = a²/8, V3 = 0, V13 = b² π⁸ (1/18 − 1/50).
        let v1 = 0.5 * (1.0 + b * PI.powi(4) / 5.0).powi(2);
        let v2 = a * a / 8.0;
        let v13 = b * b * PI.powi(8) * (1.0 / 18.0 - 1.0 / 50.0);
        let v = v1 + v2 + v13;
        let s1 = [v1 / v, v2 / v, 0.0];
        let st = [(v1 + v13) / v, v2 / v, v13 / v];
        assert!((s1[0] - 0.3139).abs() < 1e-3 && (st[2] - 0.2437).abs() < 1e-3);
        let n = 8192;
        let design = saltelli(n, 3, None);
        let y: Vec<f64> = design.iter().map(|x| f(x)).collect();
        let idx = indices(&y, n, 3, 500, 7);
        for (i, r) in idx.iter().enumerate() {
            eprintln!(
                "ishigami x{}: S1 {:.3} [{:.3}, {:.3}] (exact {:.3}); ST {:.3} [{:.3}, {:.3}] (exact {:.3})",
                i + 1,
                r.s1,
                r.s1_lo,
                r.s1_hi,
                s1[i],
                r.st,
                r.st_lo,
                r.st_hi,
                st[i]
            );
        }
        for i in 0..3 {
            let r = &idx[i];
            assert!(r.s1_lo <= s1[i] && s1[i] <= r.s1_hi, "S{}: {s1:?} vs {r:?}", i + 1);
            assert!(r.st_lo <= st[i] && st[i] <= r.st_hi, "ST{}: {st:?} vs {r:?}", i + 1);
            assert!((r.s1 - s1[i]).abs() < 0.03 && (r.st - st[i]).abs() < 0.03, "{i}: {r:?}");
            assert!(r.s1_hi - r.s1_lo < 0.1 && r.st_hi - r.st_lo < 0.1, "{i}: {r:?}");
        }
        // Same inputs, same intervals.
        assert_eq!(indices(&y, n, 3, 500, 7), idx);
    }

    #[test]
    fn a_constant_output_has_no_indices() {
        let y = vec![1.0; 4 * 4];
        assert!(indices(&y, 4, 2, 10, 1).iter().all(|r| r.s1.is_nan() && r.st.is_nan()));
    }
}
