//! The tables of a sweep: points.csv, runs.csv, stats.csv and steps.csv, as rows of one block at
//! a time; the column types that their Parquet twins use.

use super::{step_values, steps_columns, summarise, write_values};
use crate::analysis;
use crate::backend::BatchOutput;
use crate::model::params::Params;
use crate::model::Model;
use std::fmt::Write as _;

/// The per-run metrics of runs.csv, after `point,replicate,key,innovation`.
pub const RUN_METRICS: [&str; 12] = [
    "t10",
    "t50",
    "t90",
    "final_share",
    "share_invented",
    "variants",
    "gini_l",
    "mean_depth",
    "complete_share",
    "recognitions",
    "promo_first",
    "promo_last",
];

/// How a column is typed in Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number, always present: `Int64` (signed, so a difference of two never wraps;
    /// every count, index and run key of pioneer fits).
    Int,
    /// A whole number that may be absent (a month never reached): `Int64`, null when empty.
    OptInt,
    /// A real number: `Float64`, null when empty.
    F64,
    /// Text: `Utf8`, null when empty.
    Str,
}

/// The metrics of run r of `out` (parameters `prm`), one list per innovation; `None` for a
/// share never reached.
pub fn run_metrics(m: &Model, out: &BatchOutput, r: usize, prm: &Params) -> Vec<[Option<f64>; 12]> {
    let sums = summarise(m, out, r);
    let outs = analysis::outcomes(m, out, r, prm);
    sums.iter()
        .zip(outs)
        .map(|(s, o)| {
            [
                s.t10.map(f64::from),
                s.t50.map(f64::from),
                s.t90.map(f64::from),
                Some(s.final_share),
                Some(s.share_invented),
                Some(s.variants as f64),
                Some(s.gini_l),
                Some(s.mean_depth),
                Some(s.complete_share),
                Some(o.recognitions),
                Some(o.promo_first),
                Some(o.promo_last),
            ]
        })
        .collect()
}

pub fn points_header(fields: &[String]) -> String {
    let mut h = String::from("point");
    for f in fields {
        let _ = write!(h, ",{f}");
    }
    h.push('\n');
    h
}

/// A row of points.csv (values in their shortest exact form).
pub fn points_row(point: usize, values: &[f64], s: &mut String) {
    let _ = write!(s, "{point}");
    for v in values {
        let _ = write!(s, ",{v}");
    }
    s.push('\n');
}

pub fn runs_header() -> String {
    format!("point,replicate,key,innovation,{}\n", RUN_METRICS.join(","))
}

/// A row of runs.csv.
pub fn runs_row(point: usize, replicate: u32, key: u32, k: usize, m: &[Option<f64>; 12], s: &mut String) {
    let _ = write!(s, "{point},{replicate},{key},{k}");
    for (i, v) in m.iter().enumerate() {
        match v {
            None => s.push(','),
            Some(v) if matches!(RUN_METRICS[i], "t10" | "t50" | "t90" | "variants" | "recognitions") => {
                let _ = write!(s, ",{v}");
            }
            Some(v) => {
                let _ = write!(s, ",{v:.6}");
            }
        }
    }
    s.push('\n');
}

pub const STATS_HEADER: &str = "point,innovation,metric,n,mean,sd,q05,q50,q95\n";

/// Rows of stats.csv for one point and innovation: each metric over the replicates that have it
/// (mean, sample sd, and 5/50/95 % quantiles by nearest rank; empty with fewer values than needed).
pub fn stats_rows(point: usize, k: usize, samples: &[[Option<f64>; 12]], s: &mut String) {
    for (j, name) in RUN_METRICS.iter().enumerate() {
        let mut v: Vec<f64> = samples.iter().filter_map(|m| m[j]).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let _ = write!(s, "{point},{k},{name},{n}");
        if n == 0 {
            s.push_str(",,,,,\n");
            continue;
        }
        let mean = analysis::mean(&v);
        let _ = write!(s, ",{mean:.6}");
        if n > 1 {
            let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
            let _ = write!(s, ",{sd:.6}");
        } else {
            s.push(',');
        }
        for p in [5, 50, 95] {
            let _ = write!(s, ",{:.6}", analysis::nearest_rank(&v, p));
        }
        s.push('\n');
    }
}

/// Header of a sweep's steps.csv: per run, or (`means`) per point over its replicates.
pub fn steps_header(model: &Model, means: bool) -> String {
    let mut h = String::from(if means {
        "point,month,innovation"
    } else {
        "point,replicate,month,innovation"
    });
    for (c, _) in steps_columns(model) {
        let _ = write!(h, ",{c}");
    }
    h.push('\n');
    h
}

/// Rows of a sweep's steps.csv for run r of `out` (point and replicate given).
pub fn steps_rows(model: &Model, out: &BatchOutput, r: usize, point: usize, replicate: u32, s: &mut String) {
    let kn = out.state.innov;
    let cols = steps_columns(model);
    let mut values = Vec::with_capacity(cols.len());
    for t in 1..=out.months {
        for k in 0..kn {
            let _ = write!(s, "{point},{replicate},{t},{k}");
            step_values(model, out.record(r, t), kn, k, &mut values);
            write_values(&cols, &values, false, s);
            s.push('\n');
        }
    }
}

/// Sums of the steps values of one point over its replicates, for `--steps mean`.
pub struct StepSums {
    pub runs: u32,
    /// `[month][innovation][column]`.
    pub sums: Vec<f64>,
    cols: usize,
    innov: usize,
}

impl StepSums {
    pub fn new(model: &Model, months: u32, innov: usize) -> Self {
        let cols = steps_columns(model).len();
        StepSums {
            runs: 0,
            sums: vec![0.0; months as usize * innov * cols],
            cols,
            innov,
        }
    }

    /// Add run r of `out`.
    pub fn add(&mut self, model: &Model, out: &BatchOutput, r: usize) {
        let mut values = Vec::with_capacity(self.cols);
        for t in 1..=out.months {
            for k in 0..self.innov {
                step_values(model, out.record(r, t), self.innov, k, &mut values);
                let at = ((t as usize - 1) * self.innov + k) * self.cols;
                for (slot, v) in self.sums[at..at + self.cols].iter_mut().zip(&values) {
                    *slot += v;
                }
            }
        }
        self.runs += 1;
    }

    /// The point's rows of the means.
    pub fn rows(&self, model: &Model, point: usize, months: u32, s: &mut String) {
        let cols = steps_columns(model);
        let mut values = vec![0.0; self.cols];
        for t in 1..=months {
            for k in 0..self.innov {
                let at = ((t as usize - 1) * self.innov + k) * self.cols;
                for (v, sum) in values.iter_mut().zip(&self.sums[at..at + self.cols]) {
                    *v = sum / self.runs.max(1) as f64;
                }
                let _ = write!(s, "{point},{t},{k}");
                write_values(&cols, &values, true, s);
                s.push('\n');
            }
        }
    }
}

/// The Parquet type of each column of a sweep table, by the table and the column's name: in
/// steps.csv every column is a count but `share` and the `mean_*` (all are means with `means`).
pub fn column_kind(table: &str, column: &str, means: bool) -> Kind {
    match (table, column) {
        (_, "point" | "replicate" | "key" | "innovation" | "month" | "n") => Kind::Int,
        ("stats", "metric") => Kind::Str,
        ("runs", "t10" | "t50" | "t90") => Kind::OptInt,
        ("runs", "variants" | "recognitions") => Kind::Int,
        ("steps", c) if !means && c != "share" && !c.starts_with("mean_") => Kind::Int,
        _ => Kind::F64,
    }
}
