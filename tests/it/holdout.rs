//! Held-back years and event-level distances (issue 24, items 5 and 6): `--fit-until` fits the
//! yardsticks (and a calibration) to the early years and scores each forecast of the rest;
//! `calibrate --distance` fits unit-level features of the events, not only the curve.

use crate::common::{pioneer, run, scenario, temp, text};
use pioneer::app::calibrate::{calibrate, CalibrateArgs};
use pioneer::model::params::NEVER;
use std::path::{Path, PathBuf};

/// The US-states scenario with `params` added to its `[params]`, its run seed `seed`.
fn us_states(params: &str, seed: u64) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/us-states.toml");
    let text = std::fs::read_to_string(path).expect("us-states.toml");
    let text = text.replacen("\nseed = 1\n", &format!("\nseed = {seed}\n"), 1);
    assert!(text.contains(&format!("\nseed = {seed}\n")), "the run's seed is set");
    text.replacen("\n[params]\n", &format!("\n[params]\n{params}\n"), 1)
}

/// Run 0 of `toml`: the states' adoptions as `unit,date` events (the year of the month).
fn events_of(toml: &str) -> (String, usize) {
    let ran = run(&scenario(toml));
    let n = ran.out.state.units;
    let mut rows = String::from("unit,date\n");
    let mut count = 0;
    for i in 0..n {
        let m = ran.out.state.adopt_month[i];
        if ran.model.member[i] && m != NEVER {
            rows.push_str(&format!("{},{}\n", ran.model.world.names[i], 1960 + (m as i32 - 1) / 12));
            count += 1;
        }
    }
    (rows, count)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8")
}

/// A truth pioneer made, in a fresh folder: the scenario and its events.
fn truth(name: &str, params: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = temp(name);
    let toml = us_states(params, 5);
    let (rows, adopters) = events_of(&toml.replacen("\nreplicates = 16\n", "\nreplicates = 1\n", 1));
    assert!(adopters >= 20, "{adopters} adopters");
    let (sc, ev) = (dir.join("truth.toml"), dir.join("events.csv"));
    std::fs::write(&sc, toml).expect("write");
    std::fs::write(&ev, rows).expect("write");
    (dir, sc, ev)
}

/// `run --observed --fit-until half`: the yardsticks are fitted to the years until half the
/// eventual adopters had adopted, every predictor's forecast error of the rest is printed and
/// in the manifest, and the chart shades the held-back years. Refused: without --observed, a
/// year that leaves fewer than three fitted years or none held back, a word that is not `half`.
#[test]
fn held_back_years_are_forecast_and_scored() {
    let (dir, sc, ev) = truth("fit-until", "");
    let out = dir.join("run");
    let o = pioneer(&[
        "run",
        s(&sc),
        "--backend",
        "cpu",
        "--observed",
        s(&ev),
        "--fit-until",
        "half",
        "--out",
        s(&out),
    ]);
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).expect("manifest")).expect("json");
    let obs = &manifest["observed"];
    let until = obs["fit_until"].as_i64().expect("fit_until") as i32;
    // The first year at half the last observed share.
    let years: Vec<i32> = std::fs::read_to_string(&ev)
        .expect("events")
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().expect("date").parse().expect("year"))
        .collect();
    let mut sorted = years.clone();
    sorted.sort();
    assert_eq!(
        until,
        sorted[sorted.len().div_ceil(2) - 1],
        "half of {} adopters by {until}",
        years.len()
    );
    let sticks = obs["yardsticks"].as_array().expect("yardsticks");
    let curve = |name: &str| {
        sticks
            .iter()
            .find(|y| y["curve"] == name)
            .unwrap_or_else(|| panic!("{name}: {sticks:?}"))
    };
    for name in ["pioneer", "logistic", "bass"] {
        let f = curve(name)["forecast_rmse_share"].as_f64().unwrap_or(f64::NAN);
        assert!(f.is_finite() && (0.0..=1.0).contains(&f), "{name}: {f}");
    }
    let events: Vec<_> = sticks.iter().filter(|y| y.get("events").is_some()).collect();
    assert_eq!(events.len(), 2, "{sticks:?}");
    for e in events {
        let auc = e["forecast_auc"].as_f64().expect("forecast auc");
        assert!((0.0..=1.0).contains(&auc), "{e}");
    }
    assert!(said.contains(&format!("fitted on the years to {until}")), "{said}");
    assert!(said.contains("forecast Brier"), "{said}");
    for (flags, why) in [
        (vec!["--fit-until", "1990"], "give --observed too"),
        (vec!["--observed", s(&ev), "--fit-until", "1961"], "at least three years"),
        (vec!["--observed", s(&ev), "--fit-until", "2013"], "and one after"),
        (vec!["--observed", s(&ev), "--fit-until", "soon"], "`half`"),
    ] {
        let mut args = vec!["run", s(&sc), "--backend", "cpu", "--out"];
        let o2 = dir.join("refused");
        args.push(s(&o2));
        args.extend(flags);
        let o = pioneer(&args);
        let said = text(&o);
        assert_eq!(o.status.code(), Some(2), "{said}");
        assert!(said.contains("--fit-until") && said.contains(why), "{said}");
        assert!(!o2.exists(), "nothing written when refused");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Calibration's distance flags: events need unit,date data; unknown words and no weight are
/// refused at `--distance`.
#[test]
fn event_distances_are_refused_without_events() {
    let (dir, sc, ev) = truth("distance-refused", "");
    let curve = dir.join("curve.csv");
    std::fs::write(&curve, "year,count\n1970,5\n1980,20\n1990,40\n").expect("write");
    for (observed, distance, why) in [
        (&curve, "events", "need unit,date events"),
        (&curve, "curve,neighbours", "need unit,date events"),
        (&ev, "order", "the distances are"),
        (&ev, "curve=0", "give some weight"),
    ] {
        let o = pioneer(&[
            "calibrate",
            s(&sc),
            "--observed",
            s(observed),
            "--vary",
            "params.r_need=0.01..0.4",
            "--distance",
            distance,
            "--out",
            s(&dir.join("cal")),
        ]);
        let said = text(&o);
        assert_eq!(o.status.code(), Some(2), "{distance}: {said}");
        assert!(said.contains("--distance") && said.contains(why), "{distance}: {said}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Events carry what the curve cannot: where the adopters are. Data pioneer made with the
/// neighbour gap alone driving the need (w_h = 1), calibrated on (r_need, w_h) by the curve
/// alone and by the curve with the neighbours' share (the share of adopters with a neighbour
/// adopted in an earlier year): the curve leaves w_h near its prior (mean 0.5, sd 0.29), the
/// neighbours pull it toward 1 with a narrower posterior. Measured: curve 0.48 ± 0.29,
/// with neighbours 0.84 ± 0.14.
#[test]
fn the_neighbours_distance_recovers_contagion_the_curve_misses() {
    let (dir, sc, ev) = truth("distance-neighbours", "w_h = 1");
    let fit = |distance: &str| {
        let r = calibrate(&CalibrateArgs {
            scenario: sc.clone(),
            observed: ev.clone(),
            vary: vec!["params.r_need=0.005..0.4".into(), "params.w_h=0..1".into()],
            particles: 100,
            generations: 4,
            replicates: 4,
            predictive: 10,
            seed: Some(1),
            backend: "cpu".into(),
            out: Some(dir.join(distance.replace([',', '='], "-"))),
            distance: Some(distance.into()),
            ..Default::default()
        })
        .expect("calibrates");
        r.generations.last().expect("a generation").mean_sd(1)
    };
    let (curve, near) = (fit("curve"), fit("curve=1,neighbours=1"));
    assert!(near.1 < 0.7 * curve.1, "sd of w_h: curve {curve:?}, with neighbours {near:?}");
    assert!(
        (1.0 - near.0) < 0.6 * (1.0 - curve.0),
        "mean of w_h: curve {curve:?}, with neighbours {near:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
