//! `pioneer panel DIR [--fit]`: the event-history panel of a run (`pioneer run --panel`) in
//! numbers, and with `--fit` its discrete-time logit of adoption on the lagged covariates,
//! printed and written to `DIR/fit.csv`.

use crate::analysis::logit::{self, Fit, FitError};
use crate::error::{InputError, Result};
use crate::output::panel::COVARIATES;
use crate::output::write_atomic;
use std::fmt::Write as _;
use std::path::Path;

/// What `pioneer panel` found and fitted.
pub struct PanelReport {
    pub rows: usize,
    /// A sweep's panel: the point whose rows were read (None: all, pooled), and how many points.
    pub point: Option<usize>,
    pub points: Option<usize>,
    pub adoptions: usize,
    pub innovation: u32,
    /// The covariates fitted (after the intercept) and those left out as constant.
    pub fitted: Vec<String>,
    pub constant: Vec<String>,
    pub fit: Option<Fit>,
}

/// The covariates fitted unless `--covariates` names others: those a researcher could measure
/// in the field and that do not lie on the path from a neighbour's adoption to the unit's.
/// Legitimacy, backing, ambition, publicity and resistance are the model's latent states (backing
/// is won when the agenda forms, on the way to adoption); the gap is left out because a
/// neighbour's adoption raises its performance and with it the unit's gap (docs/analysis.md).
pub const OBSERVABLE: [&str; 9] = [
    "share_nbr_adopted",
    "parent_adopted",
    "exemplar_exists",
    "mandate_active",
    "pilot",
    "incentive",
    "capacity",
    "firms",
    "leader_tenure",
];

/// Covariates `pioneer panel` makes from the panel's columns: the square of `years_at_risk`,
/// and `period_dummies`, one 0/1 column `period_P` for each period P after the first that the
/// rows hold (the first is the reference).
pub const DERIVED: [&str; 2] = ["years_at_risk_sq", "period_dummies"];

/// The panel's columns that hold whole numbers (the label columns, the row's place, and the
/// counts and indicators among the covariates); every other known column holds a real number.
const WHOLE: [&str; 14] = [
    "run",
    "point",
    "replicate",
    "unit",
    "level",
    "innovation",
    "period",
    "adopt",
    "depth",
    "n_nbr_adopted",
    "parent_adopted",
    "exemplar_exists",
    "mandate_active",
    "pilot",
];

/// One covariate of the fit: a column of the panel, the square of one, or a period's dummy.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Term {
    Column(usize),
    Square(usize),
    Period(u64),
}

/// Read `DIR/panel.csv` for innovation `innovation` (and a sweep's `point`, else all points) and,
/// with `fit`, fit the logit on `covariates` (empty: `OBSERVABLE`) and write `DIR/fit.csv`.
/// Every row is checked: it has the header's fields, its whole-number columns hold whole
/// numbers, `adopt` is 0 or 1, and its other numbers are finite; a bad cell is refused naming the
/// file, the line and the column.
pub fn panel(dir: &Path, innovation: u32, fit: bool, covariates: &[String], point: Option<usize>) -> Result<PanelReport> {
    let chosen: Vec<&str> = if covariates.is_empty() {
        OBSERVABLE.to_vec()
    } else {
        covariates.iter().map(String::as_str).collect()
    };
    for (i, c) in chosen.iter().enumerate() {
        if !COVARIATES.contains(c) && !DERIVED.contains(c) {
            return Err(InputError::new(format!(
                "`{c}` is not a covariate of the panel (they are: {}; and made from them: {})",
                COVARIATES.join(", "),
                DERIVED.join(", ")
            ))
            .field("--covariates")
            .into());
        }
        if chosen[..i].contains(c) {
            return Err(InputError::new(format!("`{c}` is named twice")).field("--covariates").into());
        }
    }
    let path = dir.join("panel.csv");
    // The panel is read only as its command wrote it (its manifest's record of the table).
    if path.is_file() && dir.join("manifest.json").is_file() {
        crate::output::table::verify(dir, "panel.csv")?;
    }
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(&path).map_err(|e| {
        InputError::new(format!(
            "no panel here ({e}); write one with `pioneer run SCENARIO --panel --out DIR`"
        ))
        .field("DIR")
    })?;
    let bad = |line: u64, field: &str, m: String| InputError::new(m).file(&path).line(line as usize).field(field);
    let headers = rdr.headers().map_err(|e| bad(1, "run", e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(1, name, format!("missing column `{name}`: not a panel of this version")))
    };
    let (c_innov, c_adopt, c_period) = (col("innovation")?, col("adopt")?, col("period")?);
    let c_point = headers.iter().position(|h| h == "point");
    if point.is_some() && c_point.is_none() {
        return Err(InputError::new("a run's panel has no points: --point is for a sweep's")
            .field("--point")
            .into());
    }
    // What each known column must hold: whole numbers, numbers, or (names, routes) anything.
    let checks: Vec<(usize, bool)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            if WHOLE.contains(&h) {
                Some((i, true))
            } else if COVARIATES.contains(&h) {
                Some((i, false))
            } else {
                None
            }
        })
        .collect();
    let mut terms: Vec<(String, Term)> = Vec::new();
    let dummies = chosen.contains(&"period_dummies");
    for c in &chosen {
        match *c {
            "period_dummies" => {}
            "years_at_risk_sq" => terms.push((c.to_string(), Term::Square(col("years_at_risk")?))),
            _ => terms.push((c.to_string(), Term::Column(col(c)?))),
        }
    }
    let want_point = point.map(|p| p.to_string());
    let want_innov = innovation.to_string();
    let mut points_seen = std::collections::BTreeSet::new();
    // The rows kept: their values of the column terms, their period, and adopt.
    let mut values: Vec<Vec<f64>> = Vec::new();
    let mut periods: Vec<u64> = Vec::new();
    let mut y: Vec<f64> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            bad(line, "panel.csv", e.to_string())
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != headers.len() {
            let (at, what) = if rec.len() < headers.len() {
                (headers.get(rec.len()).unwrap_or("?").to_string(), "missing")
            } else {
                (format!("column {}", headers.len() + 1), "one too many")
            };
            return Err(bad(
                line,
                &at,
                format!("{what}: the row has {} fields, the header {}", rec.len(), headers.len()),
            )
            .into());
        }
        let adopt = rec.get(c_adopt).unwrap_or("");
        if adopt != "0" && adopt != "1" {
            return Err(bad(line, "adopt", format!("`{adopt}`: adopt is 0 or 1")).into());
        }
        for &(c, whole) in &checks {
            let v = rec.get(c).unwrap_or("");
            let ok = if whole {
                v.parse::<u64>().is_ok()
            } else {
                v.parse::<f64>().is_ok_and(f64::is_finite)
            };
            if !ok {
                let what = if whole { "a whole number" } else { "a finite number" };
                return Err(bad(line, &headers[c], format!("`{v}` is not {what}")).into());
            }
        }
        if rec.get(c_innov) != Some(want_innov.as_str()) {
            continue;
        }
        if let Some(c) = c_point {
            let p = rec.get(c).unwrap_or("");
            if want_point.as_deref().is_some_and(|w| w != p) {
                continue;
            }
            if !points_seen.contains(p) {
                points_seen.insert(p.to_string());
            }
        }
        // Checked above: these parse.
        let num = |c: usize| rec.get(c).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        y.push(num(c_adopt));
        periods.push(rec.get(c_period).and_then(|v| v.parse().ok()).unwrap_or(0));
        values.push(
            terms
                .iter()
                .map(|(_, t)| match *t {
                    Term::Column(c) => num(c),
                    Term::Square(c) => num(c) * num(c),
                    Term::Period(_) => 0.0,
                })
                .collect(),
        );
    }
    if y.is_empty() {
        let (what, flag) = match point {
            Some(p) => (format!("point {p} and innovation {innovation}"), "--point"),
            None => (format!("innovation {innovation}"), "--innovation"),
        };
        return Err(InputError::new(format!("no rows of {what} in the panel"))
            .file(&path)
            .field(flag)
            .into());
    }
    // The design: the intercept, the terms in the order named, then the period dummies.
    let mut x: Vec<Vec<f64>> = values.into_iter().map(|v| std::iter::once(1.0).chain(v).collect()).collect();
    if dummies {
        let mut held: Vec<u64> = periods.clone();
        held.sort_unstable();
        held.dedup();
        for &p in held.iter().skip(1) {
            terms.push((format!("period_{p}"), Term::Period(p)));
            for (row, &rp) in x.iter_mut().zip(&periods) {
                row.push(f64::from(u8::from(rp == p)));
            }
        }
    }
    // Covariates that never vary (no mandate, no pilot) cannot be estimated: leave them out.
    let m = terms.len();
    let varies: Vec<bool> = (1..=m).map(|j| x.iter().any(|r| r[j] != x[0][j])).collect();
    let keep: Vec<usize> = std::iter::once(0).chain((1..=m).filter(|&j| varies[j - 1])).collect();
    let x: Vec<Vec<f64>> = x.into_iter().map(|r| keep.iter().map(|&j| r[j]).collect()).collect();
    let fitted: Vec<String> = keep[1..].iter().map(|&j| terms[j - 1].0.clone()).collect();
    let constant: Vec<String> = (1..=m).filter(|&j| !varies[j - 1]).map(|j| terms[j - 1].0.clone()).collect();
    let adoptions = y.iter().filter(|&&v| v == 1.0).count();
    let mut report = PanelReport {
        rows: y.len(),
        point,
        points: c_point.map(|_| points_seen.len()),
        adoptions,
        innovation,
        fitted,
        constant,
        fit: None,
    };
    if fit {
        let f = logit::fit(&x, &y).map_err(|e| {
            let name = |j: usize| {
                if j == 0 {
                    "(intercept)".to_string()
                } else {
                    report.fitted.get(j - 1).cloned().unwrap_or_else(|| format!("column {j}"))
                }
            };
            let m = match e {
                FitError::Singular(j) => format!(
                    "`{}` is a combination of the covariates before it (collinear); leave one of them out",
                    name(j)
                ),
                FitError::Separation { iterations, columns, rows } => {
                    let names: Vec<String> = columns.iter().map(|&j| name(j)).collect();
                    let hint = if names.iter().any(|n| n.starts_with("period_")) {
                        "a period without adoptions (the first, the dummies' reference, or another) has no finite hazard: model the time with years_at_risk (and years_at_risk_sq) instead of period_dummies".to_string()
                    } else if let [one] = names.as_slice() {
                        format!("leave `{one}` out, or pool it with another category")
                    } else {
                        "leave one of them out, or pool it with another category".to_string()
                    };
                    let quoted = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
                    let growing = match names.len() {
                        0 => "some coefficients grow".to_string(),
                        1 => format!("the coefficient of {quoted} grows"),
                        _ => format!("the coefficients of {quoted} grow"),
                    };
                    format!(
                        "separation: the covariates predict the outcome of {rows} rows perfectly (fitted probabilities 0 or 1) and {growing} without bound while the log-likelihood stops improving ({iterations} iterations); no finite estimate exists: {hint}"
                    )
                }
                other => other.to_string(),
            };
            InputError::new(format!("the logit cannot be fitted: {m}")).file(&path)
        })?;
        report.fit = Some(f);
        write_atomic(&dir.join("fit.csv"), fit_csv(&report).as_bytes())?;
    }
    Ok(report)
}

/// The header of fit.csv.
pub const FIT_HEADER: &str = "term,coef,se,z,p,log_likelihood,iterations,rows,adoptions,innovation,point\n";

/// fit.csv: one row per coefficient (the intercept first), every number in its shortest exact
/// form (see `exact`); the fit's log-likelihood, iterations, rows and adoptions, the innovation and the point
/// (empty: a run's panel, or every point's rows pooled) repeated on each row. Empty without a fit.
pub fn fit_csv(r: &PanelReport) -> String {
    let mut s = String::from(FIT_HEADER);
    let Some(f) = &r.fit else { return s };
    let point = r.point.map(|p| p.to_string()).unwrap_or_default();
    let names = std::iter::once("(intercept)".to_string()).chain(r.fitted.iter().cloned());
    for (j, name) in names.enumerate() {
        let _ = writeln!(
            s,
            "{name},{},{},{},{},{},{},{},{},{},{point}",
            exact(f.beta[j]),
            exact(f.se[j]),
            exact(f.z[j]),
            exact(f.p[j]),
            exact(f.log_likelihood),
            f.iterations,
            r.rows,
            r.adoptions,
            r.innovation
        );
    }
    s
}

/// A number in its shortest form that reads back to the same f64: Rust's `{}`, or `{:e}` (the
/// same digits) below 1e-5 or from 1e16 on, where `{}` would write dozens of zeros.
fn exact(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-5 || v.abs() >= 1e16) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// The report as the table a political scientist expects.
pub fn describe(r: &PanelReport) -> String {
    let mut s = String::new();
    let whose = match (r.point, r.points) {
        (Some(p), _) => format!("point {p}, "),
        (None, Some(n)) => format!("{n} points pooled, "),
        _ => String::new(),
    };
    let _ = writeln!(
        s,
        "{whose}innovation {}: {} unit-periods at risk, {} adoptions",
        r.innovation, r.rows, r.adoptions
    );
    if let Some(f) = &r.fit {
        let _ = writeln!(s, "discrete-time logit of adoption on covariates lagged one period (IRLS):");
        let _ = writeln!(s, "{:<20} {:>10} {:>9} {:>9} {:>9}", "", "coef", "se", "z", "p");
        let names = std::iter::once("(intercept)".to_string()).chain(r.fitted.iter().cloned());
        for (j, name) in names.enumerate() {
            let p = if f.p[j] < 0.001 {
                "<0.001".to_string()
            } else {
                format!("{:.3}", f.p[j])
            };
            let stars = match f.p[j] {
                p if p < 0.001 => "***",
                p if p < 0.01 => "**",
                p if p < 0.05 => "*",
                _ => "",
            };
            let _ = writeln!(s, "{name:<20} {:>10.4} {:>9.4} {:>9.2} {p:>9} {stars}", f.beta[j], f.se[j], f.z[j]);
        }
        let _ = writeln!(s, "log-likelihood {:.1}; {} iterations", f.log_likelihood, f.iterations);
    }
    if !r.constant.is_empty() {
        let _ = writeln!(s, "left out, constant in this panel: {}", r.constant.join(", "));
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fit.csv's numbers read back to the same f64, small ones without dozens of zeros.
    #[test]
    fn fit_numbers_read_back_exactly() {
        for v in [
            0.0,
            -8.594016591263868,
            123.63278537467284,
            5.2459788083639405e-238,
            1e-5,
            9.99e-6,
            -3e-300,
            1.0 / 3.0,
            1e16,
            -2.5e300,
            f64::MAX,
        ] {
            let t = exact(v);
            assert_eq!(t.parse::<f64>(), Ok(v), "{v} as `{t}`");
            assert!(t.len() < 25, "`{t}`");
        }
    }
}
