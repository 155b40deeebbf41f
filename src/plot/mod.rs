//! Charts of simulation output: the diffusion chart (share of units that adopted an innovation
//! per month, median line and 5–95 % band over replicates) written as PNG and SVG.

pub mod map;
pub mod pairs;
pub mod routes;
pub mod scaling;
pub mod sensitivity;
pub mod sweep;
pub mod trace;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Font embedded so that charts render the same on machines without system fonts.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Family name the font is registered under; every text style in this module uses it.
pub(crate) const FONT: &str = "sans-serif";
static FONT_ONCE: Once = Once::new();
static FONT_OK: AtomicBool = AtomicBool::new(false);

/// Width and height of the chart in pixels (PNG) or user units (SVG).
const SIZE: (u32, u32) = (1000, 600);

/// Line colours, cycled when there are more bands than colours.
pub(crate) const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// One line of the diffusion chart: adoption share (0..1) per month, summarised over replicates.
pub struct Band {
    pub name: String,
    pub months: Vec<u32>,
    pub median: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

#[derive(Debug, thiserror::Error)]
#[error("chart {path}: {message}")]
pub struct PlotError {
    pub path: String,
    pub message: String,
}

impl PlotError {
    pub(crate) fn new(path: &Path, message: impl Into<String>) -> Self {
        PlotError {
            path: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// Registers the embedded font with plotters (once per process); plotters' `ab_glyph` text
/// backend knows no fonts until this is done.
pub(crate) fn ensure_font() -> Result<(), String> {
    FONT_ONCE.call_once(|| {
        let ok = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok();
        FONT_OK.store(ok, Ordering::SeqCst);
    });
    if FONT_OK.load(Ordering::SeqCst) {
        Ok(())
    } else {
        Err("embedded font DejaVuSans.ttf could not be loaded".to_string())
    }
}

/// `<stem><suffix>`, keeping any dots already in the stem (unlike `Path::with_extension`).
pub(crate) fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = stem.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Draw the diffusion chart (x: month, y: share of units, 0..1; one coloured line per
/// band = median, with a translucent filled area between lo and hi, the 5–95 % band; legend with the
/// band names; title; x label "month", y label "share of units") into `<stem>.png`
/// (1000x600) and `<stem>.svg`. Each file is written to a temporary name in the same folder
/// (`<stem>.tmp.png`, `<stem>.tmp.svg`) and renamed when complete.
///
/// Each band's `months` must be ascending and `median`, `lo`, `hi` must have the same length as
/// `months`, otherwise an error is returned and nothing is written. Points where any of the three
/// values is not finite are skipped; values are clamped to 0..1. The folder of `stem` must exist.
pub fn diffusion_chart(stem: &Path, title: &str, bands: &[Band]) -> Result<(), PlotError> {
    for b in bands {
        let n = b.months.len();
        for (what, len) in [("median", b.median.len()), ("lo", b.lo.len()), ("hi", b.hi.len())] {
            if len != n {
                return Err(PlotError::new(
                    stem,
                    format!("band '{}': {n} months but {len} {what} values", b.name),
                ));
            }
        }
    }
    diffusion_chart_observed(stem, title, bands, None)
}

/// Observed shares to set against the bands: black dots joined by a dashed line.
pub struct Points {
    pub name: String,
    pub months: Vec<u32>,
    pub share: Vec<f64>,
    /// Curves fitted to the points (the yardsticks), each named, at the same months; dashed.
    pub fits: Vec<(String, Vec<f64>)>,
    /// The last fitted month (`--fit-until`): the months after are held back, shaded grey.
    pub fitted_until: Option<u32>,
}

/// `diffusion_chart` with an observed curve drawn over the bands.
pub fn diffusion_chart_observed(stem: &Path, title: &str, bands: &[Band], observed: Option<&Points>) -> Result<(), PlotError> {
    render(stem, SIZE, &Diffusion { title, bands, observed })
}

struct Diffusion<'a> {
    title: &'a str,
    bands: &'a [Band],
    observed: Option<&'a Points>,
}

impl Figure for Diffusion<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw(root, self.title, self.bands, self.observed)
    }
}

/// A picture that can be drawn onto any plotters backend (PNG, SVG or a frame in memory).
pub(crate) trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Draw `fig` into `<stem>.png` and `<stem>.svg` of `size`, each under a temporary name first
/// (`<stem>.tmp.png`: plotters picks the encoder from the extension) and renamed when complete.
pub(crate) fn render<F: Figure>(stem: &Path, size: (u32, u32), fig: &F) -> Result<(), PlotError> {
    render_png(stem, size, fig)?;
    let svg = with_suffix(stem, ".svg");
    let svg_tmp = with_suffix(stem, ".tmp.svg");
    let mut text = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        fig.draw(&root).and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    let written = drawn.and_then(|()| fs::write(&svg_tmp, &text).map_err(|e| e.to_string()));
    commit(&svg_tmp, &svg, written)
}

/// Draw `fig` into `<stem>.png` only.
pub(crate) fn render_png<F: Figure>(stem: &Path, size: (u32, u32), fig: &F) -> Result<(), PlotError> {
    ensure_font().map_err(|m| PlotError::new(stem, m))?;
    let png = with_suffix(stem, ".png");
    let png_tmp = with_suffix(stem, ".tmp.png");
    let drawn = {
        let root = BitMapBackend::new(&png_tmp, size).into_drawing_area();
        fig.draw(&root).and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    commit(&png_tmp, &png, drawn)
}

/// Renames `tmp` to `dest` when `result` is Ok; otherwise removes `tmp` (best effort) and
/// reports the error against `dest`.
pub(crate) fn commit(tmp: &Path, dest: &Path, result: Result<(), String>) -> Result<(), PlotError> {
    let result = result.and_then(|()| fs::rename(tmp, dest).map_err(|e| format!("cannot rename {} to it: {e}", tmp.display())));
    if let Err(message) = result {
        // The error being reported matters more than a leftover temporary file.
        let _ = fs::remove_file(tmp);
        return Err(PlotError::new(dest, message));
    }
    Ok(())
}

/// Draws the chart onto any plotters backend.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, bands: &[Band], observed: Option<&Points>) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;

    let (x0, x1) = bands
        .iter()
        .flat_map(|b| b.months.iter().copied())
        .fold(None, |acc: Option<(u32, u32)>, m| match acc {
            None => Some((m, m)),
            Some((a, b)) => Some((a.min(m), b.max(m))),
        })
        .unwrap_or((0, 1));
    let x1 = x1.max(x0.saturating_add(1));

    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 28))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0f64..1f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("month")
        .y_desc("share of units")
        .axis_desc_style((FONT, 18))
        .label_style((FONT, 15))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()
        .map_err(err)?;

    // Finite points of each band, clamped to the y range.
    let points: Vec<Vec<(u32, f64, f64, f64)>> = bands
        .iter()
        .map(|b| {
            b.months
                .iter()
                .zip(&b.median)
                .zip(b.lo.iter().zip(&b.hi))
                .filter(|((_, md), (lo, hi))| md.is_finite() && lo.is_finite() && hi.is_finite())
                .map(|((&m, &md), (&lo, &hi))| (m, md.clamp(0.0, 1.0), lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)))
                .collect()
        })
        .collect();

    // All shaded areas first, so that no area covers another band's line.
    for (i, pts) in points.iter().enumerate() {
        if pts.is_empty() {
            continue;
        }
        let colour = COLOURS[i % COLOURS.len()];
        let outline: Vec<(u32, f64)> = pts
            .iter()
            .map(|&(m, _, _, hi)| (m, hi))
            .chain(pts.iter().rev().map(|&(m, _, lo, _)| (m, lo)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, colour.mix(0.2).filled())))
            .map_err(err)?;
    }

    for (i, (band, pts)) in bands.iter().zip(&points).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().map(|&(m, md, _, _)| (m, md)), colour.stroke_width(2)))
            .map_err(err)?
            .label(band.name.as_str())
            .legend(move |(x, y)| {
                EmptyElement::at((x, y))
                    + Rectangle::new([(0, -6), (24, 6)], colour.mix(0.2).filled())
                    + PathElement::new(vec![(0, 0), (24, 0)], colour.stroke_width(2))
            });
    }

    if let Some((o, until)) = observed.and_then(|o| o.fitted_until.map(|u| (o, u))) {
        let end = o.months.last().copied().unwrap_or(until).max(until);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(until, 0.0), (end, 1.0)],
                RGBColor(120, 120, 120).mix(0.12).filled(),
            )))
            .map_err(err)?
            .label("held back, forecast")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], RGBColor(120, 120, 120).mix(0.25).filled()));
    }

    if let Some(o) = observed {
        let pts: Vec<(u32, f64)> = o.months.iter().copied().zip(o.share.iter().map(|v| v.clamp(0.0, 1.0))).collect();
        // The observed years, joined by a thin line.
        let dashes: Vec<PathElement<(u32, f64)>> = pts
            .windows(2)
            .map(|w| PathElement::new(vec![w[0], w[1]], BLACK.stroke_width(1)))
            .collect();
        chart.draw_series(dashes).map_err(err)?;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 5, BLACK.filled())))
            .map_err(err)?
            .label(o.name.as_str())
            .legend(|(x, y)| Circle::new((x + 12, y), 5, BLACK.filled()));
        for (j, (name, share)) in o.fits.iter().enumerate() {
            let colour = [RGBColor(90, 90, 90), RGBColor(200, 80, 20)][j % 2];
            let line: Vec<(u32, f64)> = o.months.iter().copied().zip(share.iter().map(|v| v.clamp(0.0, 1.0))).collect();
            chart
                .draw_series(DashedLineSeries::new(line, 8, 5, colour.stroke_width(2)))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (9, 0)], colour.stroke_width(2))
                        + PathElement::new(vec![(15, 0), (24, 0)], colour.stroke_width(2))
                });
        }
    }

    if !bands.is_empty() {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FONT, 16))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// Median and 5 %/95 % quantiles of each column: `runs[r][m]` → (median, lo, hi) per m.
///
/// Every quantile, the median included, uses the nearest-rank method: the column's values are
/// sorted ascending and the p-quantile of n values is the value at 1-based rank ⌈p·n⌉ (at least 1),
/// so it is always one of the observed values (for even n the median is the lower middle value).
/// NaN values are ignored; a column of only NaN gives NaN. The number of columns is the length of
/// the shortest run; empty input → empty output.
pub fn quantiles(runs: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let columns = runs.iter().map(Vec::len).min().unwrap_or(0);
    let mut median = Vec::with_capacity(columns);
    let mut lo = Vec::with_capacity(columns);
    let mut hi = Vec::with_capacity(columns);
    let mut column = Vec::with_capacity(runs.len());
    for m in 0..columns {
        column.clear();
        column.extend(runs.iter().map(|r| r[m]).filter(|v| !v.is_nan()));
        column.sort_by(f64::total_cmp);
        median.push(crate::analysis::nearest_rank(&column, 50));
        lo.push(crate::analysis::nearest_rank(&column, 5));
        hi.push(crate::analysis::nearest_rank(&column, 95));
    }
    (median, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_nearest_rank() {
        // 20 runs, 2 months: month 0 holds 1..=20 (shuffled), month 1 holds 0.1 · (20..=1).
        let order = [7, 3, 20, 11, 1, 15, 9, 18, 2, 14, 6, 19, 10, 4, 17, 12, 5, 16, 8, 13];
        let runs: Vec<Vec<f64>> = order.iter().map(|&k| vec![f64::from(k), 0.1 * f64::from(21 - k)]).collect();
        let (md, lo, hi) = quantiles(&runs);
        // n = 20: ranks ⌈0.5·20⌉ = 10, ⌈0.05·20⌉ = 1, ⌈0.95·20⌉ = 19.
        assert_eq!(md, vec![10.0, 0.1 * 10.0]);
        assert_eq!(lo, vec![1.0, 0.1 * 1.0]);
        assert_eq!(hi, vec![19.0, 0.1 * 19.0]);
    }

    #[test]
    fn quantiles_small_and_edge_cases() {
        let empty: (Vec<f64>, Vec<f64>, Vec<f64>) = (vec![], vec![], vec![]);
        assert_eq!(quantiles(&[]), empty);
        assert_eq!(quantiles(&[vec![], vec![]]), empty);
        // One run: every quantile is that run.
        assert_eq!(quantiles(&[vec![0.25, 0.5]]), (vec![0.25, 0.5], vec![0.25, 0.5], vec![0.25, 0.5]));
        // Ragged runs are cut to the shortest and NaN is ignored, leaving n = 4 values: ranks
        // ⌈2⌉ = 2 (the lower middle value), ⌈0.2⌉ = 1, ⌈3.8⌉ = 4.
        let runs = vec![vec![0.3, 9.0], vec![0.1], vec![f64::NAN], vec![0.2, 9.0], vec![0.4]];
        assert_eq!(quantiles(&runs), (vec![0.2], vec![0.1], vec![0.4]));
    }

    fn band(name: &str, shift: f64) -> Band {
        let months: Vec<u32> = (0..=120).collect();
        let logistic = |m: u32, s: f64| 1.0 / (1.0 + (-(f64::from(m) - 60.0 - s) / 10.0).exp());
        Band {
            name: name.to_string(),
            median: months.iter().map(|&m| logistic(m, shift)).collect(),
            lo: months.iter().map(|&m| logistic(m, shift + 12.0)).collect(),
            hi: months.iter().map(|&m| logistic(m, shift - 12.0)).collect(),
            months,
        }
    }

    fn scratch_dir(tag: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("pioneer-plot-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    #[test]
    fn chart_writes_png_and_svg() {
        let dir = scratch_dir("chart");
        let stem = dir.join("diffusion.v1");
        let bands = [band("baseline", 0.0), band("with network", -20.0)];
        diffusion_chart(&stem, "Diffusion of innovation", &bands).expect("chart");

        let png = fs::read(dir.join("diffusion.v1.png")).expect("read png");
        assert!(png.len() > 1000, "png too small: {} bytes", png.len());
        assert!(png.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]));

        let svg = fs::read_to_string(dir.join("diffusion.v1.svg")).expect("read svg");
        assert!(svg.contains("<svg"));
        assert!(svg.contains("baseline"));
        assert!(svg.contains("with network"));
        assert!(svg.contains("Diffusion of innovation"));

        let names: Vec<String> = fs::read_dir(&dir)
            .expect("list dir")
            .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "left behind: {names:?}");
        assert_eq!(names.len(), 2, "{names:?}");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn chart_rejects_mismatched_band_and_missing_folder() {
        let dir = scratch_dir("bad");
        let mut b = band("short", 0.0);
        b.hi.pop();
        let e = diffusion_chart(&dir.join("x"), "t", &[b]).expect_err("mismatch");
        assert!(e.message.contains("hi"), "{e}");

        let missing = dir.join("no-such-folder").join("x");
        let e = diffusion_chart(&missing, "t", &[band("a", 0.0)]).expect_err("missing folder");
        assert!(e.path.ends_with("x.png"), "{e}");
        assert_eq!(fs::read_dir(&dir).expect("list dir").count(), 0);
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
