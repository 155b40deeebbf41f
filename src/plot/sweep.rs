//! Charts of a finished sweep, from its points.csv and stats.csv: each headline metric against
//! one varied field with its 5–95 % band, a heat map over two, or a scatter against each of more.

use super::{ensure_font, Figure, FONT};
use crate::error::{Error, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use std::path::Path;

/// The metrics charted, with their axis names.
const METRICS: [(&str, &str); 4] = [
    ("t50", "months to 50 % adopted (median; never = months + 1)"),
    ("final_share", "final share adopted"),
    ("mean_depth", "mean depth of adopters"),
    ("complete_share", "share of adopters at full depth"),
];

const SIZE: (u32, u32) = (900, 640);
const BLUE: RGBColor = RGBColor(31, 119, 180);

/// One point's statistics of one metric.
#[derive(Debug, Clone, Copy)]
struct Stat {
    n: u32,
    mean: f64,
    q05: f64,
    q50: f64,
    q95: f64,
}

/// What the charts read from a sweep folder.
struct Data {
    fields: Vec<String>,
    /// values[point][field].
    values: Vec<Vec<f64>>,
    innovations: usize,
    /// (point, innovation, metric) → stat over the point's replicates.
    stats: BTreeMap<(usize, usize, String), Stat>,
}

/// Read points.csv and runs.csv, strictly: every row whole, points numbered in order, runs of
/// known points, every metric a number (a month never reached, an empty cell, counts as
/// `months + 1`, so that medians and bands over replicates say how many runs got there).
fn read(dir: &Path, months: u32) -> Result<Data> {
    use crate::output::table::Table;
    let points = Table::open(&dir.join("points.csv"))?;
    let fields: Vec<String> = points.header.iter().skip(1).cloned().collect();
    let c_point = points.col("point")?;
    // The points in order from the first (a shard's start after 0): charted as 0, 1, ….
    let mut values: Vec<Vec<f64>> = Vec::new();
    let mut first = None;
    points.rows(|r| {
        let p = r.index(c_point)?;
        let due = *first.get_or_insert(p) + values.len();
        if p != due {
            return Err(r.error(
                c_point,
                format!("point {p} where point {due} was due: rows missing or out of order"),
            ));
        }
        values.push((1..r.cells.len()).map(|c| r.num(c)).collect::<Result<_>>()?);
        Ok(())
    })?;
    let runs = Table::open(&dir.join("runs.csv"))?;
    let (c_point, c_innov) = (runs.col("point")?, runs.col("innovation")?);
    let wanted: Vec<(usize, &str)> = METRICS.iter().map(|(m, _)| runs.col(m).map(|c| (c, *m))).collect::<Result<_>>()?;
    let mut samples: BTreeMap<(usize, usize, &str), Vec<f64>> = BTreeMap::new();
    let mut innovations = 0;
    let n_points = values.len();
    let first = first.unwrap_or(0);
    runs.rows(|r| {
        let p = r.index(c_point)?;
        if p < first || p - first >= n_points {
            return Err(r.error(
                c_point,
                format!(
                    "point {p} is not in points.csv (points {first} to {})",
                    first + n_points.saturating_sub(1)
                ),
            ));
        }
        let p = p - first;
        let k = r.index(c_innov)?;
        if k >= crate::model::params::MAX_INNOV {
            return Err(r.error(
                c_innov,
                format!("innovation {k}: a scenario has at most {}", crate::model::params::MAX_INNOV),
            ));
        }
        innovations = innovations.max(k + 1);
        for &(i, m) in &wanted {
            let v = match r.opt_num(i)? {
                Some(v) => v,
                None if m.starts_with('t') => (months + 1) as f64,
                None => return Err(r.error(i, "an empty cell where a number is due")),
            };
            samples.entry((p, k, m)).or_default().push(v);
        }
        Ok(())
    })?;
    let stats = samples
        .into_iter()
        .map(|((p, k, m), mut v)| {
            v.retain(|x| !x.is_nan());
            v.sort_by(f64::total_cmp);
            let q = |pc| crate::analysis::nearest_rank(&v, pc);
            let s = Stat {
                n: v.len() as u32,
                mean: crate::analysis::mean(&v),
                q05: q(5),
                q50: q(50),
                q95: q(95),
            };
            ((p, k, m.to_string()), s)
        })
        .collect();
    Ok(Data {
        fields,
        values,
        innovations,
        stats,
    })
}

/// Draw the sweep's charts into `dir/charts/`; returns the files written (relative to `dir`).
pub fn charts(dir: &Path, title: &str, months: u32) -> Result<Vec<String>> {
    let d = read(dir, months)?;
    if d.fields.is_empty() || d.values.is_empty() {
        return Ok(Vec::new());
    }
    ensure_font().map_err(Error::Backend)?;
    NEVER.with(|n| n.set(months as f64 + 0.5));
    let out = dir.join("charts");
    std::fs::create_dir_all(&out).map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    let mut written = Vec::new();
    let distinct = |f: usize| {
        let mut v: Vec<f64> = d.values.iter().map(|p| p[f]).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    for k in 0..d.innovations {
        let suffix = if d.innovations > 1 {
            format!("-innovation{k}")
        } else {
            String::new()
        };
        for (metric, label) in METRICS {
            let get = |p: usize| d.stats.get(&(p, k, metric.to_string())).copied().filter(|s| s.n > 0);
            if d.fields.len() == 1 {
                let name = format!("{metric}{suffix}");
                let mut pts: Vec<(f64, Stat)> = (0..d.values.len()).filter_map(|p| get(p).map(|s| (d.values[p][0], s))).collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                render(
                    &out.join(&name),
                    &Chart::Band(format!("{title}: {label}"), &d.fields[0], label, pts),
                )?;
                written.extend([format!("charts/{name}.png"), format!("charts/{name}.svg")]);
            } else if d.fields.len() == 2 && distinct(0).len() * distinct(1).len() == d.values.len() && d.values.len() <= 2500 {
                let name = format!("{metric}{suffix}");
                let (xs, ys) = (distinct(0), distinct(1));
                let cells: Vec<(usize, usize, Option<f64>)> = (0..d.values.len())
                    .map(|p| {
                        let xi = xs.iter().position(|&x| x == d.values[p][0]).unwrap_or(0);
                        let yi = ys.iter().position(|&y| y == d.values[p][1]).unwrap_or(0);
                        (xi, yi, get(p).map(|s| s.q50))
                    })
                    .collect();
                let t = format!("{title}: {} (median)", label.split(" (").next().unwrap_or(label));
                render(&out.join(&name), &Chart::Heat(t, (&d.fields[0], &xs), (&d.fields[1], &ys), cells))?;
                written.extend([format!("charts/{name}.png"), format!("charts/{name}.svg")]);
            } else {
                for (f, field) in d.fields.iter().enumerate() {
                    let name = format!("{metric}{suffix}-vs-{}", field.replace('.', "_"));
                    let pts: Vec<(f64, Stat)> = (0..d.values.len()).filter_map(|p| get(p).map(|s| (d.values[p][f], s))).collect();
                    let t = format!("{title}: {label} (mean per point)");
                    render(&out.join(&name), &Chart::Scatter(t, field, label, pts))?;
                    written.extend([format!("charts/{name}.png"), format!("charts/{name}.svg")]);
                }
            }
        }
    }
    Ok(written)
}

type Root<DB> = DrawingArea<DB, Shift>;

thread_local! {
    /// The largest month a run has (a median above it is "never"), for the heat maps' labels.
    static NEVER: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::INFINITY) };
}

/// One chart: its kind and data, drawn the same on the PNG and the SVG backend.
enum Chart<'a> {
    Band(String, &'a str, &'a str, Vec<(f64, Stat)>),
    Heat(String, (&'a str, &'a [f64]), (&'a str, &'a [f64]), Vec<(usize, usize, Option<f64>)>),
    Scatter(String, &'a str, &'a str, Vec<(f64, Stat)>),
}

fn draw_chart<DB: DrawingBackend>(root: &Root<DB>, c: &Chart) -> Result<(), String> {
    match c {
        Chart::Band(t, x, y, pts) => band(root, t, x, y, pts),
        Chart::Heat(t, x, y, cells) => heat(root, t, *x, *y, cells),
        Chart::Scatter(t, x, y, pts) => scatter(root, t, x, y, pts),
    }
}

impl Figure for Chart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &Root<DB>) -> Result<(), String> {
        draw_chart(root, self)
    }
}

/// Draw `chart` into `<stem>.png` and `<stem>.svg`, each under a temporary name first.
fn render(stem: &Path, chart: &Chart) -> Result<()> {
    super::render(stem, SIZE, chart).map_err(|e| Error::Backend(e.to_string()))
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = vals
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// A chart with real axes over the ranges of `xs` and `ys`, its mesh drawn.
fn axes<'a, DB: DrawingBackend>(
    root: &'a Root<DB>,
    title: &str,
    x: &str,
    y: &str,
    xs: (f64, f64),
    ys: (f64, f64),
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 21))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(xs.0..xs.1, ys.0..ys.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x)
        .y_desc(y)
        .axis_desc_style((FONT, 17))
        .label_style((FONT, 14))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// A metric against one field: the median over replicates as a line, 5–95 % as a band.
fn band<DB: DrawingBackend>(root: &Root<DB>, title: &str, x: &str, y: &str, pts: &[(f64, Stat)]) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let xs = range(pts.iter().map(|p| p.0));
    let ys = range(pts.iter().flat_map(|p| [p.1.q05, p.1.q95]));
    let mut chart = axes(root, title, x, y, xs, ys)?;
    if !pts.is_empty() {
        let outline: Vec<(f64, f64)> = pts
            .iter()
            .map(|p| (p.0, p.1.q95))
            .chain(pts.iter().rev().map(|p| (p.0, p.1.q05)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, BLUE.mix(0.2).filled())))
            .map_err(err)?
            .label("5–95 % of replicates")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], BLUE.mix(0.2).filled()));
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1.q50)), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("median")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1.q50), 3, BLUE.filled())))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// A metric's mean over a grid of two fields, one coloured cell per point, with a colour key.
fn heat<DB: DrawingBackend>(
    root: &Root<DB>,
    title: &str,
    x: (&str, &[f64]),
    y: (&str, &[f64]),
    cells: &[(usize, usize, Option<f64>)],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (main, key) = root.split_horizontally(SIZE.0 - 130);
    let (lo, hi) = {
        let v: Vec<f64> = cells.iter().filter_map(|c| c.2).filter(|v| v.is_finite()).collect();
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() {
            (lo, if hi > lo { hi } else { lo + 1e-9 })
        } else {
            (0.0, 1.0)
        }
    };
    let colour = |v: f64| ViridisRGB::get_color_normalized(v, lo, hi);
    let (nx, ny) = (x.1.len() as i32, y.1.len() as i32);
    let mut chart = ChartBuilder::on(&main)
        .caption(title, (FONT, 20))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented())
        .map_err(err)?;
    let fmt = |vals: &[f64], v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => vals.get(*i as usize).map(|x| format!("{x}")).unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x.0)
        .y_desc(y.0)
        .x_labels(nx as usize)
        .y_labels(ny as usize)
        .x_label_formatter(&|v| fmt(x.1, v))
        .y_label_formatter(&|v| fmt(y.1, v))
        .axis_desc_style((FONT, 17))
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    let annotate = nx * ny <= 144;
    let never = NEVER.with(|n| n.get());
    chart
        .draw_series(cells.iter().map(|&(i, j, v)| {
            let (i, j) = (i as i32, j as i32);
            let fill = v.filter(|v| v.is_finite()).map_or(RGBColor(200, 200, 200), colour);
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), SegmentValue::Exact(j)),
                    (SegmentValue::Exact(i + 1), SegmentValue::Exact(j + 1)),
                ],
                fill.filled(),
            )
        }))
        .map_err(err)?;
    if annotate {
        chart
            .draw_series(cells.iter().map(|&(i, j, v)| {
                let text = v
                    .filter(|v| v.is_finite())
                    .map_or("–".to_string(), |v| if v > never { "never".into() } else { short(v) });
                let light = v.is_some_and(|v| (v - lo) / (hi - lo) < 0.55);
                let style = TextStyle::from((FONT, 13))
                    .color(if light { &WHITE } else { &BLACK })
                    .pos(Pos::new(HPos::Center, VPos::Center));
                Text::new(text, (SegmentValue::CenterOf(i as i32), SegmentValue::CenterOf(j as i32)), style)
            }))
            .map_err(err)?;
    }
    colour_key(&key, lo, hi, &colour).map_err(|e| e.to_string())
}

fn short(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn colour_key<DB: DrawingBackend>(area: &Root<DB>, lo: f64, hi: f64, colour: &dyn Fn(f64) -> RGBColor) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .margin_top(60)
        .margin_bottom(65)
        .margin_right(15)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..1f64, lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .label_style((FONT, 13))
        .y_label_formatter(&|v| short(*v))
        .draw()
        .map_err(err)?;
    let steps = 100;
    chart
        .draw_series((0..steps).map(|s| {
            let a = lo + (hi - lo) * s as f64 / steps as f64;
            let b = lo + (hi - lo) * (s + 1) as f64 / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], colour((a + b) / 2.0).filled())
        }))
        .map_err(err)?;
    Ok(())
}

/// A metric's mean per point against one of several fields.
fn scatter<DB: DrawingBackend>(root: &Root<DB>, title: &str, x: &str, y: &str, pts: &[(f64, Stat)]) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let xs = range(pts.iter().map(|p| p.0));
    let ys = range(pts.iter().map(|p| p.1.mean));
    let mut chart = axes(root, title, x, y, xs, ys)?;
    chart
        .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1.mean), 3, BLUE.mix(0.7).filled())))
        .map_err(err)?;
    Ok(())
}
