//! The routes chart: adoptions per year by route as stacked areas with the hazard as a line, and
//! below it the share of units at each depth month by month.

use super::{map::depth_colour, render, Figure, PlotError, COLOURS, FONT};
use crate::state::route;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

pub const SIZE: (u32, u32) = (1000, 900);
/// The routes drawn (from `route::NAMES`): invented, neighbour, exemplar, parent, leader, mandated.
pub const ROUTES: [usize; 6] = [1, 2, 3, 4, 5, 6];

/// What the chart shows, averaged over a run's replicates.
pub struct RoutesData {
    pub title: String,
    /// Mean new adoptions per year, by route (`ROUTES`, in order).
    pub per_year: Vec<[f64; 6]>,
    /// New adoptions in the year over the units not yet adopted at its start (pooled over runs).
    pub hazard: Vec<f64>,
    /// Mean share of units at depth d or deeper, per month: `depth[d - 1][month - 1]`.
    pub depth: Vec<Vec<f64>>,
}

impl Figure for RoutesData {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let body = root.margin(10, 0, 0, 0).titled(&self.title, (FONT, 26)).map_err(err)?;
        let (_, h) = body.dim_in_pixel();
        let (top, bottom) = body.split_vertically(h * 55 / 100);

        // Stacked areas of adoptions per year, one layer per route, the hazard on the right axis.
        let years = self.per_year.len().max(1);
        let cum: Vec<Vec<f64>> = self
            .per_year
            .iter()
            .map(|y| {
                y.iter()
                    .scan(0.0, |acc, v| {
                        *acc += v;
                        Some(*acc)
                    })
                    .collect()
            })
            .collect();
        let ymax = cum.iter().map(|c| c[5]).fold(0.0, f64::max).max(1.0) * 1.3;
        let hmax = self.hazard.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max).max(0.01) * 1.1;
        let mut chart = ChartBuilder::on(&top)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .right_y_label_area_size(70)
            .build_cartesian_2d(0f64..years as f64, 0f64..ymax)
            .map_err(err)?
            .set_secondary_coord(0f64..years as f64, 0f64..hmax);
        chart
            .configure_mesh()
            .x_desc("year")
            .y_desc("new adoptions per year (mean of runs)")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_desc("hazard (new adoptions / units at risk)")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .draw()
            .map_err(err)?;
        // Year y's adoptions sit at y - 0.5 (the middle of the year).
        let at = |y: usize| y as f64 + 0.5;
        for (layer, &ro) in ROUTES.iter().enumerate().rev() {
            let colour = COLOURS[layer % COLOURS.len()];
            let upper: Vec<(f64, f64)> = cum.iter().enumerate().map(|(y, c)| (at(y), c[layer])).collect();
            chart
                .draw_series(AreaSeries::new(upper, 0.0, colour.mix(0.85).filled()).border_style(colour.stroke_width(1)))
                .map_err(err)?
                .label(route::NAMES[ro])
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], colour.mix(0.85).filled()));
        }
        let hazard: Vec<(f64, f64)> = self
            .hazard
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(y, &v)| (at(y), v))
            .collect();
        chart
            .draw_secondary_series(LineSeries::new(hazard.clone(), BLACK.stroke_width(3)))
            .map_err(err)?
            .label("hazard (right axis)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3)));
        chart
            .draw_secondary_series(hazard.iter().map(|&p| Circle::new(p, 4, BLACK.filled())))
            .map_err(err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;

        // Depth over time: the share at depth d or deeper, deeper layers on top.
        let months = self.depth.first().map_or(1, Vec::len).max(1);
        let rungs = self.depth.len() as u32;
        // The right margin keeps the month axis under the year axis above.
        let mut chart = ChartBuilder::on(&bottom)
            .margin(16)
            .margin_right(86)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..months as f64, 0f64..1f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("month")
            .y_desc("share of units at depth ≥ d")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()
            .map_err(err)?;
        for (d, shares) in self.depth.iter().enumerate() {
            let d = d as u32 + 1;
            let colour = depth_colour(d, rungs);
            let pts: Vec<(f64, f64)> = shares.iter().enumerate().map(|(m, &v)| ((m + 1) as f64, v)).collect();
            chart
                .draw_series(AreaSeries::new(pts, 0.0, colour.filled()).border_style(BLACK.stroke_width(1)))
                .map_err(err)?
                .label(format!("depth ≥ {d}"))
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -6), (20, 6)], colour.filled())
                        + Rectangle::new([(0, -6), (20, 6)], BLACK.stroke_width(1))
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 15))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

/// Draw the routes chart into `<stem>.png` and `<stem>.svg`.
pub fn routes_chart(stem: &Path, data: &RoutesData) -> Result<(), PlotError> {
    if data.per_year.len() != data.hazard.len() || data.depth.iter().any(|d| d.len() != data.depth[0].len()) {
        return Err(PlotError::new(stem, "years of adoptions and of hazard, or months of depth, differ"));
    }
    render(stem, SIZE, data)
}
