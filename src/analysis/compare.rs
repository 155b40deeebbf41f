//! Observed against simulated, year by year, with the yardsticks fitted to the same years; and
//! `--fit-until`: the years the fits see, the rest held back and forecast.

use crate::analysis::events::Scores;
use crate::analysis::observed::Observed;
use crate::analysis::yardstick::{fit_bass, fit_logistic, Fitted};
use crate::error::InputError;

/// One observed year beside the simulated share at the year's last month.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub year: i32,
    /// The month that ends the year (1 = the first month of `start_year`).
    pub month: u32,
    pub observed: f64,
    pub median: f64,
    pub lo: f64,
    pub hi: f64,
}

/// Which observed years are fitted (`--fit-until`): all, those up to a year, or those up to the
/// year by whose end half of the eventual adopters (the last observed share) had adopted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FitUntil {
    #[default]
    All,
    Year(i32),
    Half,
}

impl FitUntil {
    /// `half`, or a calendar year.
    pub fn parse(s: &str) -> Result<FitUntil, InputError> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("half") {
            return Ok(FitUntil::Half);
        }
        s.parse::<i32>()
            .map(FitUntil::Year)
            .map_err(|_| InputError::new(format!("{s:?}: give a calendar year (`1975`) or `half`")).field("--fit-until"))
    }

    /// The last fitted year for `obs`, None for all; refused unless at least three years are
    /// fitted and one is held back.
    pub fn resolve(self, obs: &Observed) -> Result<Option<i32>, InputError> {
        let (Some(&first), Some(&last)) = (obs.years.first(), obs.years.last()) else {
            return Ok(None);
        };
        let year = match self {
            FitUntil::All => return Ok(None),
            FitUntil::Year(y) => y,
            FitUntil::Half => {
                let top = obs.share.last().copied().unwrap_or(0.0);
                let at = obs.share.iter().position(|&s| s >= top / 2.0).unwrap_or(0);
                obs.years[at]
            }
        };
        let fitted = obs.years.iter().filter(|&&y| y <= year).count();
        if fitted < 3 || year >= last {
            let what = if self == FitUntil::Half {
                format!("half of the adopters had adopted by {year}")
            } else {
                format!("{year}")
            };
            return Err(InputError::new(format!(
                "{what}: the data run from {first} to {last}; fitting needs at least three years up to it and one after"
            ))
            .field("--fit-until"));
        }
        Ok(Some(year))
    }
}

/// The years held back: the forecast's error of each predictor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    /// The last fitted year; the forecast covers the observed years after it.
    pub until: i32,
    /// pioneer's RMSE on the fitted years and on the held-back years.
    pub pioneer: [f64; 2],
    /// The yardsticks' RMSE on the held-back years (their `rmse` is of the fitted years).
    pub yardsticks: [f64; 2],
}

/// Observed against simulated.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub rows: Vec<Row>,
    /// Root mean square of (observed − simulated median) over the observed years.
    pub rmse: f64,
    /// The first year at 10, 50 and 90 %: (observed, simulated median), None if never.
    pub years_to: [(Option<i32>, Option<i32>); 3],
    /// A logistic and a Bass curve fitted to the same observed years (those up to
    /// `--fit-until`), with their RMSE there: what a curve with three free parameters does on
    /// the same data.
    pub yardsticks: [Fitted; 2],
    /// With `--fit-until`: each predictor's error on the years held back.
    pub forecast: Option<Forecast>,
    /// For events: pioneer's and the event-history logit's Brier score and AUC of "adopted by
    /// the end of each observed year" over the population's units (`analysis::events`), and
    /// the logit's coefficients; empty for a curve.
    pub events: Vec<Scores>,
    pub event_note: String,
    /// For events: the share of adopters after the first year's that had a neighbour adopt in
    /// an earlier year, observed and the runs' mean (`events::neighbour_share`).
    pub neighbours: Option<[f64; 2]>,
}

impl Comparison {
    /// The first observed year (the Bass clock starts the year before).
    pub fn first_year(&self) -> f64 {
        self.rows.first().map_or(0.0, |r| r.year as f64)
    }

    /// The month that ends the last fitted year, with `--fit-until` (for a chart).
    pub fn fitted_until_month(&self) -> Option<u32> {
        let u = self.forecast?.until;
        self.rows.iter().rev().find(|r| r.year <= u).map(|r| r.month)
    }

    /// Each yardstick's fitted share at the observed years, named with its RMSE (for a chart).
    pub fn fitted_curves(&self) -> Vec<(String, Vec<f64>)> {
        self.yardsticks
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let curve = self.rows.iter().map(|r| f.at(r.year as f64, self.first_year())).collect();
                let name = match &self.forecast {
                    Some(fc) => format!(
                        "{} fitted to {}, RMSE {:.3}, forecast {:.3}",
                        f.name, fc.until, f.rmse, fc.yardsticks[k]
                    ),
                    None => format!("fitted {}, RMSE {:.3}", f.name, f.rmse),
                };
                (name, curve)
            })
            .collect()
    }

    /// The yardsticks, one line each, as the commands print them.
    pub fn yardstick_lines(&self) -> String {
        let mut s = String::new();
        if let Some(fc) = &self.forecast {
            let held = self.rows.iter().filter(|r| r.year > fc.until).count();
            s.push_str(&format!(
                "    fitted on the years to {}, {held} year(s) after held back: RMSE on the fitted years, then on the forecast\n",
                fc.until
            ));
            s.push_str(&format!("    pioneer: RMSE {:.3}, forecast {:.3}\n", fc.pioneer[0], fc.pioneer[1]));
        }
        for (k, f) in self.yardsticks.iter().enumerate() {
            let forecast = self
                .forecast
                .map_or(String::new(), |fc| format!(", forecast {:.3}", fc.yardsticks[k]));
            s.push_str(&format!(
                "    yardstick {}: RMSE {:.3}{forecast} ({})\n",
                f.name,
                f.rmse,
                f.describe()
            ));
        }
        for e in &self.events {
            let forecast = e
                .forecast
                .map_or(String::new(), |(b, a)| format!("; forecast Brier {b:.3}, AUC {a:.3}"));
            s.push_str(&format!(
                "    adopted-by-year, {}: Brier {:.3}, AUC {:.3}{forecast}\n",
                e.name, e.brier, e.auc
            ));
        }
        if !self.event_note.is_empty() {
            s.push_str(&format!("    event-history logit: {}\n", self.event_note));
        }
        if let Some([o, p]) = self.neighbours {
            s.push_str(&format!(
                "    adopters with a neighbour adopted in an earlier year: observed {o:.3}, pioneer {p:.3} (mean of the runs)\n"
            ));
        }
        s
    }

    /// The yardsticks for a manifest: curve, RMSE and parameters; the forecast's errors.
    pub fn yardsticks_json(&self) -> serde_json::Value {
        let fc = self.forecast;
        let pioneer = serde_json::json!({
            "curve": "pioneer",
            "rmse_share": fc.map_or(self.rmse, |f| f.pioneer[0]),
            "forecast_rmse_share": fc.map(|f| f.pioneer[1]),
        });
        std::iter::once(pioneer)
            .chain(self.yardsticks.iter().enumerate().map(|(k, f)| {
                serde_json::json!({
                    "curve": f.name,
                    "rmse_share": f.rmse,
                    "forecast_rmse_share": fc.map(|c| c.yardsticks[k]),
                    "params": f.params,
                })
            }))
            .chain(
                self.neighbours
                    .map(|[o, p]| serde_json::json!({ "neighbours_share": { "observed": o, "pioneer": p } })),
            )
            .chain(self.events.iter().map(|e| {
                serde_json::json!({
                    "events": e.name,
                    "brier": e.brier,
                    "auc": e.auc,
                    "forecast_brier": e.forecast.map(|f| f.0),
                    "forecast_auc": e.forecast.map(|f| f.1),
                })
            }))
            .collect()
    }
}

/// Root mean square of `err` (NaN for none).
fn rms(err: impl Iterator<Item = f64>) -> f64 {
    let (sq, n) = err.fold((0.0, 0usize), |(s, n), e| (s + e * e, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        (sq / n as f64).sqrt()
    }
}

/// Compare `obs` with `share[r][t - 1]`, the simulated share of run r by the end of month t
/// (median and 5–95 % over runs, nearest rank), a year's last month standing for the year. With
/// `until`, the yardsticks are fitted to the years up to it, and every predictor's error on the
/// years after is the forecast's.
pub fn compare(obs: &Observed, start_year: i32, share: &[Vec<f64>], until: Option<i32>) -> Comparison {
    let (median, lo, hi) = crate::plot::quantiles(share);
    let months = median.len() as u32;
    let month_of = |y: i32| (((y - start_year + 1) * 12) as u32).min(months).max(1);
    let rows: Vec<Row> = obs
        .years
        .iter()
        .zip(&obs.share)
        .map(|(&year, &observed)| {
            let m = month_of(year) as usize - 1;
            Row {
                year,
                month: m as u32 + 1,
                observed,
                median: median[m],
                lo: lo[m],
                hi: hi[m],
            }
        })
        .collect();
    let rmse = rms(rows.iter().map(|r| r.observed - r.median));
    let year_of = |m: usize| start_year + m as i32 / 12;
    let years_to = [0.1, 0.5, 0.9].map(|x| {
        let o = obs.years.iter().zip(&obs.share).find(|(_, &s)| s >= x).map(|(&y, _)| y);
        let s = median.iter().position(|&v| v >= x).map(year_of);
        (o, s)
    });
    let fitted = |r: &&Row| until.is_none_or(|u| r.year <= u);
    let (ys, ss): (Vec<f64>, Vec<f64>) = rows.iter().filter(fitted).map(|r| (r.year as f64, r.observed)).unzip();
    let yardsticks = if ys.is_empty() {
        [0, 1].map(|i| Fitted {
            name: ["logistic", "bass"][i],
            params: [f64::NAN; 3],
            rmse: f64::NAN,
        })
    } else {
        [fit_logistic(&ys, &ss), fit_bass(&ys, &ss)]
    };
    let first = rows.first().map_or(0.0, |r| r.year as f64);
    let forecast = until.map(|u| {
        let held = || rows.iter().filter(move |r| r.year > u);
        Forecast {
            until: u,
            pioneer: [
                rms(rows.iter().filter(fitted).map(|r| r.observed - r.median)),
                rms(held().map(|r| r.observed - r.median)),
            ],
            yardsticks: yardsticks.map(|f| rms(held().map(|r| r.observed - f.at(r.year as f64, first)))),
        }
    });
    Comparison {
        rows,
        rmse,
        years_to,
        yardsticks,
        forecast,
        events: Vec::new(),
        event_note: String::new(),
        neighbours: None,
    }
}

/// `compare`, and for events the event yardsticks too: `adopt_month[r][i]`, run r's adoption
/// month of unit i of `m`.
pub fn compare_with_events(
    obs: &Observed,
    m: &crate::model::Model,
    start_year: i32,
    share: &[Vec<f64>],
    adopt_month: &[&[u32]],
    until: Option<i32>,
) -> Comparison {
    let mut c = compare(obs, start_year, share, until);
    if let (Some(ev), Some(&first), Some(&last)) = (&obs.events, obs.years.first(), obs.years.last()) {
        (c.events, c.event_note) = crate::analysis::events::yardsticks(m, ev, (first, last, until), adopt_month, start_year);
        let t = crate::analysis::events::EventTarget::new(m, ev, first, last, start_year);
        c.neighbours = Some([t.observed_neighbours, t.neighbours(adopt_month)]);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(years: std::ops::RangeInclusive<i32>, f: impl Fn(f64) -> f64) -> Observed {
        let years: Vec<i32> = years.collect();
        Observed {
            path: "o.csv".into(),
            share: years.iter().map(|&y| f(y as f64)).collect(),
            lines: (2..years.len() + 2).collect(),
            years,
            events: None,
            year_field: "year".into(),
        }
    }

    /// `half` is the year half the eventual adopters had; too few fitted years, or none held
    /// back, are refused at the flag.
    #[test]
    fn the_fitted_years_are_resolved_and_refused() {
        let o = curve(2000..=2019, |y| 0.8 / (1.0 + (-(y - 2010.0)).exp()));
        assert_eq!(FitUntil::parse("half").and_then(|f| f.resolve(&o)), Ok(Some(2010)));
        assert_eq!(FitUntil::parse(" 2005 ").and_then(|f| f.resolve(&o)), Ok(Some(2005)));
        assert_eq!(FitUntil::All.resolve(&o), Ok(None));
        for bad in ["2001", "2019", "2030", "soon"] {
            let e = FitUntil::parse(bad).and_then(|f| f.resolve(&o)).expect_err(bad);
            assert_eq!(e.field.as_deref(), Some("--fit-until"), "{e}");
        }
    }

    /// A logistic fitted to the first half of an exact logistic forecasts the rest, and a
    /// simulated band that stops short has the larger forecast error.
    #[test]
    fn a_held_back_logistic_is_forecast() {
        let truth = |y: f64| 0.9 / (1.0 + (-0.5 * (y - 2010.0)).exp());
        let o = curve(2000..=2024, truth);
        // One run, month by month: the truth until 2010, then flat.
        let run: Vec<f64> = (0..25 * 12).map(|m| truth(2000.0 + (m / 12) as f64).min(truth(2010.0))).collect();
        let c = compare(&o, 2000, &[run], Some(2012));
        let fc = c.forecast.expect("held back");
        assert!(fc.yardsticks[0] < 0.01, "{fc:?}");
        assert!(fc.pioneer[1] > 10.0 * fc.yardsticks[0], "{fc:?}");
        assert!(fc.pioneer[0] < fc.pioneer[1], "{fc:?}");
        assert!(c.yardstick_lines().contains("forecast"), "{}", c.yardstick_lines());
    }
}
