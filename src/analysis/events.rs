//! Event-level yardsticks (issue 24, item 5): how well pioneer's runs and a Berry–Berry
//! event-history logit say which units had adopted by each year: Brier score and AUC.

use super::logit;
use super::observed::Event;
use crate::model::Model;

/// One predictor's scores over the cells (unit of the population, observed year) of
/// "adopted by the end of the year".
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub name: String,
    /// Mean of (p − y)² over the cells; 0 is perfect, 0.25 a coin.
    pub brier: f64,
    /// The chance that a cell adopted by then scores above one not (ties count half).
    pub auc: f64,
    /// With `--fit-until`: the Brier score and AUC of the years held back (`brier` and `auc`
    /// are then of the fitted years).
    pub forecast: Option<(f64, f64)>,
}

/// The cells' outcomes: for each unit of the population (in unit order) and each year from
/// `first` to `last`, whether its adoption is at or before that year.
pub fn outcomes(m: &Model, events: &[Event], first: i32, last: i32) -> Vec<bool> {
    let year = adoption_years(m, events);
    cells(m, first, last).map(|(i, y)| year[i].is_some_and(|a| a <= y)).collect()
}

fn adoption_years(m: &Model, events: &[Event]) -> Vec<Option<i32>> {
    let mut year = vec![None; m.world.len()];
    for e in events {
        year[e.unit] = Some(e.year);
    }
    year
}

/// The (unit, year) cells in order: units of the population, then years.
fn cells(m: &Model, first: i32, last: i32) -> impl Iterator<Item = (usize, i32)> + '_ {
    (0..m.world.len())
        .filter(|&i| m.member[i])
        .flat_map(move |i| (first..=last).map(move |y| (i, y)))
}

/// Brier score and AUC of the predictions `p` of the outcomes `y` (the same cells).
pub fn score(name: &str, p: &[f64], y: &[bool]) -> Scores {
    let n = p.len().max(1) as f64;
    let brier = p.iter().zip(y).map(|(&p, &y)| (p - y as u8 as f64).powi(2)).sum::<f64>() / n;
    // Mann–Whitney: the positives' mean rank among all cells, ties given their mean rank.
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut rank = vec![0.0; p.len()];
    let mut at = 0;
    while at < order.len() {
        let mut end = at + 1;
        while end < order.len() && p[order[end]] == p[order[at]] {
            end += 1;
        }
        let mean = (at + end + 1) as f64 / 2.0;
        for &k in &order[at..end] {
            rank[k] = mean;
        }
        at = end;
    }
    let pos = y.iter().filter(|&&v| v).count() as f64;
    let neg = y.len() as f64 - pos;
    let sum: f64 = rank.iter().zip(y).filter(|(_, &v)| v).map(|(r, _)| r).sum();
    let auc = if pos == 0.0 || neg == 0.0 {
        f64::NAN
    } else {
        (sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
    };
    Scores {
        name: name.to_string(),
        brier,
        auc,
        forecast: None,
    }
}

/// `score` of the cells up to `until` (all without), and of the cells after as the forecast;
/// `years[c]` is cell c's year.
fn score_split(name: &str, p: &[f64], y: &[bool], years: &[i32], until: Option<i32>) -> Scores {
    let Some(u) = until else {
        return score(name, p, y);
    };
    let part = |fit: bool| -> (Vec<f64>, Vec<bool>) { (0..p.len()).filter(|&c| (years[c] <= u) == fit).map(|c| (p[c], y[c])).unzip() };
    let ((pf, yf), (ph, yh)) = (part(true), part(false));
    let held = score(name, &ph, &yh);
    Scores {
        forecast: Some((held.brier, held.auc)),
        ..score(name, &pf, &yf)
    }
}

/// pioneer's prediction of each cell: the share of the runs in which the unit had adopted by the
/// end of the year. `adopt_month[r][i]` is run r's adoption month of unit i (`NEVER` if none);
/// month 1 is January of `start_year`.
pub fn pioneer_predictions(m: &Model, adopt_month: &[&[u32]], start_year: i32, first: i32, last: i32) -> Vec<f64> {
    EventTarget::new(m, &[], first, last, start_year).predictions(adopt_month)
}

/// The Berry–Berry discrete-time event-history logit, fitted to the observed events up to
/// `until` (all without): a row per unit of the population and year it was at risk (not adopted
/// before the year), the outcome whether it adopted that year, on the share of its neighbours in
/// the population that had adopted by the year before, the years at risk so far, and the unit's
/// level where levels differ. It predicts "adopted by year Y" as 1 − Π (1 − h) of its hazards h
/// up to Y: in the fitted years each from the observed neighbours of the year before (a
/// one-year-ahead, in-sample prediction); after `until`, a forecast that sees nothing beyond it,
/// each neighbour counted by its own forecast chance of having adopted (a mean field).
pub struct EventHistory {
    pub fit: Result<logit::Fit, logit::FitError>,
    /// The covariates' names, after the intercept.
    pub columns: Vec<&'static str>,
    pub predictions: Vec<f64>,
}

pub fn event_history(m: &Model, events: &[Event], first: i32, last: i32, until: Option<i32>) -> EventHistory {
    let year = adoption_years(m, events);
    let end = until.unwrap_or(last).min(last);
    let inside: Vec<usize> = (0..m.world.len()).filter(|&i| m.member[i]).collect();
    let level_varies = inside.windows(2).any(|w| m.world.level[w[0]] != m.world.level[w[1]]);
    let mut columns = vec!["neighbours adopted", "years at risk"];
    if level_varies {
        columns.push("level");
    }
    let nbs: Vec<Vec<usize>> = (0..m.world.len())
        .map(|i| m.world.neighbours(i).iter().map(|&j| j as usize).filter(|&j| m.member[j]).collect())
        .collect();
    // The covariates of unit i in year y, `had[j]` the chance neighbour j had adopted before y.
    let row = |i: usize, y: i32, had: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let nb = &nbs[i];
        let share = if nb.is_empty() {
            0.0
        } else {
            nb.iter().map(|&j| had(j)).sum::<f64>() / nb.len() as f64
        };
        let mut r = vec![1.0, share, (y - first + 1) as f64];
        if level_varies {
            r.push(m.world.level[i] as f64);
        }
        r
    };
    let adopted = &year;
    let seen = |y: i32| move |j: usize| adopted[j].is_some_and(|a| a < y) as u8 as f64;
    let (mut x, mut out) = (Vec::new(), Vec::new());
    for &i in &inside {
        for y in first..=end {
            if year[i].is_some_and(|a| a < y) {
                break;
            }
            x.push(row(i, y, &seen(y)));
            out.push((year[i] == Some(y)) as u8 as f64);
        }
    }
    let fit = logit::fit(&x, &out);
    let predictions = match &fit {
        Ok(f) => {
            let hazard = |r: &[f64]| 1.0 / (1.0 + (-r.iter().zip(&f.beta).map(|(a, b)| a * b).sum::<f64>()).exp());
            // by[y - first][i]: the chance unit i had adopted by the end of year y. After
            // `until`, a unit seen adopted by then stays adopted, and one not yet is forecast
            // afresh (its chance of staying out starts again at 1).
            let n = m.world.len();
            let mut by: Vec<Vec<f64>> = Vec::with_capacity((last - first + 1).max(0) as usize);
            let mut never = vec![1.0; n];
            for y in first..=last {
                if y == end + 1 {
                    never.iter_mut().for_each(|v| *v = 1.0);
                }
                let before = by.last().cloned();
                let had = |j: usize| match &before {
                    Some(b) if y > end + 1 => b[j],
                    _ => seen(y)(j),
                };
                let mut now = vec![0.0; n];
                for &i in &inside {
                    never[i] *= 1.0 - hazard(&row(i, y, &had));
                    now[i] = if y > end && year[i].is_some_and(|a| a <= end) {
                        1.0
                    } else {
                        1.0 - never[i]
                    };
                }
                by.push(now);
            }
            cells(m, first, last).map(|(i, y)| by[(y - first) as usize][i]).collect()
        }
        Err(_) => Vec::new(),
    };
    EventHistory { fit, columns, predictions }
}

/// pioneer's runs and the event-history logit scored on the same cells of `events` (years
/// `first` to `last`; with `until`, fitted to the years up to it and scored apart on those
/// after), and a line saying the logit's coefficients (or why it has none).
pub fn yardsticks(
    m: &Model,
    events: &[Event],
    (first, last, until): (i32, i32, Option<i32>),
    adopt_month: &[&[u32]],
    start_year: i32,
) -> (Vec<Scores>, String) {
    let y = outcomes(m, events, first, last);
    let years: Vec<i32> = cells(m, first, last).map(|(_, y)| y).collect();
    let pioneer = pioneer_predictions(m, adopt_month, start_year, first, last);
    let mut scores = vec![score_split("pioneer", &pioneer, &y, &years, until)];
    let eh = event_history(m, events, first, last, until);
    let note = match &eh.fit {
        Ok(f) => {
            scores.push(score_split("event-history logit", &eh.predictions, &y, &years, until));
            let terms: Vec<String> = eh
                .columns
                .iter()
                .zip(&f.beta[1..])
                .zip(&f.se[1..])
                .map(|((c, b), s)| format!("{c} {b:.3} ± {s:.3}"))
                .collect();
            format!("intercept {:.3}; {}", f.beta[0], terms.join("; "))
        }
        Err(e) => format!("no fit: {e}"),
    };
    (scores, note)
}

/// The share of the adopters, after the first year's, that had a neighbour in the population
/// adopt in an earlier year (`year(i)`: unit i's adoption year, None if none): how much the
/// adoptions cluster in space, whatever the units; 0 with fewer than two adoption years.
pub fn neighbour_share(nbs: &[Vec<usize>], member: &[bool], year: &dyn Fn(usize) -> Option<i32>) -> f64 {
    let years: Vec<Option<i32>> = (0..nbs.len()).map(|i| if member[i] { year(i) } else { None }).collect();
    let Some(first) = years.iter().flatten().min().copied() else {
        return 0.0;
    };
    let (mut near, mut later) = (0usize, 0usize);
    for (i, y) in years.iter().enumerate() {
        let Some(y) = *y else { continue };
        if y == first {
            continue;
        }
        later += 1;
        near += nbs[i].iter().any(|&j| years[j].is_some_and(|b| b < y)) as usize;
    }
    if later == 0 {
        0.0
    } else {
        near as f64 / later as f64
    }
}

/// The observed cells a calibration's event distance compares: each unit of the population and
/// year from `first` to `last`, with the month that ends the year and whether the unit had
/// adopted by then.
pub struct EventTarget {
    unit: Vec<usize>,
    by: Vec<u32>,
    adopted: Vec<bool>,
    /// The population's neighbours of each unit; the years' bounds in months (month 1 =
    /// January of the start year): adoptions after `last_month` do not count.
    nbs: Vec<Vec<usize>>,
    member: Vec<bool>,
    start_year: i32,
    last_month: u32,
    /// `neighbour_share` of the observed events.
    pub observed_neighbours: f64,
}

impl EventTarget {
    pub fn new(m: &Model, events: &[Event], first: i32, last: i32, start_year: i32) -> EventTarget {
        let (unit, by) = cells(m, first, last)
            .map(|(i, y)| (i, ((y - start_year + 1) * 12).max(0) as u32))
            .unzip();
        let nbs: Vec<Vec<usize>> = (0..m.world.len())
            .map(|i| m.world.neighbours(i).iter().map(|&j| j as usize).filter(|&j| m.member[j]).collect())
            .collect();
        let year = adoption_years(m, events);
        let observed_neighbours = neighbour_share(&nbs, &m.member, &|i| year[i].filter(|&y| y <= last));
        EventTarget {
            unit,
            by,
            adopted: outcomes(m, events, first, last),
            nbs,
            member: m.member.clone(),
            start_year,
            last_month: ((last - start_year + 1) * 12).max(0) as u32,
            observed_neighbours,
        }
    }

    /// The runs' mean `neighbour_share`, their adoption months counted by calendar year as the
    /// observed are.
    pub fn neighbours(&self, adopt_month: &[&[u32]]) -> f64 {
        let sum: f64 = adopt_month
            .iter()
            .map(|a| {
                neighbour_share(&self.nbs, &self.member, &|i| {
                    (a[i] >= 1 && a[i] <= self.last_month).then(|| self.start_year + (a[i] as i32 - 1) / 12)
                })
            })
            .sum();
        sum / adopt_month.len().max(1) as f64
    }

    /// The runs' share adopted by each cell's year (`adopt_month[r][i]`, run r's adoption
    /// month of unit i).
    pub fn predictions(&self, adopt_month: &[&[u32]]) -> Vec<f64> {
        let runs = adopt_month.len().max(1) as f64;
        (0..self.unit.len())
            .map(|c| adopt_month.iter().filter(|a| a[self.unit[c]] <= self.by[c]).count() as f64 / runs)
            .collect()
    }

    /// The Brier score of the runs' predictions against the observed, less the part the runs'
    /// own sampling adds: with R runs the share p̂ of a cell scatters about its chance p with
    /// variance p(1 − p)/R, which (p̂ − y)² counts as error and would favour parameters whose
    /// units all adopt or none; p̂(1 − p̂)/(R − 1) is an unbiased estimate of it (Brier's
    /// decomposition), taken off for R ≥ 2, so the expected score is that of the chances.
    pub fn brier(&self, adopt_month: &[&[u32]]) -> f64 {
        let p = self.predictions(adopt_month);
        let r = adopt_month.len();
        let spread = if r >= 2 { 1.0 / (r - 1) as f64 } else { 0.0 };
        let sq: f64 = p
            .iter()
            .zip(&self.adopted)
            .map(|(&p, &y)| (p - y as u8 as f64).powi(2) - spread * p * (1.0 - p))
            .sum();
        sq / p.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a path 0–1–2–3, adoptions in 2000 (0), 2001 (1) and 2001 (3): unit 1 had a neighbour
    /// adopt before it, unit 3 did not (2 never adopted); the first year's adopters don't count.
    #[test]
    fn the_neighbours_share_counts_earlier_neighbours() {
        let nbs = vec![vec![1], vec![0, 2], vec![1, 3], vec![2]];
        let year = [Some(2000), Some(2001), None, Some(2001)];
        assert_eq!(neighbour_share(&nbs, &[true; 4], &|i| year[i]), 0.5);
        assert_eq!(neighbour_share(&nbs, &[true, false, true, true], &|i| year[i]), 0.0);
        assert_eq!(neighbour_share(&nbs, &[true; 4], &|_| None), 0.0);
    }

    /// AUC counts ordered pairs: perfect, reversed, ties, and a known mixed case.
    #[test]
    fn brier_and_auc_of_known_cases() {
        let y = [false, false, true, true];
        assert_eq!(score("a", &[0.1, 0.2, 0.8, 0.9], &y).auc, 1.0);
        assert_eq!(score("a", &[0.9, 0.8, 0.2, 0.1], &y).auc, 0.0);
        assert_eq!(score("a", &[0.5; 4], &y).auc, 0.5);
        // Pairs (neg, pos): (0.1, 0.3) (0.1, 0.9) (0.4, 0.3)✗ (0.4, 0.9): 3 of 4.
        let s = score("a", &[0.1, 0.4, 0.3, 0.9], &y);
        assert_eq!(s.auc, 0.75);
        assert!((s.brier - (0.01 + 0.16 + 0.49 + 0.01) / 4.0).abs() < 1e-12);
    }

    /// On events a known logit made (on a ring where each unit sees two neighbours), the fit
    /// gives back the neighbours' coefficient near its value, and its predictions beat a
    /// constant guess.
    #[test]
    fn the_event_history_logit_recovers_contagion() {
        let n = 400usize;
        let mut units = String::from("id,name,level,parent,x,y\n");
        let mut edges = String::from("a,b\n");
        for i in 0..n {
            units.push_str(&format!("{i},u{i},0,,{i},0\n"));
            edges.push_str(&format!("{},{}\n", i, (i + 1) % n));
        }
        let dir = std::env::temp_dir().join(format!("pioneer-eha-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("u.csv"), units).expect("write");
        std::fs::write(dir.join("e.csv"), edges).expect("write");
        let draws = crate::world::Draws {
            capacity: (0, 65535),
            firms: (0, 65535),
            seed: 1,
        };
        let m = Model::new(crate::world::from_files(&dir.join("u.csv"), Some(&dir.join("e.csv")), &draws).expect("world"));
        // Hazard logit(−3.5 + 3·share), share of the two neighbours adopted the year before;
        // a fixed uniform sequence (a multiplicative generator) decides each unit-year.
        let beta = [-3.5, 3.0];
        let mut year: Vec<Option<i32>> = vec![None; n];
        let mut u = 12345u64;
        for y in 2000..2030 {
            let before = year.clone();
            for i in 0..n {
                if before[i].is_some() {
                    continue;
                }
                let nb = [(i + n - 1) % n, (i + 1) % n];
                let share = nb.iter().filter(|&&j| before[j].is_some()).count() as f64 / 2.0;
                let h = 1.0 / (1.0 + (-(beta[0] + beta[1] * share)).exp());
                u = u.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if ((u >> 11) as f64 / (1u64 << 53) as f64) < h {
                    year[i] = Some(y);
                }
            }
        }
        let events: Vec<Event> = (0..n)
            .filter_map(|i| {
                year[i].map(|y| Event {
                    unit: i,
                    year: y,
                    month: 12,
                    line: i + 2,
                })
            })
            .collect();
        let eh = event_history(&m, &events, 2000, 2029, None);
        let held = event_history(&m, &events, 2000, 2029, Some(2014));
        let fit = eh.fit.as_ref().expect("fits");
        assert!((fit.beta[1] - beta[1]).abs() < 3.0 * fit.se[1], "{:?} ± {:?}", fit.beta, fit.se);
        let y = outcomes(&m, &events, 2000, 2029);
        let share = y.iter().filter(|&&v| v).count() as f64 / y.len() as f64;
        let logit = score("logit", &eh.predictions, &y);
        let flat = score("flat", &vec![share; y.len()], &y);
        assert!(logit.brier < flat.brier && logit.auc > 0.8, "{logit:?} {flat:?}");
        // Fitted to 2014, the logit forecasts 2015–2029 from nothing later, better than a flat
        // guess of the share.
        let fit = held.fit.as_ref().expect("fits the early years");
        assert!((fit.beta[1] - beta[1]).abs() < 3.0 * fit.se[1], "{:?} ± {:?}", fit.beta, fit.se);
        let years: Vec<i32> = cells(&m, 2000, 2029).map(|(_, y)| y).collect();
        let split = score_split("logit", &held.predictions, &y, &years, Some(2014));
        let (brier, auc) = split.forecast.expect("held back");
        let late: Vec<bool> = (0..y.len()).filter(|&c| years[c] > 2014).map(|c| y[c]).collect();
        let flat = score("flat", &vec![share; late.len()], &late);
        assert!(brier < flat.brier && auc > 0.7, "forecast {split:?}, flat {flat:?}");

        let _ = std::fs::remove_dir_all(&dir);
    }
}
