//! The distance `pioneer calibrate` fits by (`--distance`): the curve's RMSE, the events' Brier
//! score of adopted-by-year, or a weighted mix, over the observed years up to `--fit-until`.

use crate::analysis::events::EventTarget;
use crate::analysis::observed::Observed;
use crate::error::InputError;
use crate::model::Model;

/// The weights of the curve's and the events' squared errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub curve: f64,
    pub events: f64,
    pub neighbours: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            curve: 1.0,
            events: 0.0,
            neighbours: 0.0,
        }
    }
}

impl Weights {
    /// `curve`, `events`, or weights as `curve=1,events=3` (a name alone weighs 1).
    pub fn parse(s: &str) -> Result<Weights, InputError> {
        let bad = |m: String| InputError::new(m).field("--distance");
        let mut w = Weights {
            curve: 0.0,
            events: 0.0,
            neighbours: 0.0,
        };
        for part in s.split(',').map(str::trim) {
            let (name, weight) = part.split_once('=').unwrap_or((part, "1"));
            let weight: f64 = weight
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(format!("`{part}`: a weight is a number, 0 or more")))?;
            match name.trim() {
                "curve" => w.curve = weight,
                "events" => w.events = weight,
                "neighbours" => w.neighbours = weight,
                other => {
                    return Err(bad(format!(
                        "`{other}`: the distances are `curve`, `events`, `neighbours`, or weights such as `curve=1,events=1`"
                    )))
                }
            }
        }
        if w.total() <= 0.0 {
            return Err(bad(format!("`{s}`: give some weight to the curve, the events or the neighbours")));
        }
        Ok(w)
    }

    fn total(&self) -> f64 {
        self.curve + self.events + self.neighbours
    }

    /// Whether it needs the units' adoptions (unit,date data and the runs' adoption months).
    pub fn of_units(&self) -> bool {
        self.events > 0.0 || self.neighbours > 0.0
    }

    pub fn describe(&self) -> String {
        if *self == Weights::default() {
            return "curve (RMSE of the share)".into();
        }
        let parts: Vec<String> = [
            (self.curve, "curve", "the curve's MSE"),
            (self.events, "events", "the events' Brier score"),
            (self.neighbours, "neighbours", "the neighbours' share's squared error"),
        ]
        .iter()
        .filter(|p| p.0 > 0.0)
        .map(|p| format!("{} {} ({})", p.1, p.0, p.2))
        .collect();
        format!("root of the weighted mean of {}", parts.join(", "))
    }
}

/// A distance, ready for the runs of each proposal.
pub struct Distance {
    pub weights: Weights,
    /// The month index (0-based) of each fitted observed year, and its observed share.
    years: Vec<(usize, f64)>,
    events: Option<EventTarget>,
}

impl Distance {
    /// For `obs` (of `m`'s population), runs of `months` from `start_year`, fitted on the years
    /// up to `until` (all without). Events weighed need event data.
    pub fn new(
        weights: Weights,
        obs: &Observed,
        m: &Model,
        (start_year, months): (i32, u32),
        until: Option<i32>,
    ) -> Result<Distance, InputError> {
        let fitted = |y: i32| until.is_none_or(|u| y <= u);
        let month_of = |y: i32| (((y - start_year + 1) * 12) as u32).min(months).max(1) as usize - 1;
        let years = obs
            .years
            .iter()
            .zip(&obs.share)
            .filter(|(&y, _)| fitted(y))
            .map(|(&y, &s)| (month_of(y), s))
            .collect();
        let events = match (&obs.events, weights.of_units()) {
            (_, false) => None,
            (Some(ev), true) => {
                let (first, last) = (obs.years[0], obs.years[obs.years.len() - 1]);
                Some(EventTarget::new(m, ev, first, until.unwrap_or(last).min(last), start_year))
            }
            (None, true) => {
                return Err(InputError::new(format!(
                    "the events' and the neighbours' distances need unit,date events; {} is a curve",
                    obs.path.display()
                ))
                .field("--distance"))
            }
        };
        Ok(Distance { weights, years, events })
    }

    /// Whether `of` needs the units' adoption months.
    pub fn needs_units(&self) -> bool {
        self.events.is_some()
    }

    /// The distance of runs: `share[r][t - 1]` the share adopted by the end of month t in run r,
    /// `adopt_month[r][i]` run r's adoption month of unit i (used only if `needs_units`). The
    /// curve's part is of the runs' mean curve.
    pub fn of(&self, share: &[Vec<f64>], adopt_month: &[&[u32]]) -> f64 {
        let w = self.weights;
        let mse = if w.curve > 0.0 {
            let n = share.len().max(1) as f64;
            self.years
                .iter()
                .map(|&(m, o)| (o - share.iter().map(|r| r[m]).sum::<f64>() / n).powi(2))
                .sum::<f64>()
                / self.years.len().max(1) as f64
        } else {
            0.0
        };
        let (brier, near) = match &self.events {
            Some(e) => (
                if w.events > 0.0 { e.brier(adopt_month) } else { 0.0 },
                if w.neighbours > 0.0 {
                    (e.neighbours(adopt_month) - e.observed_neighbours).powi(2)
                } else {
                    0.0
                },
            ),
            None => (0.0, 0.0),
        };
        ((w.curve * mse + w.events * brier + w.neighbours * near) / w.total())
            .max(0.0)
            .sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_read_and_refused() {
        assert_eq!(Weights::parse("curve"), Ok(Weights::default()));
        let w = |curve, events, neighbours| Weights { curve, events, neighbours };
        assert_eq!(Weights::parse("events"), Ok(w(0.0, 1.0, 0.0)));
        assert_eq!(Weights::parse(" curve=1 , events=2.5"), Ok(w(1.0, 2.5, 0.0)));
        assert_eq!(Weights::parse("curve,neighbours=4"), Ok(w(1.0, 0.0, 4.0)));
        for bad in ["", "order", "curve=-1", "curve=x", "curve=0", "events=NaN"] {
            let e = Weights::parse(bad).expect_err(bad);
            assert_eq!(e.field.as_deref(), Some("--distance"), "{e}");
        }
    }
}
