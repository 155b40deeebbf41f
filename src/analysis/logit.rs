//! The discrete-time logit of event-history analysis: P(adopt) = 1 / (1 + e^(−x·β)), fitted by
//! iteratively reweighted least squares, with standard errors, z and two-sided p values.

/// A fitted logit.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub beta: Vec<f64>,
    /// Standard errors: the square roots of the diagonal of (XᵀWX)⁻¹ at the estimate.
    pub se: Vec<f64>,
    pub z: Vec<f64>,
    pub p: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: usize,
}

/// Why a fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    #[error("no rows to fit")]
    Empty,
    #[error("the covariates are collinear (column {0} is a combination of the others, or constant besides the intercept)")]
    Singular(usize),
    #[error("no convergence after {0} iterations: an outcome is (nearly) perfectly predicted by the covariates (separation)")]
    NoConvergence(usize),
}

/// Fit `y` (0 or 1) on the rows of `x` (each the same length; give a column of ones for an
/// intercept) by IRLS: β ← β + (XᵀWX)⁻¹ Xᵀ(y − μ), W = μ(1 − μ), from β = 0 until the largest
/// step is below 1e-10 (at most 50 iterations).
pub fn fit(x: &[Vec<f64>], y: &[f64]) -> Result<Fit, FitError> {
    let p = x.first().map_or(0, Vec::len);
    if x.is_empty() || p == 0 {
        return Err(FitError::Empty);
    }
    let mut beta = vec![0.0; p];
    const MAX: usize = 50;
    for it in 1..=MAX {
        let (info, score, _) = pieces(x, y, &beta);
        // At β = 0 every weight is ¼, so a singular matrix means collinear covariates; later it
        // means the weights vanished as fitted probabilities ran to 0 or 1: separation.
        let inv = match invert(info) {
            Ok(inv) => inv,
            Err(e) if it == 1 => return Err(e),
            Err(_) => return Err(FitError::NoConvergence(it)),
        };
        let step: Vec<f64> = (0..p).map(|a| (0..p).map(|b| inv[a][b] * score[b]).sum()).collect();
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        if step.iter().all(|s| s.abs() < 1e-10) || (it > 25 && step.iter().all(|s| s.abs() < 1e-7)) {
            let (info, _, ll) = pieces(x, y, &beta);
            let inv = invert(info).map_err(|_| FitError::NoConvergence(it))?;
            let se: Vec<f64> = (0..p).map(|a| inv[a][a].sqrt()).collect();
            let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
            let pv = z.iter().map(|z| erfc(z.abs() / std::f64::consts::SQRT_2)).collect();
            if beta.iter().any(|b| b.abs() > 30.0) {
                return Err(FitError::NoConvergence(it));
            }
            return Ok(Fit {
                beta,
                se,
                z,
                p: pv,
                log_likelihood: ll,
                iterations: it,
            });
        }
    }
    Err(FitError::NoConvergence(MAX))
}

/// XᵀWX, Xᵀ(y − μ) and the log-likelihood at β.
fn pieces(x: &[Vec<f64>], y: &[f64], beta: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>, f64) {
    let p = beta.len();
    let mut info = vec![vec![0.0; p]; p];
    let mut score = vec![0.0; p];
    let mut ll = 0.0;
    for (row, &yi) in x.iter().zip(y) {
        let eta: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
        let mu = 1.0 / (1.0 + (-eta).exp());
        let w = mu * (1.0 - mu);
        // log(1 + e^η) without overflow.
        let softplus = if eta > 0.0 { eta + (-eta).exp().ln_1p() } else { eta.exp().ln_1p() };
        ll += yi * eta - softplus;
        for a in 0..p {
            score[a] += row[a] * (yi - mu);
            for b in a..p {
                info[a][b] += w * row[a] * row[b];
            }
        }
    }
    // The lower triangle mirrors the upper.
    let full = (0..p)
        .map(|a| (0..p).map(|b| if b < a { info[b][a] } else { info[a][b] }).collect())
        .collect();
    (full, score, ll)
}

/// The inverse of a symmetric positive definite matrix, by Gauss–Jordan with partial pivoting.
fn invert(mut m: Vec<Vec<f64>>) -> Result<Vec<Vec<f64>>, FitError> {
    let p = m.len();
    let scale = (0..p).map(|i| m[i][i].abs()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut inv: Vec<Vec<f64>> = (0..p).map(|i| (0..p).map(|j| f64::from(i == j)).collect()).collect();
    for c in 0..p {
        let pivot = (c..p).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())).unwrap_or(c);
        if m[pivot][c].abs() < 1e-12 * scale {
            return Err(FitError::Singular(c));
        }
        m.swap(c, pivot);
        inv.swap(c, pivot);
        let d = m[c][c];
        for j in 0..p {
            m[c][j] /= d;
            inv[c][j] /= d;
        }
        for r in 0..p {
            if r != c {
                let f = m[r][c];
                if f != 0.0 {
                    for j in 0..p {
                        m[r][j] -= f * m[c][j];
                        inv[r][j] -= f * inv[c][j];
                    }
                }
            }
        }
    }
    Ok(inv)
}

/// The complementary error function (Numerical Recipes' Chebyshev fit, relative error below
/// 1.2e-7), for two-sided normal p values: p = erfc(|z| / √2).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::draw;

    fn uniform(key: u32, i: u32, s: u32) -> f64 {
        draw(key, i, 0, s) as f64 / 4_294_967_296.0
    }

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - want).abs() < 1e-6, "erfc({x}) = {}", erfc(x));
        }
        // z = 1.96: p = 0.05.
        assert!((erfc(1.959_964 / std::f64::consts::SQRT_2) - 0.05).abs() < 1e-6);
    }

    /// 40,000 draws from a known logit: the fit recovers each coefficient within 3 standard
    /// errors, the errors shrink as 1/√n, and an irrelevant covariate is not significant.
    #[test]
    fn the_coefficients_of_a_synthetic_logit_are_recovered() {
        let truth = [-1.0, 2.0, -0.5, 0.0];
        let make = |n: u32| {
            let mut x = Vec::new();
            let mut y = Vec::new();
            for i in 0..n {
                let row = vec![1.0, 2.0 * uniform(9, i, 1) - 1.0, 4.0 * uniform(9, i, 2), uniform(9, i, 3)];
                let eta: f64 = row.iter().zip(&truth).map(|(a, b)| a * b).sum();
                let p = 1.0 / (1.0 + (-eta).exp());
                y.push(f64::from(u8::from(uniform(9, i, 4) < p)));
                x.push(row);
            }
            (x, y)
        };
        let (x, y) = make(40_000);
        let f = fit(&x, &y).expect("converges");
        for (j, t) in truth.iter().enumerate() {
            assert!((f.beta[j] - t).abs() < 3.0 * f.se[j], "β{j} {} ± {} vs {t}", f.beta[j], f.se[j]);
        }
        assert!(f.p[1] < 1e-10 && f.p[2] < 1e-10, "{:?}", f.p);
        assert!(f.p[3] > 0.01, "the irrelevant covariate: {:?}", f.p);
        let (x4, y4) = make(10_000);
        let small = fit(&x4, &y4).expect("converges");
        let ratio = small.se[1] / f.se[1];
        assert!((1.7..2.3).contains(&ratio), "se ratio {ratio} for 4× the rows");
        assert!(f.log_likelihood < 0.0 && f.iterations < 15);
    }

    #[test]
    fn collinear_and_separated_data_are_refused() {
        let x: Vec<Vec<f64>> = (0..100).map(|i| vec![1.0, i as f64, 2.0 * i as f64]).collect();
        let y: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
        assert!(matches!(fit(&x, &y), Err(FitError::Singular(_))));
        let x: Vec<Vec<f64>> = (0..100).map(|i| vec![1.0, i as f64]).collect();
        let y: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i >= 50))).collect();
        assert!(matches!(fit(&x, &y), Err(FitError::NoConvergence(_))), "{:?}", fit(&x, &y));
        assert_eq!(fit(&[], &[]), Err(FitError::Empty));
    }
}
