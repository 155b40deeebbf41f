//! `pioneer report DIR`: one self-contained HTML page for a run's or a sweep's folder — the
//! scenario in brief, the key numbers and every chart embedded, readable offline.

use crate::error::{Error, InputError, Result};
use base64::Engine as _;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Write `DIR/report.html` (under a temporary name first) and return its path.
pub fn report(dir: &Path) -> Result<PathBuf> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).map_err(|e| {
        InputError::new(format!(
            "{} is not a finished pioneer run or sweep (no manifest.json: {e}); give the folder `pioneer run` or `pioneer sweep` wrote",
            dir.display()
        ))
        .field("DIR")
    })?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| InputError::new(format!("not a pioneer manifest: {e}")).file(dir.join("manifest.json")))?;
    if manifest.get("pioneer").is_none() {
        return Err(InputError::new("not a pioneer manifest (no `pioneer` version)")
            .file(dir.join("manifest.json"))
            .into());
    }
    let html = page(dir, &manifest)?;
    let path = dir.join("report.html");
    crate::output::write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

/// Text made safe inside HTML.
/// Text made safe for HTML.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A JSON value as short text.
fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".into(),
        other => other.to_string(),
    }
}

const STYLE: &str =
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.8em;margin-bottom:.2em}h2{font-size:1.3em;border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:left}th{background:#f3f3f3}\
td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:1.2em 0}img{max-width:100%;border:1px solid #ddd}\
figcaption{font-size:.9em;color:#555}.lead{font-size:1.1em;color:#444}@media print{figure{break-inside:avoid}}";

fn page(dir: &Path, m: &serde_json::Value) -> Result<String> {
    let command = m["command"].as_str().unwrap_or("run");
    let sweep = command == "sweep";
    let name = if sweep {
        show(&m["name"])
    } else {
        m["scenario"]["name"]
            .as_str()
            .map_or_else(|| show(&m["scenario_file"]), str::to_string)
    };
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>pioneer {command}: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&name)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&name));
    if let Some(d) = m["scenario"]["description"].as_str() {
        let _ = writeln!(h, "<p class=\"lead\">{}</p>", esc(d));
    }

    h.push_str("<h2>In brief</h2>\n<table>\n");
    let mut row = |k: &str, v: String| {
        let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    };
    if sweep {
        row("sweep file", show(&m["sweep_file"]));
        row("base scenario", show(&m["base"]));
        row("design", show(&m["design"]));
        let fields: Vec<String> = m["fields"].as_array().map(|f| f.iter().map(show).collect()).unwrap_or_default();
        row("varied", fields.join(", "));
        row(
            "points × replicates",
            format!("{} × {}", show(&m["points"]), show(&m["replicates"])),
        );
    } else {
        let sc = &m["scenario"];
        row("scenario file", show(&m["scenario_file"]));
        let w = &sc["world"];
        row("world", format!("{} ({} units)", show(&w["kind"]), show(&m["units"])));
        let innov: Vec<String> = sc["innovation"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| {
                        format!(
                            "{} ({} rungs, difficulty {})",
                            show(&i["name"]),
                            show(&i["rungs"]),
                            show(&i["difficulty"])
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        row("innovations", innov.join("; "));
        row("replicates", show(&m["replicates"]));
        if let Some(y) = sc["start_year"].as_i64() {
            row("start year", y.to_string());
        }
    }
    row("months", show(&m["months"]));
    row("seed", show(&m["seed"]));
    row("backend", show(&m["backend"]));
    row("wall time", format!("{:.2} s", m["wall_seconds"].as_f64().unwrap_or(f64::NAN)));
    row("pioneer", format!("{} ({})", show(&m["pioneer"]), show(&m["commit"])));
    h.push_str("</table>\n");

    h.push_str("<h2>Key numbers</h2>\n");
    if sweep {
        key_numbers_sweep(dir, &mut h)?;
    } else {
        key_numbers_run(dir, m, &mut h)?;
    }

    // A class's debrief (`pioneer serve`) adds its own section: levers, promotions, traces.
    if let Ok(class) = std::fs::read_to_string(dir.join("class.html")) {
        h.push_str("<h2>The class</h2>\n");
        h.push_str(&class);
    }

    h.push_str("<h2>Charts</h2>\n");
    let mut images = charts(dir)?;
    if images.is_empty() {
        h.push_str("<p>No charts in this folder.</p>\n");
    }
    for (rel, path) in images.drain(..) {
        let bytes = std::fs::read(&path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let mime = if rel.ends_with(".gif") { "image/gif" } else { "image/png" };
        let data = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let _ = writeln!(
            h,
            "<figure><img src=\"data:{mime};base64,{data}\" alt=\"{}\"><figcaption>{} ({:.0} kB)</figcaption></figure>",
            esc(&rel),
            esc(&rel),
            bytes.len() as f64 / 1000.0
        );
    }
    h.push_str("<p><small>Written by <code>pioneer report</code>; every image is embedded, nothing is loaded from elsewhere.</small></p>\n</body></html>\n");
    Ok(h)
}

/// The PNG charts and GIF animations of `dir` and `dir/charts`, in a reading order: the
/// diffusion chart, the routes, the maps, the animations, trace charts, then the rest by name.
fn charts(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for (sub, folder) in [("", dir.to_path_buf()), ("charts/", dir.join("charts"))] {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        for e in entries.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if (name.ends_with(".png") || name.ends_with(".gif")) && !name.contains(".tmp") {
                found.push((format!("{sub}{name}"), e.path()));
            }
        }
    }
    let rank = |n: &str| {
        ["diffusion", "routes", "map", "animation", "trace"]
            .iter()
            .position(|p| n.starts_with(p))
            .unwrap_or(5)
    };
    found.sort_by(|a, b| (rank(&a.0), &a.0).cmp(&(rank(&b.0), &b.0)));
    Ok(found)
}

/// Rows of a CSV file as maps from column to cell.
fn read_csv(path: &Path) -> Result<Vec<std::collections::HashMap<String, String>>> {
    let bad = |e: csv::Error| {
        let err = InputError::new(format!("cannot read the table: {e}; run the command again to write it whole")).file(path);
        match e.position() {
            Some(p) => err.line(p.line() as usize),
            None => err,
        }
    };
    // A table is read only as the command wrote it.
    if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
        crate::output::table::verify(dir, &name.to_string_lossy())?;
    }
    let mut rdr = csv::Reader::from_path(path).map_err(bad)?;
    let headers = rdr.headers().map_err(bad)?.clone();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(bad)?;
        rows.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

/// Median (lower middle) of the numbers of `col` in `rows`; cells that are empty (never reached)
/// count as later than any, so the median may be "never".
fn median(rows: &[&std::collections::HashMap<String, String>], col: &str) -> String {
    let mut v: Vec<Option<f64>> = rows.iter().map(|r| r.get(col).and_then(|c| c.parse().ok())).collect();
    v.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => x.total_cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    match v.get(v.len().saturating_sub(1) / 2) {
        Some(Some(x)) => format!("{x}"),
        Some(None) => "never".into(),
        None => "—".into(),
    }
}

fn mean(rows: &[&std::collections::HashMap<String, String>], col: &str) -> f64 {
    let v: Vec<f64> = rows.iter().filter_map(|r| r.get(col).and_then(|c| c.parse().ok())).collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn key_numbers_run(dir: &Path, m: &serde_json::Value, h: &mut String) -> Result<()> {
    let rows = read_csv(&dir.join("summary.csv"))?;
    let names: Vec<String> = m["scenario"]["innovation"]
        .as_array()
        .map(|a| a.iter().map(|i| show(&i["name"])).collect())
        .unwrap_or_default();
    h.push_str("<table><tr><th>innovation</th><th>months to 10 %</th><th>to 50 %</th><th>to 90 %</th><th>final share</th><th>adopters' mean depth</th><th>share at full depth</th></tr>\n");
    for (k, name) in names.iter().enumerate() {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.get("innovation").map(String::as_str) == Some(&k.to_string()))
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.3}</td><td class=n>{:.2}</td><td class=n>{:.1} %</td></tr>",
            esc(name),
            median(&mine, "t10"),
            median(&mine, "t50"),
            median(&mine, "t90"),
            mean(&mine, "final_share"),
            mean(&mine, "mean_depth"),
            100.0 * mean(&mine, "complete_share")
        );
    }
    let _ = writeln!(
        h,
        "</table>\n<p>Months: the median over {} runs (a run that never got there counts as later than any); the rest: means over runs.</p>",
        rows.len() / names.len().max(1)
    );
    if let Some(o) = m.get("observed").filter(|o| !o.is_null()) {
        let years = |k: &str| {
            o["years_to_10_50_90"][k]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|y| if y.is_null() { "never".into() } else { show(y) })
                        .collect::<Vec<_>>()
                        .join(" / ")
                })
                .unwrap_or_default()
        };
        let _ = writeln!(
            h,
            "<p>Observed data ({}): RMSE of the share against the simulated median <b>{:.3}</b>; years to 10 / 50 / 90 %: observed {}, simulated {}.</p>",
            esc(&show(&o["file"])),
            o["rmse_share"].as_f64().unwrap_or(f64::NAN),
            years("observed"),
            years("simulated_median")
        );
        yardsticks(o, h);
    }
    Ok(())
}

/// The yardsticks beside pioneer (`observed.yardsticks` of a run's manifest): one row each,
/// with the forecast's columns when years were held back.
fn yardsticks(o: &serde_json::Value, h: &mut String) {
    let Some(rows) = o["yardsticks"].as_array().filter(|r| !r.is_empty()) else {
        return;
    };
    let num = |v: &serde_json::Value| v.as_f64().map_or("–".to_string(), |x| format!("{x:.3}"));
    let held = o["fit_until"].as_i64();
    let _ =
        writeln!(
        h,
        "<p>Yardsticks on the same data{}:</p>\n<table><tr><th>predictor</th><th>RMSE of the share</th><th>Brier</th><th>AUC</th>{}</tr>",
        held.map_or(String::new(), |y| format!(", fitted on the years to {y} and scored on the rest")),
        if held.is_some() { "<th>forecast RMSE</th><th>forecast Brier</th><th>forecast AUC</th>" } else { "" }
    );
    for r in rows {
        let Some(name) = r["curve"].as_str().or(r["events"].as_str()) else {
            continue;
        };
        let events = r.get("events").is_some();
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td>",
            esc(name),
            if events { " (adopted by year)" } else { "" },
            num(&r["rmse_share"]),
            num(&r["brier"]),
            num(&r["auc"])
        );
        if held.is_some() {
            let _ = write!(
                h,
                "<td>{}</td><td>{}</td><td>{}</td>",
                num(&r["forecast_rmse_share"]),
                num(&r["forecast_brier"]),
                num(&r["forecast_auc"])
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if let Some(n) = rows.iter().find_map(|r| r.get("neighbours_share")) {
        let _ = writeln!(
            h,
            "<p>Adopters with a neighbour adopted in an earlier year: observed {}, pioneer {} (the runs' mean).</p>",
            num(&n["observed"]),
            num(&n["pioneer"])
        );
    }
}

fn key_numbers_sweep(dir: &Path, h: &mut String) -> Result<()> {
    let rows = read_csv(&dir.join("stats.csv"))?;
    h.push_str("<table><tr><th>metric</th><th>innovation</th><th>lowest point mean</th><th>highest point mean</th><th>points</th></tr>\n");
    let cell = |r: &std::collections::HashMap<String, String>, c: &str| r.get(c).cloned().unwrap_or_default();
    let mut keys: Vec<(String, String)> = rows.iter().map(|r| (cell(r, "metric"), cell(r, "innovation"))).collect();
    keys.sort();
    keys.dedup();
    for (metric, k) in keys {
        let means: Vec<f64> = rows
            .iter()
            .filter(|r| cell(r, "metric") == metric && cell(r, "innovation") == k)
            .filter_map(|r| cell(r, "mean").parse().ok())
            .collect();
        let lo = means.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{lo:.3}</td><td class=n>{hi:.3}</td><td class=n>{}</td></tr>",
            esc(&metric),
            esc(&k),
            means.len()
        );
    }
    h.push_str(
        "</table>\n<p>Each point's mean over its replicates (stats.csv); the spread across points shows what the varied fields move.</p>\n",
    );
    Ok(())
}
