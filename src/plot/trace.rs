//! The trace chart of one unit (`pioneer trace --chart`): its stages and rungs as a timeline, its
//! incentive, gap, threshold, legitimacy and upper backing as lines, recognitions and leaders marked.

use super::{map::depth_colour, render, Figure, PlotError, COLOURS, FONT};
use crate::state::stage;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

pub const SIZE: (u32, u32) = (1200, 860);

/// What happened to the unit in a month, marked on the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Recognised,
    Leader,
}

/// One unit's run, month by month (index t - 1 holds the state at the end of month t).
pub struct TraceSeries {
    pub title: String,
    /// Stage of the unit's process (`stage::*`).
    pub stage: Vec<u32>,
    /// Innovations' names and rungs, and the depth reached of each: `depth[k][t - 1]`.
    pub innovations: Vec<(String, u32)>,
    pub depth: Vec<Vec<u32>>,
    /// Incentive I, gap g, threshold θ, legitimacy L and upper backing B, each 0..1.
    pub lines: Vec<(&'static str, Vec<f64>)>,
    pub marks: Vec<(u32, Mark)>,
}

/// Light colours of the stages idle, need, agenda, design, implement.
const STAGES: [RGBColor; 5] = [
    RGBColor(245, 245, 245),
    RGBColor(255, 236, 179),
    RGBColor(200, 230, 201),
    RGBColor(187, 222, 251),
    RGBColor(225, 190, 231),
];
const RECOGNISED: RGBColor = RGBColor(0, 128, 0);
const LEADER: RGBColor = RGBColor(120, 120, 120);

impl Figure for TraceSeries {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let body = root.margin(10, 0, 0, 0).titled(&self.title, (FONT, 26)).map_err(err)?;
        let (w, h) = body.dim_in_pixel();
        let (charts, side) = body.split_horizontally(w - 250);
        let (top, bottom) = charts.split_vertically(h * 38 / 100);
        let (side_top, side_bottom) = side.split_vertically(h * 38 / 100);
        let months = self.stage.len().max(1) as f64;
        let rungs = self.innovations.iter().map(|i| i.1).max().unwrap_or(1).max(1);

        // Timeline: the stage as coloured bands, the rungs reached as steps.
        let mut chart = ChartBuilder::on(&top)
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..months, 0f64..rungs as f64 + 0.5)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("month")
            .y_desc("rungs reached")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| {
                if (v - v.round()).abs() < 1e-9 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(err)?;
        chart
            .draw_series(self.stage.iter().enumerate().map(|(t, &s)| {
                let c = STAGES[(s as usize).min(STAGES.len() - 1)];
                Rectangle::new([(t as f64, 0.0), (t as f64 + 1.0, rungs as f64 + 0.5)], c.filled())
            }))
            .map_err(err)?;
        let mut items: Vec<(String, Key)> = stage::NAMES
            .iter()
            .zip(STAGES)
            .map(|(name, c)| (format!("stage: {name}"), Key::Fill(c)))
            .collect();
        for (k, ((name, r), depth)) in self.innovations.iter().zip(&self.depth).enumerate() {
            let colour = if self.innovations.len() == 1 {
                depth_colour(*r, *r)
            } else {
                COLOURS[k % COLOURS.len()]
            };
            let steps: Vec<(f64, f64)> = depth
                .iter()
                .enumerate()
                .flat_map(|(t, &d)| [(t as f64, d as f64), (t as f64 + 1.0, d as f64)])
                .collect();
            chart.draw_series(LineSeries::new(steps, colour.stroke_width(4))).map_err(err)?;
            let label = if self.innovations.len() == 1 {
                format!("rungs reached (of {r})")
            } else {
                let short: String = name.chars().take(16).collect();
                format!("{short}: rungs (of {r})")
            };
            items.push((label, Key::Line(colour, 4)));
        }
        legend(&side_top, &items)?;

        // The drivers, 0..1, with the events marked.
        let mut chart = ChartBuilder::on(&bottom)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..months, 0f64..1.05f64)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("month (values at each month's end)")
            .y_desc("value (0 to 1)")
            .axis_desc_style((FONT, 17))
            .label_style((FONT, 15))
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .draw()
            .map_err(err)?;
        let mut items = Vec::new();
        for (mark, colour, name) in [
            (Mark::Recognised, RECOGNISED, "recognised"),
            (Mark::Leader, LEADER, "leader replaced or kept"),
        ] {
            let at: Vec<u32> = self.marks.iter().filter(|m| m.1 == mark).map(|m| m.0).collect();
            let style = colour.stroke_width(2);
            chart
                .draw_series(at.iter().map(|&t| PathElement::new(vec![(t as f64, 0.0), (t as f64, 1.05)], style)))
                .map_err(err)?;
            items.push((format!("{name} ({}×)", at.len()), Key::Mark(colour)));
        }
        for (j, (name, values)) in self.lines.iter().enumerate() {
            let colour = COLOURS[j % COLOURS.len()];
            let pts: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(t, &v)| (t as f64 + 1.0, v.clamp(0.0, 1.05)))
                .collect();
            chart.draw_series(LineSeries::new(pts, colour.stroke_width(2))).map_err(err)?;
            items.push((name.to_string(), Key::Line(colour, 2)));
        }
        legend(&side_bottom, &items)
    }
}

/// How a legend entry shows its series.
#[derive(Clone, Copy)]
enum Key {
    Fill(RGBColor),
    Line(RGBColor, u32),
    Mark(RGBColor),
}

/// A column of legend entries at the top of `area`.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, items: &[(String, Key)]) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let style = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (j, (label, key)) in items.iter().enumerate() {
        let y = 30 + 24 * j as i32;
        match *key {
            Key::Fill(c) => {
                area.draw(&Rectangle::new([(8, y - 7), (30, y + 7)], c.filled())).map_err(err)?;
                area.draw(&Rectangle::new([(8, y - 7), (30, y + 7)], BLACK.stroke_width(1)))
                    .map_err(err)?;
            }
            Key::Line(c, w) => {
                area.draw(&PathElement::new(vec![(8, y), (30, y)], c.stroke_width(w)))
                    .map_err(err)?;
            }
            Key::Mark(c) => {
                area.draw(&PathElement::new(vec![(19, y - 9), (19, y + 9)], c.stroke_width(2)))
                    .map_err(err)?;
            }
        }
        area.draw(&Text::new(label.clone(), (38, y), style.clone())).map_err(err)?;
    }
    Ok(())
}

/// Draw the trace chart into `<stem>.png` and `<stem>.svg`.
pub fn trace_chart(stem: &Path, series: &TraceSeries) -> Result<(), PlotError> {
    let n = series.stage.len();
    if n == 0 || series.depth.iter().any(|d| d.len() != n) || series.lines.iter().any(|l| l.1.len() != n) {
        return Err(PlotError::new(stem, "stages, depths and lines must cover the same months"));
    }
    render(stem, SIZE, series)
}
