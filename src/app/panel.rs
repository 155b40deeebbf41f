//! `pioneer panel DIR [--fit]`: the event-history panel of a run (`pioneer run --panel`) in
//! numbers, and with `--fit` its discrete-time logit of adoption on the lagged covariates.

use crate::analysis::logit::{self, Fit};
use crate::error::{InputError, Result};
use crate::output::panel::COVARIATES;
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

/// Read `DIR/panel.csv` for innovation `innovation` (and a sweep's `point`, else all points) and,
/// with `fit`, fit the logit on `covariates` (empty: `OBSERVABLE`).
pub fn panel(dir: &Path, innovation: u32, fit: bool, covariates: &[String], point: Option<usize>) -> Result<PanelReport> {
    let chosen: Vec<&str> = if covariates.is_empty() {
        OBSERVABLE.to_vec()
    } else {
        covariates.iter().map(String::as_str).collect()
    };
    for c in &chosen {
        if !COVARIATES.contains(c) {
            return Err(InputError::new(format!(
                "`{c}` is not a covariate of the panel (they are: {})",
                COVARIATES.join(", ")
            ))
            .field("--covariates")
            .into());
        }
    }
    let path = dir.join("panel.csv");
    let mut rdr = csv::Reader::from_path(&path).map_err(|e| {
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
    let (c_innov, c_adopt) = (col("innovation")?, col("adopt")?);
    let c_point = headers.iter().position(|h| h == "point");
    if point.is_some() && c_point.is_none() {
        return Err(InputError::new("a run's panel has no points: --point is for a sweep's")
            .field("--point")
            .into());
    }
    let want_point = point.map(|p| p.to_string());
    let mut points_seen = std::collections::BTreeSet::new();
    let cols: Vec<usize> = chosen.iter().map(|c| col(c)).collect::<std::result::Result<_, _>>()?;
    let mut x: Vec<Vec<f64>> = Vec::new();
    let mut y: Vec<f64> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(e.position().map_or(0, |p| p.line()), "run", e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.get(c_innov) != Some(innovation.to_string().as_str()) {
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
        let num = |c: usize, name: &str| -> std::result::Result<f64, InputError> {
            let v = rec.get(c).unwrap_or("");
            v.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(line, name, format!("`{v}` is not a number")))
        };
        y.push(num(c_adopt, "adopt")?);
        let mut row = Vec::with_capacity(cols.len() + 1);
        row.push(1.0);
        for (c, name) in cols.iter().zip(&chosen) {
            row.push(num(*c, name)?);
        }
        x.push(row);
    }
    if x.is_empty() {
        let (what, flag) = match point {
            Some(p) => (format!("point {p} and innovation {innovation}"), "--point"),
            None => (format!("innovation {innovation}"), "--innovation"),
        };
        return Err(InputError::new(format!("no rows of {what} in the panel"))
            .file(&path)
            .field(flag)
            .into());
    }
    // Covariates that never vary (no mandate, no pilot) cannot be estimated: leave them out.
    let m = chosen.len();
    let varies: Vec<bool> = (1..=m).map(|j| x.iter().any(|r| r[j] != x[0][j])).collect();
    let keep: Vec<usize> = std::iter::once(0).chain((1..=m).filter(|&j| varies[j - 1])).collect();
    let x: Vec<Vec<f64>> = x.into_iter().map(|r| keep.iter().map(|&j| r[j]).collect()).collect();
    let fitted: Vec<String> = keep[1..].iter().map(|&j| chosen[j - 1].to_string()).collect();
    let constant: Vec<String> = (1..=m).filter(|&j| !varies[j - 1]).map(|j| chosen[j - 1].to_string()).collect();
    let adoptions = y.iter().filter(|&&v| v == 1.0).count();
    let fit = if fit {
        Some(logit::fit(&x, &y).map_err(|e| InputError::new(format!("the logit cannot be fitted: {e}")).file(&path))?)
    } else {
        None
    };
    Ok(PanelReport {
        rows: y.len(),
        point,
        points: c_point.map(|_| points_seen.len()),
        adoptions,
        innovation,
        fitted,
        constant,
        fit,
    })
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
