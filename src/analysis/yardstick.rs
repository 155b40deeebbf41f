//! Yardsticks for an observed curve: a fitted logistic and a fitted Bass model, each with its
//! RMSE on the cumulative share, to set beside pioneer's own (issue 24, item 5).

/// A curve fitted to the observed cumulative share by least squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fitted {
    /// `logistic` or `bass`.
    pub name: &'static str,
    /// Logistic: ceiling K, rate r (per year), midpoint t0 (a calendar year). Bass: market m,
    /// innovation p and imitation q (per year), counted from the year before the first.
    pub params: [f64; 3],
    /// Root mean square of (observed − fitted) over the observed years.
    pub rmse: f64,
}

impl Fitted {
    /// The fitted share at calendar year `year` (the year's end).
    pub fn at(&self, year: f64, first: f64) -> f64 {
        match self.name {
            "logistic" => logistic(self.params, year),
            _ => bass(self.params, year - (first - 1.0)),
        }
    }

    /// The parameters as a modeler reads them.
    pub fn describe(&self) -> String {
        let [a, b, c] = self.params;
        match self.name {
            "logistic" => format!("ceiling {a:.3}, rate {b:.3}/year, midpoint {c:.1}"),
            _ => format!("market {a:.3}, innovation p {b:.4}/year, imitation q {c:.3}/year"),
        }
    }
}

/// K / (1 + e^(−r (t − t0))).
fn logistic([k, r, t0]: [f64; 3], t: f64) -> f64 {
    k / (1.0 + (-r * (t - t0)).exp())
}

/// Bass's cumulative adoption m (1 − e^(−(p+q)τ)) / (1 + (q/p) e^(−(p+q)τ)), τ years on.
fn bass([m, p, q]: [f64; 3], tau: f64) -> f64 {
    let e = (-(p + q) * tau).exp();
    m * (1.0 - e) / (1.0 + (q / p) * e)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

fn rmse(years: &[f64], share: &[f64], f: &dyn Fn(f64) -> f64) -> f64 {
    let sq: f64 = years.iter().zip(share).map(|(&t, &s)| (s - f(t)).powi(2)).sum();
    (sq / years.len().max(1) as f64).sqrt()
}

/// Fit the logistic (ceiling, rate and midpoint all free; the ceiling in (0, 1]) to the share
/// adopted by the end of each year.
pub fn fit_logistic(years: &[f64], share: &[f64]) -> Fitted {
    let top = share.iter().copied().fold(0.0, f64::max).max(1e-3);
    let half = years.iter().zip(share).find(|(_, &s)| s >= top / 2.0).map_or(years[0], |(&y, _)| y);
    let span = (years[years.len() - 1] - years[0]).max(1.0);
    let of = |x: [f64; 3]| [sigmoid(x[0]), x[1].exp(), x[2]];
    let cost = |x: [f64; 3]| rmse(years, share, &|t| logistic(of(x), t));
    let starts = [0.5, 2.0, 8.0, 32.0].map(|k| [logit(top.min(0.999)), (k / span).ln(), half]);
    let best = best_of(&starts, &cost);
    Fitted {
        name: "logistic",
        params: of(best),
        rmse: cost(best),
    }
}

/// Fit the Bass model (market in (0, 1], p and q positive) to the share adopted by the end of
/// each year, its clock starting at the end of the year before the first.
pub fn fit_bass(years: &[f64], share: &[f64]) -> Fitted {
    let first = years[0];
    let top = share.iter().copied().fold(0.0, f64::max).max(1e-3);
    let of = |x: [f64; 3]| [sigmoid(x[0]), x[1].exp(), x[2].exp()];
    let cost = |x: [f64; 3]| rmse(years, share, &|t| bass(of(x), t - (first - 1.0)));
    let mut starts = Vec::new();
    for p in [0.002, 0.02, 0.2] {
        for q in [0.05, 0.3, 1.5] {
            starts.push([logit(top.min(0.999)), f64::ln(p), f64::ln(q)]);
        }
    }
    let best = best_of(&starts, &cost);
    Fitted {
        name: "bass",
        params: of(best),
        rmse: cost(best),
    }
}

/// The best of Nelder–Mead runs from each start (ties to the earlier start).
fn best_of(starts: &[[f64; 3]], cost: &dyn Fn([f64; 3]) -> f64) -> [f64; 3] {
    let mut best = (f64::INFINITY, starts[0]);
    for &s in starts {
        let x = nelder_mead(cost, s);
        let c = cost(x);
        if c < best.0 {
            best = (c, x);
        }
    }
    best.1
}

/// Minimise `f` from `x0` by Nelder–Mead (reflection 1, expansion 2, contraction ½, shrink ½),
/// restarted once from its answer; deterministic, a fixed budget of evaluations.
fn nelder_mead(f: &dyn Fn([f64; 3]) -> f64, x0: [f64; 3]) -> [f64; 3] {
    let mut x = x0;
    for _ in 0..2 {
        x = simplex(f, x);
    }
    x
}

fn simplex(f: &dyn Fn([f64; 3]) -> f64, x0: [f64; 3]) -> [f64; 3] {
    let mut pts: Vec<([f64; 3], f64)> = (0..4)
        .map(|i| {
            let mut p = x0;
            if i > 0 {
                p[i - 1] += if p[i - 1].abs() > 1e-3 { 0.25 * p[i - 1].abs() } else { 0.25 };
            }
            (p, f(p))
        })
        .collect();
    let lerp = |a: [f64; 3], b: [f64; 3], t: f64| [0, 1, 2].map(|d| a[d] + t * (b[d] - a[d]));
    for _ in 0..4000 {
        pts.sort_by(|a, b| a.1.total_cmp(&b.1));
        if (pts[3].1 - pts[0].1).abs() <= 1e-15 * (1.0 + pts[0].1.abs()) {
            break;
        }
        let c = [0, 1, 2].map(|d| (pts[0].0[d] + pts[1].0[d] + pts[2].0[d]) / 3.0);
        let worst = pts[3];
        let r = lerp(c, worst.0, -1.0);
        let fr = f(r);
        if fr < pts[0].1 {
            let e = lerp(c, worst.0, -2.0);
            let fe = f(e);
            pts[3] = if fe < fr { (e, fe) } else { (r, fr) };
        } else if fr < pts[2].1 {
            pts[3] = (r, fr);
        } else {
            let k = if fr < worst.1 { lerp(c, r, 0.5) } else { lerp(c, worst.0, 0.5) };
            let fk = f(k);
            if fk < worst.1.min(fr) {
                pts[3] = (k, fk);
            } else {
                let b = pts[0].0;
                for p in pts.iter_mut().skip(1) {
                    p.0 = lerp(b, p.0, 0.5);
                    p.1 = f(p.0);
                }
            }
        }
    }
    pts.sort_by(|a, b| a.1.total_cmp(&b.1));
    pts[0].0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn years(n: usize) -> Vec<f64> {
        (0..n).map(|i| 1960.0 + i as f64).collect()
    }

    /// From a logistic's exact values the fit gives back its ceiling, rate and midpoint.
    #[test]
    fn a_logistic_is_recovered() {
        let y = years(40);
        let truth = [0.84, 0.35, 1978.5];
        let s: Vec<f64> = y.iter().map(|&t| logistic(truth, t)).collect();
        let f = fit_logistic(&y, &s);
        assert!(f.rmse < 1e-6, "{f:?}");
        for (got, want) in f.params.iter().zip(truth) {
            assert!((got - want).abs() < 1e-3 * want.abs().max(1.0), "{f:?}");
        }
        assert!((f.at(1990.0, 1960.0) - logistic(truth, 1990.0)).abs() < 1e-6);
    }

    /// From a Bass curve's exact values the fit gives back m, p and q; a burst (fast q) too.
    #[test]
    fn a_bass_curve_is_recovered() {
        for truth in [[0.9, 0.01, 0.45], [1.0, 0.02, 2.5]] {
            let y = years(30);
            let s: Vec<f64> = y.iter().map(|&t| bass(truth, t - 1959.0)).collect();
            let f = fit_bass(&y, &s);
            assert!(f.rmse < 1e-5, "{truth:?}: {f:?}");
            for (got, want) in f.params.iter().zip(truth) {
                assert!((got - want).abs() < 0.02 * want, "{truth:?}: {f:?}");
            }
        }
    }

    /// Each fits its own kind better than the other fits it: a Bass curve with much innovation
    /// starts steep, which no symmetric logistic follows.
    #[test]
    fn each_curve_fits_its_own_kind_best() {
        let y = years(30);
        let b: Vec<f64> = y.iter().map(|&t| bass([0.8, 0.15, 0.1], t - 1959.0)).collect();
        assert!(fit_logistic(&y, &b).rmse > 10.0 * fit_bass(&y, &b).rmse.max(1e-9));
    }
}
