//! The scaling chart of `pioneer bench --scaling`: agent-months per second and bytes of state
//! against the number of runs and against the world's size, on log–log axes.

use super::{render, PlotError, COLOURS, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One measured point of a curve: x (runs or units), agent-months per second, bytes of state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub rate: f64,
    pub bytes: f64,
}

/// A curve against runs or against units (empty: that panel says "not measured").
pub struct Curve<'a> {
    /// The x axis, e.g. "runs in the batch (china baseline, 3,208 units)".
    pub x_label: &'a str,
    pub points: &'a [Point],
}

/// Draw `<stem>.png` and `<stem>.svg` (1200 × 800): top row agent-months/s, bottom row the batch's
/// state in bytes, left against runs, right against units; both axes logarithmic.
pub fn scaling_chart(stem: &Path, title: &str, runs: &Curve, units: &Curve) -> Result<(), PlotError> {
    for c in [runs, units] {
        if c.points.iter().any(|p| !(p.x > 0.0 && p.rate > 0.0 && p.bytes > 0.0)) {
            return Err(PlotError::new(stem, format!("{}: every value must be positive", c.x_label)));
        }
    }
    render(stem, (1200, 800), &Scaling { title, runs, units })
}

struct Scaling<'a> {
    title: &'a str,
    runs: &'a Curve<'a>,
    units: &'a Curve<'a>,
}

impl super::Figure for Scaling<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(e)?;
        let root = root.titled(self.title, (FONT, 26)).map_err(e)?;
        let panels = root.split_evenly((2, 2));
        for (at, panel) in panels.iter().enumerate() {
            let curve = if at % 2 == 0 { self.runs } else { self.units };
            let (what, get): (&str, fn(&Point) -> f64) = if at < 2 {
                ("agent-months per second", |p| p.rate)
            } else {
                ("bytes of state (the batch)", |p| p.bytes)
            };
            panel_chart(panel, curve, what, get, COLOURS[at / 2]).map_err(|m| format!("{}: {m}", curve.x_label))?;
        }
        Ok(())
    }
}

fn panel_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Curve,
    what: &str,
    get: fn(&Point) -> f64,
    colour: RGBColor,
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    if c.points.is_empty() {
        area.draw(&Text::new(
            format!("{}: not measured", c.x_label),
            (40, 150),
            (FONT, 18).into_font(),
        ))
        .map_err(e)?;
        return Ok(());
    }
    // Whole decades, so that each axis has labelled ticks.
    let span = |v: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = v.fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(x), hi.max(x)));
        let (lo, hi) = (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil()));
        // A margin so that points on a decade are not drawn on the frame.
        (lo * 0.7, if hi > lo { hi } else { lo * 10.0 } * 1.4)
    };
    let (x0, x1) = span(&mut c.points.iter().map(|p| p.x));
    let (y0, y1) = span(&mut c.points.iter().map(get));
    let mut chart = ChartBuilder::on(area)
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(c.x_label)
        .y_desc(what)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.1e}"))
        // Few minor lines: the log scale's crowd of them near the top read as a grey band.
        .max_light_lines(2)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .draw()
        .map_err(e)?;
    let pts: Vec<(f64, f64)> = c.points.iter().map(|p| (p.x, get(p))).collect();
    chart.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2))).map_err(e)?;
    chart
        .draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 4, colour.filled())))
        .map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_both_curves_and_refuses_non_positive_values() {
        let dir = std::env::temp_dir().join(format!("pioneer-scaling-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stem = dir.join("scaling");
        let pts = [
            Point {
                x: 1.0,
                rate: 1e6,
                bytes: 4e5,
            },
            Point {
                x: 4.0,
                rate: 3e6,
                bytes: 1.6e6,
            },
        ];
        let runs = Curve {
            x_label: "runs",
            points: &pts,
        };
        let units = Curve {
            x_label: "units",
            points: &[],
        };
        scaling_chart(&stem, "t", &runs, &units).unwrap();
        let png = std::fs::read(stem.with_extension("png")).unwrap();
        assert!(png.len() > 10_000, "a chart, not an empty picture: {} bytes", png.len());
        let bad = [Point {
            x: 0.0,
            rate: 1.0,
            bytes: 1.0,
        }];
        let err = scaling_chart(
            &dir.join("bad"),
            "t",
            &Curve {
                x_label: "runs",
                points: &bad,
            },
            &units,
        )
        .unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
        assert!(!dir.join("bad.png").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
