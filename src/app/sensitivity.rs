//! `pioneer sensitivity`: Sobol first- and total-order indices of a finished `design = "saltelli"`
//! sweep, per metric and varied field, with bootstrap intervals and the replicates' noise.

use crate::analysis::sobol::{self, Index};
use crate::error::{InputError, Result};
use crate::output::sweep::RUN_METRICS;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Indices of one metric.
pub struct MetricIndices {
    pub metric: String,
    /// Per field, in the sweep's order.
    pub indices: Vec<Index>,
    /// The variance of a point's mean from its replicates' spread, over the variance of the
    /// points' means: how much of what the indices apportion is replicate noise.
    pub noise: f64,
}

/// What `pioneer sensitivity` computed.
pub struct Sensitivity {
    pub dir: PathBuf,
    pub fields: Vec<String>,
    pub base_rows: usize,
    pub replicates: usize,
    pub metrics: Vec<MetricIndices>,
}

/// Bootstrap resamples of the intervals.
pub const RESAMPLES: usize = 1000;

/// Compute the indices of `metrics` (innovation `innovation`) from the sweep folder `dir` and
/// write `sensitivity.csv` there.
pub fn sensitivity(dir: &Path, metrics: &[String], innovation: u32) -> Result<Sensitivity> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        InputError::new(format!(
            "no finished sweep here ({e}); run `pioneer sweep` on a design = \"saltelli\" sweep first"
        ))
        .field("DIR")
    })?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| InputError::new(format!("not a sweep manifest: {e}")).file(&manifest_path))?;
    if m["design"].as_str() != Some("saltelli") {
        return Err(InputError::new(format!(
            "the sweep's design is {}; Sobol indices need design = \"saltelli\" (and every field as {{ lo, hi }})",
            m["design"]
        ))
        .file(&manifest_path)
        .field("design")
        .into());
    }
    let fields: Vec<String> = m["fields"]
        .as_array()
        .map(|a| a.iter().map(|f| f["path"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default();
    let k = fields.len();
    let points = m["points"].as_u64().unwrap_or(0) as usize;
    let months = m["months"].as_f64().unwrap_or(0.0);
    if k == 0 || points == 0 || !points.is_multiple_of(k + 2) {
        return Err(InputError::new(format!("{points} points for {k} fields: not a saltelli design"))
            .file(&manifest_path)
            .field("points")
            .into());
    }
    let n = points / (k + 2);
    for metric in metrics {
        if !RUN_METRICS.contains(&metric.as_str()) {
            return Err(InputError::new(format!("`{metric}`: the metrics are {}", RUN_METRICS.join(", ")))
                .field("--metric")
                .into());
        }
    }
    // The runs: per point, each metric's values over the replicates, read as the sweep wrote
    // them (a month never reached, an empty cell, counts as the months + 1, as in the charts).
    crate::output::table::verify(dir, "runs.csv")?;
    let runs = crate::output::table::Table::open(&dir.join("runs.csv"))?;
    let (c_point, c_innov) = (runs.col("point")?, runs.col("innovation")?);
    let cols: Vec<usize> = metrics.iter().map(|mt| runs.col(mt)).collect::<Result<_>>()?;
    let mut values: BTreeMap<usize, Vec<Vec<f64>>> = BTreeMap::new();
    let runs_path = runs.path.clone();
    runs.rows(|r| {
        if r.index(c_innov)? != innovation as usize {
            return Ok(());
        }
        let p = r.index(c_point)?;
        if p >= points {
            return Err(r.error(c_point, format!("point {p}: the design has {points} points")));
        }
        let slot = values.entry(p).or_insert_with(|| vec![Vec::new(); metrics.len()]);
        for (j, (&c, metric)) in cols.iter().zip(metrics).enumerate() {
            let v = match r.opt_num(c)? {
                Some(v) => v,
                None if metric.starts_with('t') => months + 1.0,
                None => return Err(r.error(c, "an empty cell where a number is due")),
            };
            slot[j].push(v);
        }
        Ok(())
    })?;
    if values.len() != points || values.keys().next_back() != Some(&(points - 1)) {
        return Err(InputError::new(format!(
            "runs of {} points for innovation {innovation}, the design has {points}: is the sweep finished (and merged)?",
            values.len()
        ))
        .file(&runs_path)
        .into());
    }
    let replicates = values.values().next().map_or(0, |v| v[0].len());
    if let Some((p, v)) = values.iter().find(|(_, v)| v[0].len() != replicates) {
        return Err(InputError::new(format!(
            "point {p} has {} runs of innovation {innovation}, point 0 has {replicates}: rows are missing",
            v[0].len()
        ))
        .file(&runs_path)
        .into());
    }
    let mut out = Vec::new();
    for (j, metric) in metrics.iter().enumerate() {
        let means: Vec<f64> = values.values().map(|v| v[j].iter().sum::<f64>() / v[j].len() as f64).collect();
        let noise_var = values
            .values()
            .map(|v| {
                let r = v[j].len() as f64;
                let mu = v[j].iter().sum::<f64>() / r;
                if r > 1.0 {
                    v[j].iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (r - 1.0) / r
                } else {
                    0.0
                }
            })
            .sum::<f64>()
            / points as f64;
        let mu = means.iter().sum::<f64>() / points as f64;
        let var = means.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / points as f64;
        out.push(MetricIndices {
            metric: metric.clone(),
            indices: sobol::indices(&means, n, k, RESAMPLES, 1),
            noise: if var > 0.0 { noise_var / var } else { f64::NAN },
        });
    }
    let res = Sensitivity {
        dir: dir.to_path_buf(),
        fields,
        base_rows: n,
        replicates,
        metrics: out,
    };
    let mut s = String::from("metric,field,s1,s1_lo,s1_hi,st,st_lo,st_hi,replicate_noise\n");
    for mi in &res.metrics {
        for (f, ix) in res.fields.iter().zip(&mi.indices) {
            let _ = writeln!(
                s,
                "{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
                mi.metric, f, ix.s1, ix.s1_lo, ix.s1_hi, ix.st, ix.st_lo, ix.st_hi, mi.noise
            );
        }
    }
    crate::output::write_atomic(&dir.join("sensitivity.csv"), s.as_bytes())?;
    let bars = crate::plot::sensitivity::SobolBars {
        title: format!(
            "{}: Sobol indices, {} base rows × {} replicates (95 % bootstrap intervals)",
            m["name"].as_str().unwrap_or("sweep"),
            n,
            replicates
        ),
        fields: res.fields.clone(),
        metrics: res.metrics.iter().map(|mi| (mi.metric.clone(), mi.indices.clone())).collect(),
    };
    crate::plot::sensitivity::sensitivity_chart(&dir.join("sensitivity"), &bars)
        .map_err(|e| crate::error::Error::Backend(e.to_string()))?;
    Ok(res)
}

/// A finished sweep's folder is read as it is: flags that would change the sweep are refused.
pub fn refuse_sweep_flags(n: Option<usize>, replicates: Option<u32>, months: Option<u32>, out: Option<&Path>, resume: bool) -> Result<()> {
    let given = [
        (n.is_some(), "--n"),
        (replicates.is_some(), "--replicates"),
        (months.is_some(), "--months"),
        (out.is_some(), "--out"),
        (resume, "--resume"),
    ];
    match given.iter().find(|g| g.0) {
        Some((_, flag)) => Err(InputError::new(format!(
            "{flag} is for running a sweep file; a finished sweep's folder is read as it ran"
        ))
        .field(*flag)
        .into()),
        None => Ok(()),
    }
}

/// The indices as a table.
pub fn describe(r: &Sensitivity) -> String {
    let mut s = format!(
        "Sobol indices from {} base rows × {} fields ({} points × {} replicates), 95 % bootstrap intervals:\n",
        r.base_rows,
        r.fields.len(),
        r.base_rows * (r.fields.len() + 2),
        r.replicates
    );
    for mi in &r.metrics {
        let _ = writeln!(
            s,
            "{}: (replicate noise {:.1} % of the variance between points)",
            mi.metric,
            100.0 * mi.noise
        );
        for (f, ix) in r.fields.iter().zip(&mi.indices) {
            let _ = writeln!(
                s,
                "  {f:<28} S1 {:>6.3} [{:>6.3}, {:>6.3}]   ST {:>6.3} [{:>6.3}, {:>6.3}]",
                ix.s1, ix.s1_lo, ix.s1_hi, ix.st, ix.st_lo, ix.st_hi
            );
        }
    }
    let _ = write!(s, "wrote {} and sensitivity.png/.svg", r.dir.join("sensitivity.csv").display());
    s
}
