//! Maps of one run: every unit at its position (tiles for a grid), coloured by adoption month and
//! by depth, as PNG and SVG; and the run month by month as an animated GIF.

use super::{ensure_font, render, with_suffix, Figure, PlotError, FONT};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Never adopted (or not yet): light grey.
pub const NOT_ADOPTED: RGBColor = RGBColor(204, 204, 204);
/// Depth colours, light to dark (a ladder of R rungs takes R of them, evenly spread). Each
/// channel is a multiple of 51, so the GIF's palette holds them exactly.
const DEPTHS: [RGBColor; 8] = [
    RGBColor(255, 204, 51),
    RGBColor(255, 153, 0),
    RGBColor(255, 102, 0),
    RGBColor(204, 51, 0),
    RGBColor(153, 0, 51),
    RGBColor(102, 0, 102),
    RGBColor(51, 0, 102),
    RGBColor(0, 0, 51),
];
/// The static map: two panels (adoption month, depth) side by side.
pub const MAP_SIZE: (u32, u32) = (1600, 760);
/// A frame of the animation.
pub const FRAME_SIZE: (u32, u32) = (800, 600);
/// Worlds of at most this many units have their units' names on the map.
pub const LABELLED: usize = 60;

/// One run's units on the map and what each reached.
pub struct MapRun {
    /// Scenario, innovation and run, for titles.
    pub title: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub level: Vec<u32>,
    /// Unit names, written beside the units of a small world (at most `LABELLED` units).
    pub names: Vec<String>,
    /// Month each rung was reached, per unit (empty: never adopted).
    pub rung_months: Vec<Vec<u32>>,
    pub rungs: u32,
    pub months: u32,
    /// A grid's tile size in position units: units of the deepest level are drawn as tiles.
    pub tile: Option<(f64, f64)>,
    /// Positions are longitude and latitude (x is shrunk by the cosine of the mean latitude).
    pub geo: bool,
    /// Whether each unit is in the population that adopts (empty: all are); the others are
    /// drawn hollow and left out of the share adopted.
    pub member: Vec<bool>,
}

impl MapRun {
    /// Depth of unit `i` at the end of `month`.
    pub fn depth_at(&self, i: usize, month: u32) -> u32 {
        self.rung_months[i].iter().filter(|&&m| m <= month).count() as u32
    }

    /// Colour of depth `d` (1..=rungs) of a ladder of `rungs`; `NOT_ADOPTED` for 0.
    pub fn depth_colour(&self, d: u32) -> RGBColor {
        depth_colour(d, self.rungs)
    }

    /// Colour of an adoption in `month` (0..=months): viridis, early dark, late light.
    pub fn month_colour(&self, month: u32) -> RGBColor {
        ViridisRGB::get_color(month as f64 / self.months.max(1) as f64)
    }

    fn deepest(&self) -> u32 {
        self.level.iter().copied().max().unwrap_or(0)
    }

    fn inside(&self, i: usize) -> bool {
        self.member.get(i).copied().unwrap_or(true)
    }

    /// The share of the population's units at depth 1 or more at the end of `month`, in %.
    fn percent_adopted(&self, month: u32) -> f64 {
        let inside: Vec<usize> = (0..self.x.len()).filter(|&i| self.inside(i)).collect();
        let adopted = inside.iter().filter(|&&i| self.depth_at(i, month) > 0).count();
        100.0 * adopted as f64 / inside.len().max(1) as f64
    }

    /// The legend's swatch for units outside the population, where there are any.
    fn outside_items(&self) -> Vec<(String, RGBColor)> {
        let any = (0..self.x.len()).any(|i| !self.inside(i));
        any.then(|| ("outside the population".to_string(), OUTSIDE)).into_iter().collect()
    }
}

/// The fill of a unit outside the population (drawn hollow, with an outline).
const OUTSIDE: RGBColor = WHITE;

/// Colour of depth `d` of a ladder of `rungs`.
pub fn depth_colour(d: u32, rungs: u32) -> RGBColor {
    if d == 0 {
        return NOT_ADOPTED;
    }
    let last = DEPTHS.len() - 1;
    let at = if rungs <= 1 {
        last / 2
    } else {
        ((d.min(rungs) - 1) as usize * last + (rungs as usize - 1) / 2) / (rungs as usize - 1)
    };
    DEPTHS[at]
}

/// Where units land in a panel: position → pixel, keeping the map's proportions.
struct Projection {
    x0: f64,
    y1: f64,
    sx: f64,
    scale: f64,
    off: (i32, i32),
    /// Radius of a unit of the deepest level, in pixels.
    r: i32,
}

impl Projection {
    fn new(map: &MapRun, (w, h): (u32, u32)) -> Projection {
        let fold = |f: &dyn Fn(f64, f64) -> f64, v: &[f64], init: f64| v.iter().copied().fold(init, f);
        let (x0, x1) = (fold(&f64::min, &map.x, f64::MAX), fold(&f64::max, &map.x, f64::MIN));
        let (y0, y1) = (fold(&f64::min, &map.y, f64::MAX), fold(&f64::max, &map.y, f64::MIN));
        let sx = if map.geo { ((y0 + y1) / 2.0).to_radians().cos() } else { 1.0 };
        // Room for a tile or a dot beyond the outermost centres.
        let (tx, ty) = map.tile.unwrap_or((0.0, 0.0));
        let (dx, dy) = (((x1 - x0) + tx) * sx, (y1 - y0) + ty);
        let pad = 14.0;
        // Names are written to the right of their units: room for the longest (about 7 pixels
        // a character at the labels' size).
        let label = if labelled(map) {
            7.0 * map.names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as f64
        } else {
            0.0
        };
        let w = (w as f64 - label).max(2.0 * pad + 1.0);
        let scale = ((w - 2.0 * pad) / dx.max(1e-9)).min((h as f64 - 2.0 * pad) / dy.max(1e-9));
        let used = (dx * scale, dy * scale);
        let off = (
            ((w - used.0) / 2.0 + tx * sx * scale / 2.0) as i32,
            ((h as f64 - used.1) / 2.0 + ty * scale / 2.0) as i32,
        );
        let n = map.x.len().max(1) as f64;
        let r = ((used.0 * used.1 / n).sqrt() * 0.3).clamp(2.0, 10.0) as i32;
        Projection { x0, y1, sx, scale, off, r }
    }

    fn at(&self, x: f64, y: f64) -> (i32, i32) {
        (
            self.off.0 + ((x - self.x0) * self.sx * self.scale).round() as i32,
            self.off.1 + ((self.y1 - y) * self.scale).round() as i32,
        )
    }
}

/// Draw every unit of `map` in `area`, coloured by `colour(i)`: the deepest level as dots (or
/// tiles), the levels above as larger outlined dots on top, the top level largest.
fn draw_units<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, map: &MapRun, colour: &dyn Fn(usize) -> RGBColor) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let p = Projection::new(map, area.dim_in_pixel());
    let deepest = map.deepest();
    for level in (0..=deepest).rev() {
        for i in (0..map.x.len()).filter(|&i| map.level[i] == level) {
            let (cx, cy) = p.at(map.x[i], map.y[i]);
            let c = if map.inside(i) { colour(i) } else { OUTSIDE };
            match map.tile {
                Some((tw, th)) if level == deepest => {
                    let (hw, hh) = ((tw * p.sx * p.scale / 2.0).max(1.0) as i32, (th * p.scale / 2.0).max(1.0) as i32);
                    area.draw(&Rectangle::new(
                        [(cx - hw + 1, cy - hh + 1), (cx + hw - 1, cy + hh - 1)],
                        c.filled(),
                    ))
                    .map_err(err)?;
                }
                _ if level == deepest => {
                    area.draw(&Circle::new((cx, cy), p.r, c.filled())).map_err(err)?;
                    if !map.inside(i) {
                        area.draw(&Circle::new((cx, cy), p.r, RGBColor(60, 60, 60).stroke_width(1)))
                            .map_err(err)?;
                    }
                }
                _ => {
                    let r = p.r + (deepest - level) as i32 * (p.r / 2).max(1);
                    area.draw(&Circle::new((cx, cy), r, c.filled())).map_err(err)?;
                    area.draw(&Circle::new((cx, cy), r, RGBColor(60, 60, 60).stroke_width(1)))
                        .map_err(err)?;
                }
            }
        }
    }
    if labelled(map) {
        let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for i in 0..map.x.len() {
            let (cx, cy) = p.at(map.x[i], map.y[i]);
            let r = p.r + (deepest - map.level[i]) as i32 * (p.r / 2).max(1);
            area.draw(&Text::new(map.names[i].clone(), (cx + r + 3, cy), style.clone()))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Whether the units' names are written beside them: on a small world that has them.
fn labelled(map: &MapRun) -> bool {
    map.x.len() <= LABELLED && map.names.len() == map.x.len()
}

/// A row of labelled colour swatches at (x, y).
fn swatches<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    items: &[(String, RGBColor)],
    size: u32,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let style = TextStyle::from((FONT, size as f64).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let mut at = x;
    let s = size as i32;
    for (label, c) in items {
        area.draw(&Rectangle::new([(at, y - s / 2), (at + s, y + s / 2)], c.filled()))
            .map_err(err)?;
        area.draw(&Rectangle::new([(at, y - s / 2), (at + s, y + s / 2)], BLACK.stroke_width(1)))
            .map_err(err)?;
        area.draw(&Text::new(label.clone(), (at + s + 6, y), style.clone())).map_err(err)?;
        let (w, _) = area.estimate_text_size(label, &style).map_err(err)?;
        at += s + 6 + w as i32 + 18;
    }
    Ok(())
}

/// The legend of depths: "not adopted" and each rung.
fn depth_items(map: &MapRun) -> Vec<(String, RGBColor)> {
    std::iter::once(("not adopted".to_string(), NOT_ADOPTED))
        .chain((1..=map.rungs).map(|d| (format!("depth {d}"), map.depth_colour(d))))
        .collect()
}

struct StaticMap<'a>(&'a MapRun);

impl Figure for StaticMap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let map = self.0;
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let title = format!(
            "{}: month {}, {:.1} % adopted",
            map.title,
            map.months,
            map.percent_adopted(map.months)
        );
        let body = root.margin(10, 0, 0, 0).titled(&title, (FONT, 28)).map_err(err)?;
        let (w, _) = body.dim_in_pixel();
        let (left, right) = body.split_horizontally(w / 2);
        for (panel, by_month) in [(left, true), (right, false)] {
            let (pw, ph) = panel.dim_in_pixel();
            let head = if by_month {
                "month of adoption"
            } else {
                "depth reached (rungs of the ladder)"
            };
            let style = TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
            panel.draw(&Text::new(head, (pw as i32 / 2, 4), style)).map_err(err)?;
            let maps = panel.margin(32, 64, 10, 10);
            if by_month {
                draw_units(&maps, map, &|i| match map.rung_months[i].first() {
                    Some(&m) => map.month_colour(m),
                    None => NOT_ADOPTED,
                })?;
                // Colour bar: month 0 to the last, and the grey of never.
                // The bar leaves room for its swatches: "never adopted", and "outside the
                // population" where there is one.
                let outside = map.outside_items();
                let room = 260 + 210 * outside.len() as i32;
                let (bx, by, bw, bh) = (40, ph as i32 - 44, (pw as i32 - room).max(120), 18);
                let steps = 120;
                for s in 0..steps {
                    let m = (s as f64 + 0.5) / steps as f64 * map.months as f64;
                    let xa = bx + bw * s / steps;
                    let xb = bx + bw * (s + 1) / steps;
                    panel
                        .draw(&Rectangle::new([(xa, by), (xb, by + bh)], map.month_colour(m as u32).filled()))
                        .map_err(err)?;
                }
                panel
                    .draw(&Rectangle::new([(bx, by), (bx + bw, by + bh)], BLACK.stroke_width(1)))
                    .map_err(err)?;
                let tick = TextStyle::from((FONT, 15).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
                for f in 0..=4 {
                    let m = map.months as i64 * f / 4;
                    let x = bx + bw * f as i32 / 4;
                    panel
                        .draw(&PathElement::new(vec![(x, by + bh), (x, by + bh + 4)], BLACK))
                        .map_err(err)?;
                    panel.draw(&Text::new(m.to_string(), (x, by + bh + 6), tick.clone())).map_err(err)?;
                }
                let mut items = vec![("never adopted".to_string(), NOT_ADOPTED)];
                items.extend(outside);
                swatches(&panel, (bx + bw + 24, by + bh / 2), &items, 16)?;
            } else {
                draw_units(&maps, map, &|i| map.depth_colour(map.depth_at(i, map.months)))?;
                let mut items = depth_items(map);
                items.extend(map.outside_items());
                swatches(&panel, (30, ph as i32 - 34), &items, 16)?;
            }
        }
        Ok(())
    }
}

/// Draw the map of one run into `<stem>.png` and, with `svg`, `<stem>.svg`.
pub fn map_chart(stem: &Path, map: &MapRun, svg: bool) -> Result<(), PlotError> {
    check(stem, map)?;
    if svg {
        render(stem, MAP_SIZE, &StaticMap(map))
    } else {
        super::render_png(stem, MAP_SIZE, &StaticMap(map))
    }
}

fn check(stem: &Path, map: &MapRun) -> Result<(), PlotError> {
    let n = map.x.len();
    if map.y.len() != n || map.level.len() != n || map.rung_months.len() != n || n == 0 {
        return Err(PlotError::new(
            stem,
            "positions, levels and rung months must be given for every unit",
        ));
    }
    Ok(())
}

/// One frame: the units at the end of `month`, coloured by depth, with the month and the share.
struct Frame<'a> {
    map: &'a MapRun,
    month: u32,
}

impl Figure for Frame<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let (map, month) = (self.map, self.month);
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        root.fill(&WHITE).map_err(err)?;
        let (w, h) = root.dim_in_pixel();
        let head = TextStyle::from((FONT, 20).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(map.title.clone(), (w as i32 / 2, 8), head)).map_err(err)?;
        let big = TextStyle::from((FONT, 26).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
        let line = format!(
            "month {month} (year {})   {:.1} % adopted",
            month.div_ceil(12).max(1),
            map.percent_adopted(month)
        );
        root.draw(&Text::new(line, (16, 36), big)).map_err(err)?;
        let maps = root.margin(72, 44, 8, 8);
        draw_units(&maps, map, &|i| map.depth_colour(map.depth_at(i, month)))?;
        let mut items = depth_items(map);
        items.extend(map.outside_items());
        swatches(root, (16, h as i32 - 22), &items, 14)
    }
}

/// The months shown by `frames` frames of a run of `months`: evenly spread, the last month last.
pub fn frame_months(months: u32, frames: u32) -> Vec<u32> {
    let f = frames.clamp(1, months.max(1)) as u64;
    (1..=f).map(|j| (j * months as u64).div_ceil(f) as u32).collect()
}

/// Write the run as an animated GIF of `frames` frames (`delay_cs` hundredths of a second each,
/// the last held 3 s) to `path`, under a temporary name first. Returns the file's size in bytes.
///
/// The palette is fixed (a 6×6×6 colour cube and 39 greys; the map's colours are in it exactly)
/// and each frame after the first stores only the rectangle that changed, with unchanged pixels
/// transparent, so a 20-year run of thousands of units stays a few MB.
pub fn animation(path: &Path, map: &MapRun, frames: u32, delay_cs: u16) -> Result<u64, PlotError> {
    check(path, map)?;
    ensure_font().map_err(|m| PlotError::new(path, m))?;
    let tmp = with_suffix(path, ".tmp");
    let written = write_gif(&tmp, map, frames, delay_cs);
    super::commit(&tmp, path, written.map(|_| ()))?;
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| PlotError::new(path, e.to_string()))
}

fn write_gif(tmp: &Path, map: &MapRun, frames: u32, delay_cs: u16) -> Result<(), String> {
    let (w, h) = FRAME_SIZE;
    let file = std::fs::File::create(tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut enc = gif::Encoder::new(std::io::BufWriter::new(file), w as u16, h as u16, &palette()).map_err(|e| e.to_string())?;
    enc.set_repeat(gif::Repeat::Infinite).map_err(|e| e.to_string())?;
    let mut prev: Option<Vec<u8>> = None;
    let months = frame_months(map.months, frames);
    // Frames are drawn a batch at a time in parallel, then encoded in order.
    let batch = 4 * rayon::current_num_threads();
    for (b, chunk) in months.chunks(batch).enumerate() {
        use rayon::prelude::*;
        let drawn: Vec<Result<Vec<u8>, String>> = chunk.par_iter().map(|&month| frame_indices(map, month)).collect();
        for (j, idx) in drawn.into_iter().enumerate() {
            let idx = idx?;
            let delay = if b * batch + j + 1 == months.len() { 300 } else { delay_cs };
            let frame = match &prev {
                None => gif::Frame {
                    width: w as u16,
                    height: h as u16,
                    buffer: std::borrow::Cow::Borrowed(&idx),
                    delay,
                    ..Default::default()
                },
                Some(p) => changed(p, &idx, w as usize, h as usize, delay),
            };
            enc.write_frame(&frame).map_err(|e| e.to_string())?;
            prev = Some(idx);
        }
    }
    let mut out = enc.into_inner().map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut out).map_err(|e| e.to_string())
}

/// The frame of `month` as palette indices.
fn frame_indices(map: &MapRun, month: u32) -> Result<Vec<u8>, String> {
    let (w, h) = FRAME_SIZE;
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        Frame { map, month }.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let white = nearest(255, 255, 255);
    Ok(rgb
        .chunks_exact(3)
        .map(|p| if p == [255, 255, 255] { white } else { nearest(p[0], p[1], p[2]) })
        .collect())
}

/// Palette index of unchanged pixels in a frame after the first.
const CLEAR: u8 = 255;

/// The fixed palette: a 6×6×6 cube (0, 51, …, 255 per channel), then 39 greys, then `CLEAR`.
fn palette() -> Vec<u8> {
    let mut p = Vec::with_capacity(768);
    for r in 0..6u8 {
        for g in 0..6u8 {
            for b in 0..6u8 {
                p.extend([r * 51, g * 51, b * 51]);
            }
        }
    }
    for k in 1..40u32 {
        let v = (k * 255 / 40) as u8;
        p.extend([v, v, v]);
    }
    p.extend([255, 0, 255]);
    p
}

/// The palette index nearest to a colour: the cube's, or a grey's when closer.
fn nearest(r: u8, g: u8, b: u8) -> u8 {
    let q = |v: u8| (v as u32 + 25) / 51;
    let (qr, qg, qb) = (q(r), q(g), q(b));
    let d = |v: u8, c: u32| (v as i32 - (c * 51) as i32).pow(2);
    let cube = d(r, qr) + d(g, qg) + d(b, qb);
    let mean = (r as u32 + g as u32 + b as u32) / 3;
    let k = ((mean * 40 + 127) / 255).clamp(1, 39);
    let gv = (k * 255 / 40) as u8;
    let grey = [r, g, b].iter().map(|&v| (v as i32 - gv as i32).pow(2)).sum::<i32>();
    if grey < cube {
        (216 + k - 1) as u8
    } else {
        (qr * 36 + qg * 6 + qb) as u8
    }
}

/// The part of `next` that differs from `prev`: its bounding rectangle, unchanged pixels clear.
fn changed(prev: &[u8], next: &[u8], w: usize, h: usize, delay: u16) -> gif::Frame<'static> {
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if prev[y * w + x] != next[y * w + x] {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x0 > x1 {
        // Nothing changed: one clear pixel.
        (x0, y0, x1, y1) = (0, 0, 0, 0);
    }
    let mut buf = Vec::with_capacity((x1 - x0 + 1) * (y1 - y0 + 1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            let (a, b) = (prev[y * w + x], next[y * w + x]);
            buf.push(if a == b { CLEAR } else { b });
        }
    }
    gif::Frame {
        left: x0 as u16,
        top: y0 as u16,
        width: (x1 - x0 + 1) as u16,
        height: (y1 - y0 + 1) as u16,
        buffer: std::borrow::Cow::Owned(buf),
        transparent: Some(CLEAR),
        dispose: gif::DisposalMethod::Keep,
        delay,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_spread_evenly_and_end_at_the_last_month() {
        assert_eq!(frame_months(240, 4), vec![60, 120, 180, 240]);
        assert_eq!(frame_months(12, 12), (1..=12).collect::<Vec<_>>());
        assert_eq!(frame_months(10, 50), (1..=10).collect::<Vec<_>>());
        assert_eq!(frame_months(7, 3), vec![3, 5, 7]);
    }

    /// A 2 × 2 grid of tiles (no parents drawn): unit 0 adopted in month 1 and climbed to
    /// depth 2 in month 3, unit 1 adopted in month 4, units 2 and 3 never.
    fn tiny() -> MapRun {
        MapRun {
            title: "tiny".into(),
            x: vec![0.25, 0.75, 0.25, 0.75],
            y: vec![0.25, 0.25, 0.75, 0.75],
            level: vec![0; 4],
            names: (0..4).map(|i| format!("u{i}")).collect(),
            rung_months: vec![vec![1, 3], vec![4], vec![], vec![]],
            rungs: 2,
            months: 6,
            tile: Some((0.5, 0.5)),
            geo: false,
            member: Vec::new(),
        }
    }

    /// The colour at the middle of each unit's tile when `fig` is drawn at `size`.
    fn centres<F: Figure>(fig: &F, map: &MapRun, size: (u32, u32), margins: (u32, u32, u32, u32)) -> Vec<RGBColor> {
        ensure_font().expect("font");
        let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            fig.draw(&root).expect("drawn");
            root.present().expect("present");
        }
        let (top, bottom, left, right) = margins;
        let area = (size.0 - left - right, size.1 - top - bottom);
        let p = Projection::new(map, area);
        (0..map.x.len())
            .map(|i| {
                let (x, y) = p.at(map.x[i], map.y[i]);
                let at = (((y + top as i32) as u32 * size.0 + (x + left as i32) as u32) * 3) as usize;
                RGBColor(rgb[at], rgb[at + 1], rgb[at + 2])
            })
            .collect()
    }

    #[test]
    fn frames_colour_the_right_tiles() {
        let map = tiny();
        let at = |month| centres(&Frame { map: &map, month }, &map, FRAME_SIZE, (72, 44, 8, 8));
        let (d1, d2) = (depth_colour(1, 2), depth_colour(2, 2));
        assert_eq!(at(1), vec![d1, NOT_ADOPTED, NOT_ADOPTED, NOT_ADOPTED]);
        assert_eq!(at(3), vec![d2, NOT_ADOPTED, NOT_ADOPTED, NOT_ADOPTED]);
        assert_eq!(at(6), vec![d2, d1, NOT_ADOPTED, NOT_ADOPTED]);
    }

    #[test]
    fn the_gif_has_the_frames_asked_for() {
        let dir = std::env::temp_dir().join(format!("pioneer-gif-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a.gif");
        let bytes = animation(&path, &tiny(), 4, 8).expect("gif");
        assert!(bytes > 1000, "{bytes}");
        let mut opts = gif::DecodeOptions::new();
        opts.set_color_output(gif::ColorOutput::Indexed);
        let mut dec = opts.read_info(std::fs::File::open(&path).expect("open")).expect("gif header");
        assert_eq!((dec.width(), dec.height()), (FRAME_SIZE.0 as u16, FRAME_SIZE.1 as u16));
        let mut frames = 0;
        while dec.read_next_frame().expect("frame").is_some() {
            frames += 1;
        }
        // Months 2, 3, 5, 6: one frame each.
        assert_eq!(frames, 4);
        assert!(!dir.join("a.gif.tmp").exists());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn map_colours_are_in_the_palette_exactly() {
        let p = palette();
        assert_eq!(p.len(), 768);
        for c in DEPTHS.iter().chain([&NOT_ADOPTED, &WHITE, &BLACK]) {
            let i = nearest(c.0, c.1, c.2) as usize;
            assert_eq!(&p[3 * i..3 * i + 3], &[c.0, c.1, c.2], "{c:?}");
        }
        // Depths are distinct for every ladder, and deeper is darker.
        for rungs in 1..=8 {
            let cs: Vec<RGBColor> = (1..=rungs).map(|d| depth_colour(d, rungs)).collect();
            for pair in cs.windows(2) {
                let lum = |c: &RGBColor| c.0 as u32 * 3 + c.1 as u32 * 6 + c.2 as u32;
                assert!(lum(&pair[1]) < lum(&pair[0]), "{rungs}: {cs:?}");
            }
        }
    }
}
