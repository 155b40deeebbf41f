//! Pure statistics on results: the headline outcomes of a run and paired comparisons of runs.
//! No I/O and no backend here; everything works on a `BatchOutput`.

pub mod abc;
pub mod compare;
pub mod distance;
pub mod events;
pub mod logit;
pub mod observed;
pub mod sobol;
pub mod yardstick;

use crate::backend::BatchOutput;
use crate::model::params::{Params, NEVER};
use crate::model::{agg, Model};
use crate::state::{outcome, route};

/// The headline outcomes of one run and innovation (MODEL.md §6 fact 12).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcomes {
    /// Months to 50 % of units adopted; `months + 1` when the run never got there.
    pub t50: f64,
    pub final_share: f64,
    /// Mean depth of the adopters, and the share of them at full depth, at the end.
    pub mean_depth: f64,
    pub complete_share: f64,
    /// Recognitions of the run (all innovations together).
    pub recognitions: f64,
    /// Promotion rate of the leaders who adopted in the first and in the last half of the run's
    /// adopters (by adoption month, ties by unit), counting leaders ranked after adopting.
    pub promo_first: f64,
    pub promo_last: f64,
}

/// The outcomes' names, in the order of `Outcomes::values`.
pub const OUTCOMES: [&str; 8] = [
    "t50",
    "final_share",
    "mean_depth",
    "complete_share",
    "recognitions",
    "promo_first",
    "promo_last",
    "promo_gap",
];

impl Outcomes {
    /// The values in the order of `OUTCOMES` (`promo_gap` = first − last).
    pub fn values(&self) -> [f64; 8] {
        [
            self.t50,
            self.final_share,
            self.mean_depth,
            self.complete_share,
            self.recognitions,
            self.promo_first,
            self.promo_last,
            self.promo_first - self.promo_last,
        ]
    }
}

/// The outcomes of run `r` of `out` for each innovation, shares over `m`'s population.
pub fn outcomes(m: &Model, out: &BatchOutput, r: usize, prm: &Params) -> Vec<Outcomes> {
    let st = &out.state;
    let (n, kn, pop) = (st.units, st.innov, m.population());
    let last = out.record(r, out.months);
    let recognitions: u64 = (1..=out.months)
        .map(|t| out.record(r, t)[agg::global_base(kn) + agg::RECOGNITIONS] as u64)
        .sum();
    (0..kn)
        .map(|k| {
            let b = k * agg::PER_INNOV;
            let t50 = (1..=out.months)
                .find(|&t| out.record(r, t)[b + agg::ADOPTERS] as usize * 2 >= pop)
                .unwrap_or(out.months + 1);
            let adopters = last[b + agg::ADOPTERS] as f64;
            let depth_sum: f64 = (0..prm.innov[k].rungs as usize)
                .map(|d| (d + 1) as f64 * last[b + agg::DEPTH + d] as f64)
                .sum();
            let per = |x: f64| if adopters > 0.0 { x / adopters } else { 0.0 };
            // Ranked adopting leaders in adoption order.
            let base = (r * kn + k) * n;
            let mut ranked: Vec<(u32, usize, bool)> = (0..n)
                .filter(|&i| st.adopt_month[base + i] != NEVER && st.route[base + i] != route::SEEDED)
                .filter_map(|i| match outcome::fate(st.ad_extra[base + i]) {
                    outcome::PROMOTED => Some((st.adopt_month[base + i], i, true)),
                    outcome::NOT_PROMOTED => Some((st.adopt_month[base + i], i, false)),
                    _ => None,
                })
                .collect();
            ranked.sort_unstable();
            let half = ranked.len() / 2;
            let rate = |v: &[(u32, usize, bool)]| {
                if v.is_empty() {
                    0.0
                } else {
                    v.iter().filter(|x| x.2).count() as f64 / v.len() as f64
                }
            };
            Outcomes {
                t50: t50 as f64,
                final_share: adopters / pop as f64,
                mean_depth: per(depth_sum),
                complete_share: per(last[b + agg::COMPLETE] as f64),
                recognitions: recognitions as f64,
                promo_first: rate(&ranked[..half]),
                promo_last: rate(&ranked[ranked.len() - half..]),
            }
        })
        .collect()
}

/// Mean and standard error of paired differences `b[i] − a[i]` (SE 0 for fewer than 2 pairs).
pub fn paired(a: &[f64], b: &[f64]) -> (f64, f64) {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let n = d.len() as f64;
    if d.is_empty() {
        return (0.0, 0.0);
    }
    let mean = d.iter().sum::<f64>() / n;
    if d.len() < 2 {
        return (mean, 0.0);
    }
    let var = d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// The `percent` % quantile of ascending `sorted` by nearest rank: rank ⌈percent·n/100⌉, in
/// integers so that no rounding moves the rank (NaN for an empty sample).
pub fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let rank = (percent * n).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Mean of a sample (0 for none).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences_on_known_numbers() {
        let (m, se) = paired(&[1.0, 2.0, 3.0, 4.0], &[2.0, 2.0, 5.0, 5.0]);
        // Differences 1, 0, 2, 1: mean 1, sd sqrt(2/3), se sqrt(2/3)/2.
        assert!((m - 1.0).abs() < 1e-12);
        assert!((se - (2.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
        assert_eq!(paired(&[1.0], &[3.0]), (2.0, 0.0));
        assert_eq!(paired(&[], &[]), (0.0, 0.0));
    }
}
