//! The charts of `pioneer run` for every bundled scenario: each file there, at its size, not
//! blank; the animation with the frames asked for; text drawn with no system fonts at all.

use crate::common::{pioneer, temp, text};
use std::path::Path;

/// (file, width, height) of the charts of a scenario with one innovation.
const CHARTS: [(&str, u32, u32); 3] = [("diffusion", 1000, 600), ("map", 1600, 760), ("routes", 1000, 900)];

/// Share of pixels that are not white, and the number of distinct colours.
fn ink(path: &Path) -> (u32, u32, f64, usize) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8();
    let (w, h) = img.dimensions();
    let mut colours = std::collections::HashSet::new();
    let mut inked = 0usize;
    for p in img.pixels() {
        colours.insert(p.0);
        if p.0 != [255, 255, 255] {
            inked += 1;
        }
    }
    (w, h, inked as f64 / (w * h) as f64, colours.len())
}

fn gif_frames(path: &Path) -> usize {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut dec = gif::DecodeOptions::new().read_info(file).expect("a GIF");
    let mut n = 0;
    while dec.read_next_frame().expect("a frame").is_some() {
        n += 1;
    }
    n
}

#[test]
fn every_bundled_scenario_draws_every_chart() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let dir = temp("charts");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_stem().expect("stem").to_string_lossy().into_owned();
        let sc = pioneer::scenario::Scenario::load(&path).expect("loads");
        let kn = sc.spec.innovation.len().max(1);
        let out = dir.join(&name);
        let args = [
            "run",
            path.to_str().expect("utf8"),
            "--months",
            "36",
            "--replicates",
            "2",
            "--backend",
            "cpu",
            "--frames",
            "5",
            "--out",
            out.to_str().expect("utf8"),
        ];
        let o = pioneer(&args);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let stems: Vec<String> = (0..kn)
            .map(|k| if kn > 1 { format!("-{}", k + 1) } else { String::new() })
            .collect();
        for (chart, w, h) in CHARTS {
            let files: Vec<String> = if chart == "diffusion" {
                vec!["diffusion".into()]
            } else {
                stems.iter().map(|s| format!("{chart}{s}")).collect()
            };
            for f in files {
                let (pw, ph, share, colours) = ink(&out.join(format!("{f}.png")));
                assert_eq!((pw, ph), (w, h), "{name}/{f}.png");
                // A chart is mostly white, but axes, text and data leave their ink.
                assert!(share > 0.02 && share < 0.9, "{name}/{f}.png: {share:.3} of pixels inked");
                assert!(colours > 20, "{name}/{f}.png: {colours} colours");
                let svg = std::fs::read_to_string(out.join(format!("{f}.svg"))).expect("svg");
                assert!(svg.starts_with("<svg") && svg.len() > 5000, "{name}/{f}.svg");
            }
        }
        for s in &stems {
            assert_eq!(gif_frames(&out.join(format!("animation{s}.gif"))), 5, "{name}");
        }
        seen += 1;
    }
    assert!(seen >= 8, "{seen} scenarios");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The charts carry their own font: with no fontconfig, no font folders and an empty home, the
/// titles are still drawn (dark pixels in the title band of each chart).
#[test]
fn charts_render_with_no_system_fonts() {
    let dir = temp("nofonts");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let out = dir.join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(["run", scenario.to_str().expect("utf8"), "--months", "12", "--replicates", "2"])
        .args(["--backend", "cpu", "--out", out.to_str().expect("utf8")])
        .env("FONTCONFIG_FILE", empty.join("none.conf"))
        .env("FONTCONFIG_PATH", &empty)
        .env("XDG_DATA_DIRS", &empty)
        .env("XDG_DATA_HOME", &empty)
        .env("HOME", &empty)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    for f in ["diffusion.png", "map.png", "routes.png"] {
        let img = image::open(out.join(f)).expect("png").to_rgb8();
        let dark = (0..img.width())
            .flat_map(|x| (0..40).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 200, "{f}: the title has {dark} dark pixels");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pioneer trace --chart` draws the unit's timeline; without the flag, no chart.
#[test]
fn trace_chart_is_drawn_when_asked() {
    let dir = temp("trace-chart");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/jdistrict.toml");
    let s = scenario.to_str().expect("utf8");
    let (with, without) = (dir.join("with"), dir.join("without"));
    let o = pioneer(&[
        "trace",
        s,
        "--run",
        "0",
        "--unit",
        "J",
        "--chart",
        "--out",
        with.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("trace-J.png"), "{}", text(&o));
    let (w, h, share, colours) = ink(&with.join("trace-J.png"));
    assert_eq!((w, h), (1200, 860));
    assert!(share > 0.05 && colours > 20, "{share} {colours}");
    assert!(with.join("trace-J.svg").exists());
    let o = pioneer(&["trace", s, "--run", "0", "--unit", "J", "--out", without.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!without.join("trace-J.png").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--observed`: the curve is drawn over the band and compared; the run's own median as the
/// observed curve is at distance 0.
#[test]
fn observed_data_are_set_against_the_band() {
    let dir = temp("observed");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/jdistrict.toml");
    let s = scenario.to_str().expect("utf8");
    let first = dir.join("first.csv");
    std::fs::write(&first, "year,count\n2014,1\n2016,6\n2019,12\n").expect("write");
    let run = |obs: &Path, out: &str| {
        let out = dir.join(out);
        let o = pioneer(&[
            "run",
            s,
            "--backend",
            "cpu",
            "--observed",
            obs.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        (text(&o), std::fs::read_to_string(out.join("observed.csv")).expect("observed.csv"))
    };
    let (said, table) = run(&first, "a");
    assert!(said.contains("observed") && said.contains("RMSE"), "{said}");
    let rows: Vec<Vec<String>> = table.lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect();
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["2014", "2016", "2019"]);
    assert_eq!(rows[1][1], "36", "the year's last month");
    // The yardsticks: each curve's values beside the data, and the RMSE the summary prints is
    // the one of those values.
    assert!(table.starts_with("year,month,observed_share,simulated_median,simulated_q05,simulated_q95,logistic,bass\n"));
    for (col, name) in [(6, "logistic"), (7, "bass")] {
        let sq: f64 = rows
            .iter()
            .map(|r| (r[2].parse::<f64>().expect("share") - r[col].parse::<f64>().expect(name)).powi(2))
            .sum();
        let rmse = (sq / rows.len() as f64).sqrt();
        assert!(said.contains(&format!("yardstick {name}: RMSE {rmse:.3}")), "{name} {rmse}: {said}");
    }
    // The simulated medians, given back as the observed curve.
    let own = dir.join("own.csv");
    let body: String = rows.iter().map(|r| format!("{},{}\n", r[0], r[3])).collect();
    std::fs::write(&own, format!("year,share\n{body}")).expect("write");
    let (said, _) = run(&own, "b");
    assert!(said.contains("simulated median 0.000;"), "{said}");
    let (_, _, share, colours) = ink(&dir.join("b").join("diffusion.png"));
    assert!(share > 0.02 && colours > 20);
    // Without start_year, or with a year outside the run: exit 2 naming the field.
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mandate.toml");
    let o = pioneer(&[
        "run",
        base.to_str().expect("utf8"),
        "--observed",
        own.to_str().expect("utf8"),
        "--out",
        dir.join("c").to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("mandate.toml: field `start_year`"), "{}", text(&o));
    std::fs::write(&own, "year,share\n2030,0.5\n").expect("write");
    let o = pioneer(&[
        "run",
        s,
        "--observed",
        own.to_str().expect("utf8"),
        "--out",
        dir.join("d").to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("own.csv:2: field `year`: year 2030 is outside the run"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pioneer run --report` and `pioneer report DIR` (a run's folder and a sweep's): one page that
/// embeds every chart and refers to nothing outside itself.
#[test]
fn reports_embed_every_chart_and_nothing_else() {
    let dir = temp("report");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = dir.join("run");
    let scenario = root.join("scenarios/jdistrict.toml");
    let o = pioneer(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--backend",
        "cpu",
        "--frames",
        "4",
        "--report",
        "--out",
        run.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let sweep = dir.join("sweep");
    let file = root.join("scenarios/sweeps/incentive-space.toml");
    let o = pioneer(&[
        "sweep",
        file.to_str().expect("utf8"),
        "--backend",
        "cpu",
        "--replicates",
        "2",
        "--months",
        "24",
        "--out",
        sweep.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = pioneer(&["report", sweep.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", text(&o));
    for (folder, charts) in [(&run, run.clone()), (&sweep, sweep.join("charts"))] {
        let html = std::fs::read_to_string(folder.join("report.html")).expect("report.html");
        let images: Vec<String> = std::fs::read_dir(&charts)
            .expect("charts")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".png") || n.ends_with(".gif"))
            .collect();
        assert!(images.len() >= 3, "{images:?}");
        assert_eq!(html.matches("src=\"data:image/").count(), images.len(), "{}", folder.display());
        for name in &images {
            assert!(
                html.contains(&format!(
                    "alt=\"{}",
                    if folder == &sweep { format!("charts/{name}") } else { name.clone() }
                )),
                "{name}"
            );
        }
        for outside in ["http:", "https:", "<link", "<script", "url(", "src=\"/", "src=\"file"] {
            assert!(!html.contains(outside), "{}: `{outside}`", folder.display());
        }
        assert!(html.contains("Key numbers"));
    }
    let o = pioneer(&["report", dir.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no manifest.json"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Observed events on the US states: the run prints pioneer's and the event-history logit's
/// Brier score and AUC of adopted-by-year, and pioneer's Brier is the one its own units.csv
/// gives: over the 50 states and the observed years, the share of runs adopted by each year's
/// end against whether the state had.
#[test]
fn observed_events_are_scored_unit_by_unit() {
    let dir = temp("observed-events");
    let events = dir.join("events.csv");
    let rows = "state,adopt_year\nCalifornia,1966\nOregon,1967\nNevada,1968\nWashington,1968\nArizona,1970\nIdaho,1971\nUtah,1972\nNew York,1972\nTexas,1974\nOhio,1975\n";
    std::fs::write(&events, rows).expect("write");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us-states.toml");
    let out = dir.join("run");
    let o = pioneer(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--backend",
        "cpu",
        "--units",
        "--observed",
        events.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("adopted-by-year, event-history logit: Brier"), "{said}");
    assert!(said.contains("event-history logit: intercept"), "{said}");
    let units = std::fs::read_to_string(out.join("units.csv")).expect("units.csv");
    let head: Vec<&str> = units.lines().next().expect("header").split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).expect(name);
    let (run, unit, month) = (col("run"), col("unit"), col("adopted_month"));
    let mut adopted: std::collections::HashMap<(usize, usize), u32> = Default::default();
    let mut runs = 0;
    for line in units.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (r, u): (usize, usize) = (f[run].parse().expect("run"), f[unit].parse().expect("unit"));
        runs = runs.max(r + 1);
        if let Ok(m) = f[month].parse::<u32>() {
            adopted.insert((r, u), m);
        }
    }
    let observed: std::collections::HashMap<&str, i32> = rows
        .lines()
        .skip(1)
        .map(|l| l.split_once(',').expect("row"))
        .map(|(s, y)| (s, y.parse().expect("year")))
        .collect();
    let names: Vec<String> = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us-states/units.csv"))
        .expect("units")
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).expect("name").to_string())
        .collect();
    let (mut sq, mut cells) = (0.0, 0.0);
    for (u, name) in names.iter().enumerate().skip(1) {
        for y in 1966..=1975 {
            let by = ((y - 1960 + 1) * 12) as u32;
            let p = (0..runs).filter(|&r| adopted.get(&(r, u)).is_some_and(|&m| m <= by)).count() as f64 / runs as f64;
            let was = observed.get(name.as_str()).is_some_and(|&a| a <= y) as u8 as f64;
            sq += (p - was).powi(2);
            cells += 1.0;
        }
    }
    assert_eq!(cells, 500.0);
    let brier = sq / cells;
    assert!(
        said.contains(&format!("adopted-by-year, pioneer: Brier {brier:.3}, AUC")),
        "{brier}: {said}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
