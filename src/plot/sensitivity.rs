//! The sensitivity chart: each metric's Sobol first-order and total indices per field as bars,
//! with their bootstrap intervals as whiskers.

use super::{render, Figure, PlotError, COLOURS, FONT};
use crate::analysis::sobol::Index;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// What the chart shows.
pub struct SobolBars {
    pub title: String,
    pub fields: Vec<String>,
    /// Per metric: its name and one index per field.
    pub metrics: Vec<(String, Vec<Index>)>,
}

impl Figure for SobolBars {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let body = root.margin(10, 10, 10, 10).titled(&self.title, (FONT, 24)).map_err(err)?;
        let panels = body.split_evenly((self.metrics.len().max(1), 1));
        let k = self.fields.len();
        let names: Vec<&str> = self.fields.iter().map(|f| f.strip_prefix("params.").unwrap_or(f)).collect();
        let (s1c, stc) = (COLOURS[0], COLOURS[1]);
        for (panel, (metric, ix)) in panels.iter().zip(&self.metrics) {
            // Estimates can stray below 0 or above 1 by sampling error; the axis shows it.
            let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
            let ymin = ix
                .iter()
                .map(|i| finite(i.s1_lo).min(finite(i.st_lo)))
                .fold(0.0, f64::min)
                .max(-1.0);
            let ymax = ix.iter().map(|i| finite(i.s1_hi).max(finite(i.st_hi))).fold(1.0, f64::max).min(2.0);
            let mut ch = ChartBuilder::on(panel)
                .caption(metric, (FONT, 20))
                .margin(8)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(-0.5f64..k as f64 - 0.5, ymin..ymax)
                .map_err(err)?;
            ch.configure_mesh()
                .disable_x_mesh()
                .x_labels(k.max(1))
                .x_label_formatter(&|v| {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < k {
                        names[i as usize].to_string()
                    } else {
                        String::new()
                    }
                })
                .y_desc("index")
                .axis_desc_style((FONT, 16))
                .label_style((FONT, 14))
                .y_label_formatter(&|v| format!("{v:.1}"))
                .draw()
                .map_err(err)?;
            for (which, colour, off) in [("first-order S1", s1c, -0.2), ("total ST", stc, 0.2)] {
                let val = |i: &Index| {
                    if off < 0.0 {
                        (i.s1, i.s1_lo, i.s1_hi)
                    } else {
                        (i.st, i.st_lo, i.st_hi)
                    }
                };
                ch.draw_series(ix.iter().enumerate().filter(|(_, i)| val(i).0.is_finite()).map(|(f, i)| {
                    let x = f as f64 + off;
                    Rectangle::new([(x - 0.18, 0.0), (x + 0.18, val(i).0)], colour.mix(0.8).filled())
                }))
                .map_err(err)?
                .label(which)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], colour.mix(0.8).filled()));
                for (f, i) in ix.iter().enumerate() {
                    let (_, lo, hi) = val(i);
                    if !(lo.is_finite() && hi.is_finite()) {
                        continue;
                    }
                    let x = f as f64 + off;
                    let whisker = vec![
                        PathElement::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(2)),
                        PathElement::new(vec![(x - 0.06, lo), (x + 0.06, lo)], BLACK.stroke_width(2)),
                        PathElement::new(vec![(x - 0.06, hi), (x + 0.06, hi)], BLACK.stroke_width(2)),
                    ];
                    ch.draw_series(whisker).map_err(err)?;
                }
            }
            ch.draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, 0.0), (k as f64 - 0.5, 0.0)],
                BLACK.stroke_width(1),
            )))
            .map_err(err)?;
            ch.configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .label_font((FONT, 14))
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// Draw the sensitivity chart into `<stem>.png` and `<stem>.svg` (a panel per metric).
pub fn sensitivity_chart(stem: &Path, bars: &SobolBars) -> Result<(), PlotError> {
    if bars.metrics.iter().any(|(_, ix)| ix.len() != bars.fields.len()) {
        return Err(PlotError::new(stem, "an index per field and metric"));
    }
    let width = (bars.fields.len() as u32 * 140 + 120).clamp(800, 2400);
    render(stem, (width, 60 + 330 * bars.metrics.len().max(1) as u32), bars)
}
