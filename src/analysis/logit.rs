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
    /// Separation: after `iterations`, `rows` rows had fitted probabilities of 0 or 1 (within
    /// 1e-8) while the coefficients of `columns` still moved the log-odds (by more than 0.1 in
    /// the last step) and the log-likelihood no longer improved: the estimate runs off to
    /// infinity.
    #[error("separation: the covariates predict the outcome of {rows} rows perfectly (fitted probabilities 0 or 1), and the coefficients of column(s) {columns:?} grow without bound while the log-likelihood stops improving ({iterations} iterations); no finite estimate exists")]
    Separation {
        iterations: usize,
        columns: Vec<usize>,
        rows: usize,
    },
    #[error("no convergence after {0} iterations")]
    NoConvergence(usize),
}

/// Most iterations; a fit converges in about ten, a separated one saturates (fitted
/// probabilities exactly 0 or 1 in f64) in about forty.
const MAX: usize = 60;

/// Fit `y` (0 or 1) on the rows of `x` (each the same length; give a column of ones for an
/// intercept) by IRLS: β ← β + t·(XᵀWX)⁻¹ Xᵀ(y − μ), W = μ(1 − μ), from β = 0, with t halved
/// while the step would lower the log-likelihood. It has converged when the last step moved no
/// row's log-odds x·β by more than 1e-8 (1e-5 after 25 iterations, where rounding can stall
/// it): a test in the scale of the fitted probabilities, so a covariate rescaled by any factor
/// gives the same fit with its coefficient scaled back. Separation is told by the fit's
/// behaviour, not a coefficient's size: the log-likelihood flattens while some rows' log-odds
/// keep moving by about one per step towards probabilities of 0 or 1, until those weights
/// vanish; such a fit never passes the test above and is refused as `Separation`.
pub fn fit(x: &[Vec<f64>], y: &[f64]) -> Result<Fit, FitError> {
    let p = x.first().map_or(0, Vec::len);
    if x.is_empty() || p == 0 {
        return Err(FitError::Empty);
    }
    let mut beta = vec![0.0; p];
    let (mut info, mut score, mut ll) = pieces(x, y, &beta);
    let mut last_step = vec![0.0; p];
    for it in 1..=MAX {
        // At β = 0 every weight is ¼, so a singular matrix means collinear covariates; later it
        // means the weights vanished as fitted probabilities ran to 0 or 1.
        let inv = match invert(&info) {
            Ok(inv) => inv,
            Err(e) if it == 1 => return Err(e),
            Err(_) => return Err(diagnose(x, &beta, &last_step, it - 1)),
        };
        let full: Vec<f64> = (0..p).map(|a| (0..p).map(|b| inv[a][b] * score[b]).sum()).collect();
        let mut t = 1.0;
        let (next, next_pieces) = loop {
            let next: Vec<f64> = beta.iter().zip(&full).map(|(b, s)| b + t * s).collect();
            let got = pieces(x, y, &next);
            if got.2 >= ll - 1e-12 * (1.0 + ll.abs()) || t < 1e-6 {
                break (next, got);
            }
            t /= 2.0;
        };
        let step: Vec<f64> = next.iter().zip(&beta).map(|(n, b)| n - b).collect();
        let moved = x
            .iter()
            .map(|row| row.iter().zip(&step).map(|(a, s)| a * s).sum::<f64>().abs())
            .fold(0.0, f64::max);
        beta = next;
        (info, score, ll) = next_pieces;
        last_step = step;
        if moved < 1e-8 || (it > 25 && moved < 1e-5) {
            let inv = invert(&info).map_err(|_| diagnose(x, &beta, &last_step, it))?;
            let se: Vec<f64> = (0..p).map(|a| inv[a][a].sqrt()).collect();
            let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
            let pv = z.iter().map(|z| erfc(z.abs() / std::f64::consts::SQRT_2)).collect();
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
    Err(diagnose(x, &beta, &last_step, MAX))
}

/// Why a fit did not converge: the rows with fitted probabilities of 0 or 1 and the columns whose
/// last step still moved some row's log-odds by more than 0.1 make it separation; else it just
/// did not converge.
fn diagnose(x: &[Vec<f64>], beta: &[f64], last_step: &[f64], iterations: usize) -> FitError {
    let rows = x
        .iter()
        .filter(|row| {
            let eta: f64 = row.iter().zip(beta).map(|(a, b)| a * b).sum();
            let mu = 1.0 / (1.0 + (-eta).exp());
            !(1e-8..=1.0 - 1e-8).contains(&mu)
        })
        .count();
    let columns: Vec<usize> = (0..beta.len())
        .filter(|&j| x.iter().map(|row| (row[j] * last_step[j]).abs()).fold(0.0, f64::max) > 0.1)
        .collect();
    if rows > 0 {
        FitError::Separation { iterations, columns, rows }
    } else {
        FitError::NoConvergence(iterations)
    }
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

/// The inverse of a symmetric positive definite matrix, by Gauss–Jordan with partial pivoting
/// on the matrix scaled to a unit diagonal (D^-½ M D^-½, then scaled back): singular when a
/// pivot of the scaled matrix falls below 1e-12, whatever the units of the covariates.
fn invert(m: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, FitError> {
    let p = m.len();
    let mut d = Vec::with_capacity(p);
    for (i, row) in m.iter().enumerate() {
        if !(row[i] > 0.0 && row[i].is_finite()) {
            return Err(FitError::Singular(i));
        }
        d.push(row[i].sqrt());
    }
    let mut m: Vec<Vec<f64>> = (0..p).map(|i| (0..p).map(|j| m[i][j] / (d[i] * d[j])).collect()).collect();
    let mut inv: Vec<Vec<f64>> = (0..p).map(|i| (0..p).map(|j| f64::from(i == j)).collect()).collect();
    for c in 0..p {
        let pivot = (c..p).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())).unwrap_or(c);
        if m[pivot][c].abs() < 1e-12 {
            return Err(FitError::Singular(c));
        }
        m.swap(c, pivot);
        inv.swap(c, pivot);
        let piv = m[c][c];
        for j in 0..p {
            m[c][j] /= piv;
            inv[c][j] /= piv;
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
    Ok((0..p).map(|i| (0..p).map(|j| inv[i][j] / (d[i] * d[j])).collect()).collect())
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
        assert!(matches!(fit(&x, &y), Err(FitError::Singular(2))), "{:?}", fit(&x, &y));
        let x: Vec<Vec<f64>> = (0..100).map(|i| vec![1.0, i as f64]).collect();
        let y: Vec<f64> = (0..100).map(|i| f64::from(u8::from(i >= 50))).collect();
        match fit(&x, &y) {
            Err(FitError::Separation { columns, rows, .. }) => {
                assert!(columns.contains(&1), "the separating covariate grows: {columns:?}");
                assert!(rows > 90, "{rows} rows at probability 0 or 1");
            }
            other => panic!("complete separation fitted: {other:?}"),
        }
        assert_eq!(fit(&[], &[]), Err(FitError::Empty));
    }

    /// The synthetic logit with x1 multiplied by `f`: its coefficient is then 2 / f.
    fn synthetic(n: u32, f: f64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let truth = [-1.0, 2.0, -0.5];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let row = [1.0, 2.0 * uniform(5, i, 1) - 1.0, 4.0 * uniform(5, i, 2)];
            let eta: f64 = row.iter().zip(&truth).map(|(a, b)| a * b).sum();
            y.push(f64::from(u8::from(uniform(5, i, 4) < 1.0 / (1.0 + (-eta).exp()))));
            x.push(vec![row[0], row[1] * f, row[2]]);
        }
        (x, y)
    }

    /// A covariate in other units (times 1e-3 or 1e-6, or 1e3) gives the same fit, its
    /// coefficient and standard error scaled back: a coefficient in the thousands or millions is
    /// an estimate like any other, not separation.
    #[test]
    fn a_rescaled_covariate_gives_the_same_fit() {
        let (x, y) = synthetic(20_000, 1.0);
        let base = fit(&x, &y).expect("converges");
        for f in [1e-3, 1e-6, 1e3] {
            let (xf, yf) = synthetic(20_000, f);
            let got = fit(&xf, &yf).unwrap_or_else(|e| panic!("x1 × {f}: {e}"));
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-8 * a.abs().max(b.abs());
            assert!(
                close(got.beta[1], base.beta[1] / f),
                "x1 × {f}: β {} vs {}",
                got.beta[1],
                base.beta[1] / f
            );
            assert!(close(got.se[1], base.se[1] / f), "x1 × {f}: se {} vs {}", got.se[1], base.se[1] / f);
            for j in [0, 2] {
                assert!(close(got.beta[j], base.beta[j]) && close(got.z[j], base.z[j]), "x1 × {f}: β{j}");
            }
            assert!(close(got.log_likelihood, base.log_likelihood));
            assert_eq!(got.iterations, base.iterations, "x1 × {f}");
        }
        let (x, y) = synthetic(20_000, 1e-3);
        let f = fit(&x, &y).expect("converges");
        assert!(f.beta[1] > 1000.0, "the coefficient is in the thousands: {}", f.beta[1]);
    }

    /// Quasi-complete separation inside a real fit: a dummy that is 1 only for some adopters.
    /// Its coefficient would run off to infinity while the other covariates converge; refused,
    /// naming the dummy's column.
    #[test]
    fn a_dummy_that_only_adopters_have_is_separation() {
        let (mut x, y) = synthetic(5_000, 1.0);
        for (i, (row, yi)) in x.iter_mut().zip(&y).enumerate() {
            row.push(f64::from(u8::from(*yi == 1.0 && i % 4 == 0)));
        }
        match fit(&x, &y) {
            Err(FitError::Separation { columns, rows, .. }) => {
                assert!(columns.contains(&3), "the dummy grows: {columns:?}");
                let dummies = x.iter().filter(|r| r[3] == 1.0).count();
                assert!(rows >= dummies, "{rows} rows at the bounds, {dummies} with the dummy");
            }
            other => panic!("quasi-separation fitted: {other:?}"),
        }
        // Without the dummy the same rows fit.
        let x: Vec<Vec<f64>> = x.into_iter().map(|r| r[..3].to_vec()).collect();
        assert!(fit(&x, &y).is_ok());
    }
}
