//! The corner chart of a calibration: each field's weighted posterior histogram on the diagonal,
//! every pair of fields as a scatter below it (the prior sample faint), their correlation above.

use super::{render, Figure, PlotError, COLOURS, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Bins of the diagonal's histograms.
const BINS: usize = 20;

/// What the chart shows.
pub struct Pairs {
    pub title: String,
    /// Field names and their prior ranges (the axes).
    pub names: Vec<String>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    /// The posterior: particles `theta[i][f]` with weights summing to 1.
    pub theta: Vec<Vec<f64>>,
    pub weight: Vec<f64>,
    /// The first generation (drawn from the prior), faint behind the posterior.
    pub prior: Vec<Vec<f64>>,
}

/// Weighted correlation of fields a and b.
fn correlation(p: &Pairs, a: usize, b: usize) -> f64 {
    let m = |f: usize| p.theta.iter().zip(&p.weight).map(|(t, w)| w * t[f]).sum::<f64>();
    let (ma, mb) = (m(a), m(b));
    let c = |f: usize, g: usize, mf: f64, mg: f64| {
        p.theta
            .iter()
            .zip(&p.weight)
            .map(|(t, w)| w * (t[f] - mf) * (t[g] - mg))
            .sum::<f64>()
    };
    c(a, b, ma, mb) / (c(a, a, ma, ma) * c(b, b, mb, mb)).sqrt()
}

/// Tick labels with as many decimals as the range needs.
fn tick(range: f64) -> impl Fn(&f64) -> String {
    let decimals = if range >= 20.0 {
        0
    } else if range >= 2.0 {
        1
    } else if range >= 0.2 {
        2
    } else {
        3
    };
    move |v: &f64| format!("{v:.decimals$}")
}

/// A short label: the field without its table (`params.kappa` → `kappa`).
fn short(name: &str) -> &str {
    name.strip_prefix("params.").unwrap_or(name)
}

impl Figure for Pairs {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let body = root.margin(10, 10, 10, 10).titled(&self.title, (FONT, 24)).map_err(err)?;
        let k = self.names.len();
        let cells = body.split_evenly((k, k));
        let blue = COLOURS[0];
        let range = |f: usize| {
            let (lo, hi) = (self.lo[f], self.hi[f]);
            if hi > lo {
                lo..hi
            } else {
                lo - 0.5..lo + 0.5
            }
        };
        for (c, cell) in cells.iter().enumerate() {
            let (row, col) = (c / k, c % k);
            let left = if col == 0 { 60 } else { 40 };
            let bottom = if row + 1 == k { 50 } else { 34 };
            if col > row {
                // The correlation of the pair, as text in the middle of the cell.
                let r = correlation(self, row, col);
                let (w, h) = cell.dim_in_pixel();
                let text = format!("r = {r:+.2}");
                let grey = BLACK.mix(0.8);
                let style = TextStyle::from((FONT, 22).into_font()).color(&grey);
                cell.draw(&Text::new(text, (w as i32 / 2 - 40, h as i32 / 2 - 10), style))
                    .map_err(err)?;
                continue;
            }
            if row == col {
                let f = row;
                let xr = range(f);
                let width = (xr.end - xr.start) / BINS as f64;
                let mut bins = [0f64; BINS];
                for (t, w) in self.theta.iter().zip(&self.weight) {
                    let b = (((t[f] - xr.start) / width) as usize).min(BINS - 1);
                    bins[b] += w;
                }
                let top = bins.iter().copied().fold(0.0, f64::max).max(1e-9) * 1.1;
                let mut ch = ChartBuilder::on(cell)
                    .margin(6)
                    .x_label_area_size(bottom)
                    .y_label_area_size(left)
                    .build_cartesian_2d(xr.clone(), 0f64..top)
                    .map_err(err)?;
                ch.configure_mesh()
                    .disable_mesh()
                    .x_desc(short(&self.names[f]))
                    .y_desc(if col == 0 { "weight" } else { "" })
                    .axis_desc_style((FONT, 15))
                    .label_style((FONT, 12))
                    .x_labels(4)
                    .y_labels(3)
                    .x_label_formatter(&tick(xr.end - xr.start))
                    .y_label_formatter(&|v| format!("{v:.2}"))
                    .draw()
                    .map_err(err)?;
                ch.draw_series(bins.iter().enumerate().map(|(b, &h)| {
                    let x0 = xr.start + b as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, h)], blue.mix(0.7).filled())
                }))
                .map_err(err)?;
                // The weighted 5, 50 and 95 % quantiles.
                for (q, style) in [(0.05, 1), (0.5, 3), (0.95, 1)] {
                    let v =
                        crate::analysis::abc::weighted_quantile(self.theta.iter().zip(&self.weight).map(|(t, &w)| (t[f], w)).collect(), q);
                    ch.draw_series(std::iter::once(PathElement::new(
                        vec![(v, 0.0), (v, top)],
                        BLACK.stroke_width(style),
                    )))
                    .map_err(err)?;
                }
                continue;
            }
            // Below the diagonal: x is field `col`, y is field `row`.
            let mut ch = ChartBuilder::on(cell)
                .margin(6)
                .x_label_area_size(bottom)
                .y_label_area_size(left)
                .build_cartesian_2d(range(col), range(row))
                .map_err(err)?;
            ch.configure_mesh()
                .disable_mesh()
                .x_desc(short(&self.names[col]))
                .y_desc(if col == 0 { short(&self.names[row]) } else { "" })
                .axis_desc_style((FONT, 15))
                .label_style((FONT, 12))
                .x_labels(4)
                .y_labels(4)
                .x_label_formatter(&tick(range(col).end - range(col).start))
                .y_label_formatter(&tick(range(row).end - range(row).start))
                .draw()
                .map_err(err)?;
            ch.draw_series(
                self.prior
                    .iter()
                    .map(|t| Circle::new((t[col], t[row]), 2, RGBColor(170, 170, 170).filled())),
            )
            .map_err(err)?;
            let wmax = self.weight.iter().copied().fold(0.0, f64::max).max(1e-12);
            ch.draw_series(
                self.theta
                    .iter()
                    .zip(&self.weight)
                    .map(|(t, w)| Circle::new((t[col], t[row]), 3, blue.mix(0.25 + 0.75 * w / wmax).filled())),
            )
            .map_err(err)?;
        }
        Ok(())
    }
}

/// Draw the corner chart into `<stem>.png` and `<stem>.svg` (about 300 pixels a field).
pub fn pairs_chart(stem: &Path, p: &Pairs) -> Result<(), PlotError> {
    let k = p.names.len();
    if k == 0
        || p.lo.len() != k
        || p.hi.len() != k
        || p.theta.len() != p.weight.len()
        || p.theta.iter().chain(&p.prior).any(|t| t.len() != k)
    {
        return Err(PlotError::new(stem, "fields, ranges and particles do not match"));
    }
    let side = (k as u32 * 300).clamp(700, 2400);
    render(stem, (side, side + 40), p)
}
