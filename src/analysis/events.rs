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
    }
}

/// pioneer's prediction of each cell: the share of the runs in which the unit had adopted by the
/// end of the year. `adopt_month[r][i]` is run r's adoption month of unit i (`NEVER` if none);
/// month 1 is January of `start_year`.
pub fn pioneer_predictions(m: &Model, adopt_month: &[&[u32]], start_year: i32, first: i32, last: i32) -> Vec<f64> {
    let runs = adopt_month.len().max(1) as f64;
    cells(m, first, last)
        .map(|(i, y)| {
            let by = ((y - start_year + 1) * 12).max(0) as u32;
            adopt_month.iter().filter(|a| a[i] <= by).count() as f64 / runs
        })
        .collect()
}

/// The Berry–Berry discrete-time event-history logit, fitted to the observed events: a row per
/// unit of the population and year it was at risk (not adopted before the year), the outcome
/// whether it adopted that year, on the share of its neighbours in the population that had
/// adopted by the year before, the years at risk so far, and the unit's level where levels
/// differ. It predicts "adopted by year Y" as 1 − Π (1 − h) of its hazards h up to Y, each from
/// the observed neighbours of the year before (a one-year-ahead, in-sample prediction).
pub struct EventHistory {
    pub fit: Result<logit::Fit, logit::FitError>,
    /// The covariates' names, after the intercept.
    pub columns: Vec<&'static str>,
    pub predictions: Vec<f64>,
}

pub fn event_history(m: &Model, events: &[Event], first: i32, last: i32) -> EventHistory {
    let year = adoption_years(m, events);
    let inside: Vec<usize> = (0..m.world.len()).filter(|&i| m.member[i]).collect();
    let level_varies = inside.windows(2).any(|w| m.world.level[w[0]] != m.world.level[w[1]]);
    let mut columns = vec!["neighbours adopted", "years at risk"];
    if level_varies {
        columns.push("level");
    }
    let row = |i: usize, y: i32| -> Vec<f64> {
        let nb: Vec<usize> = m.world.neighbours(i).iter().map(|&j| j as usize).filter(|&j| m.member[j]).collect();
        let adopted = nb.iter().filter(|&&j| year[j].is_some_and(|a| a < y)).count();
        let share = if nb.is_empty() { 0.0 } else { adopted as f64 / nb.len() as f64 };
        let mut r = vec![1.0, share, (y - first + 1) as f64];
        if level_varies {
            r.push(m.world.level[i] as f64);
        }
        r
    };
    let (mut x, mut out) = (Vec::new(), Vec::new());
    for &i in &inside {
        for y in first..=last {
            if year[i].is_some_and(|a| a < y) {
                break;
            }
            x.push(row(i, y));
            out.push((year[i] == Some(y)) as u8 as f64);
        }
    }
    let fit = logit::fit(&x, &out);
    let predictions = match &fit {
        Ok(f) => {
            let hazard = |r: &[f64]| 1.0 / (1.0 + (-r.iter().zip(&f.beta).map(|(a, b)| a * b).sum::<f64>()).exp());
            inside
                .iter()
                .flat_map(|&i| {
                    let mut never = 1.0;
                    (first..=last)
                        .map(|y| {
                            never *= 1.0 - hazard(&row(i, y));
                            1.0 - never
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        }
        Err(_) => Vec::new(),
    };
    EventHistory { fit, columns, predictions }
}

/// pioneer's runs and the event-history logit scored on the same cells of `events` (years
/// `first` to `last`), and a line saying the logit's coefficients (or why it has none).
pub fn yardsticks(m: &Model, events: &[Event], first: i32, last: i32, adopt_month: &[&[u32]], start_year: i32) -> (Vec<Scores>, String) {
    let y = outcomes(m, events, first, last);
    let mut scores = vec![score("pioneer", &pioneer_predictions(m, adopt_month, start_year, first, last), &y)];
    let eh = event_history(m, events, first, last);
    let note = match &eh.fit {
        Ok(f) => {
            scores.push(score("event-history logit", &eh.predictions, &y));
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let eh = event_history(&m, &events, 2000, 2029);
        let fit = eh.fit.as_ref().expect("fits");
        assert!((fit.beta[1] - beta[1]).abs() < 3.0 * fit.se[1], "{:?} ± {:?}", fit.beta, fit.se);
        let y = outcomes(&m, &events, 2000, 2029);
        let share = y.iter().filter(|&&v| v).count() as f64 / y.len() as f64;
        let logit = score("logit", &eh.predictions, &y);
        let flat = score("flat", &vec![share; y.len()], &y);
        assert!(logit.brier < flat.brier && logit.auc > 0.8, "{logit:?} {flat:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
