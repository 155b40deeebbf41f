//! The event-history panel (`pioneer run --panel`, `pioneer panel --fit`): its rows against the
//! run's units.csv, its lags, and the neighbour coefficient with and without neighbours.

use crate::common::{pioneer, temp, text};
use std::collections::HashMap;
use std::path::Path;

fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let body = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = body.lines();
    let head: Vec<String> = lines.next().expect("header").split(',').map(String::from).collect();
    (head, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

/// The classroom's panel, year by year: one row per unit-year at risk and the year of adoption,
/// exactly one `adopt = 1` per adopter in the year units.csv gives, and neighbour counts lagged
/// (zero in the first year, never falling, one degree per unit).
#[test]
fn the_panel_has_a_row_per_unit_period_at_risk_with_lagged_covariates() {
    let dir = temp("panel");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let out = dir.join("run");
    let o = pioneer(&[
        "run",
        scenario.to_str().expect("utf8"),
        "--backend",
        "cpu",
        "--replicates",
        "3",
        "--units",
        "--panel",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (uh, units) = table(&out.join("units.csv"));
    let (ph, panel) = table(&out.join("panel.csv"));
    let u = |name: &str| uh.iter().position(|h| h == name).expect(name);
    let p = |name: &str| ph.iter().position(|h| h == name).expect(name);
    // Adoption month per (run, unit), from units.csv (innovation 0: the classroom has one).
    let adopted: HashMap<(String, String), Option<u32>> = units
        .iter()
        .map(|r| ((r[u("run")].clone(), r[u("unit")].clone()), r[u("adopted_month")].parse().ok()))
        .collect();
    let months = 240;
    let mut expected_rows = 0;
    let mut expected_adoptions = 0;
    for m in adopted.values() {
        match m {
            Some(0) => {}
            Some(m) => {
                expected_rows += m.div_ceil(12);
                expected_adoptions += 1;
            }
            None => expected_rows += months / 12,
        }
    }
    assert_eq!(
        panel.len() as u32,
        expected_rows,
        "one row per unit-year at risk, and the year of adoption"
    );
    let adopt_rows: Vec<&Vec<String>> = panel.iter().filter(|r| r[p("adopt")] == "1").collect();
    assert_eq!(adopt_rows.len(), expected_adoptions);
    for r in &adopt_rows {
        let m = adopted[&(r[p("run")].clone(), r[p("unit")].clone())].expect("an adopter");
        assert_eq!(r[p("period")].parse::<u32>().expect("period"), m.div_ceil(12), "{r:?}");
        assert!(r[p("depth")].parse::<u32>().expect("depth") >= 1 && !r[p("route")].is_empty());
    }
    // The neighbours adopted are counted at the end of the previous year: none in the first
    // year, a count that never falls from one year to the next, and a share that is that count
    // over the unit's (fixed) number of neighbours.
    let mut last: HashMap<(String, String), (u32, u32, f64)> = HashMap::new();
    for r in &panel {
        let key = (r[p("run")].clone(), r[p("unit")].clone());
        let (period, count, share): (u32, u32, f64) = (
            r[p("period")].parse().expect("period"),
            r[p("n_nbr_adopted")].parse().expect("count"),
            r[p("share_nbr_adopted")].parse().expect("share"),
        );
        if let Some(&(pp, pc, ps)) = last.get(&key) {
            assert!(period == pp + 1 && count >= pc, "{key:?}: year {pp} → {period}, {pc} → {count}");
            if pc > 0 && count > 0 {
                assert!((share / count as f64 - ps / pc as f64).abs() < 1e-5, "{key:?}: one degree");
            }
        }
        last.insert(key, (period, count, share));
    }
    let pilot_free = panel.iter().all(|r| r[p("pilot")] == "0" && r[p("mandate_active")] == "0");
    assert!(pilot_free, "the classroom has no levers");
    let nonzero = panel.iter().filter(|r| r[p("share_nbr_adopted")] != "0.000000").count();
    assert!(nonzero > 100, "{nonzero} rows with adopted neighbours");
    for r in panel.iter().filter(|r| r[p("period")] == "1") {
        // Nobody has adopted before month 1 in the classroom: the first year's lag is zero.
        assert_eq!(r[p("share_nbr_adopted")], "0.000000", "{r:?}");
        assert_eq!(r[p("n_nbr_adopted")], "0");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pioneer panel --fit`: in the china baseline the neighbours' share is a strong positive
/// predictor; on the real map without edges it never varies, so it drops out of the fit.
#[test]
fn the_neighbour_coefficient_is_positive_and_vanishes_without_edges() {
    let dir = temp("panel-fit");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fit = |scenario: &Path, name: &str| {
        let out = dir.join(name);
        let o = pioneer(&[
            "run",
            scenario.to_str().expect("utf8"),
            "--backend",
            "cpu",
            "--replicates",
            "4",
            "--months",
            "120",
            "--panel",
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let o = pioneer(&["panel", out.to_str().expect("utf8"), "--fit"]);
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let said = fit(&root.join("scenarios/baseline.toml"), "baseline");
    let line = said
        .lines()
        .find(|l| l.starts_with("share_nbr_adopted"))
        .unwrap_or_else(|| panic!("{said}"));
    let cells: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .take(3)
        .map(|v| v.parse().expect("number"))
        .collect();
    assert!(cells[0] > 0.5 && cells[2] > 10.0, "coef and z: {said}");
    let units = root.join("scenarios/china-real/units.csv");
    let alone = dir.join("alone.toml");
    std::fs::write(
        &alone,
        format!(
            "months = 120\n[world]\nkind = \"file\"\nunits = \"{}\"\n[[innovation]]\nname = \"w\"\nsignal = 0.3\n",
            units.display()
        ),
    )
    .expect("write");
    let said = fit(&alone, "alone");
    assert!(!said.lines().any(|l| l.starts_with("share_nbr_adopted")), "{said}");
    assert!(said.contains("left out, constant in this panel: share_nbr_adopted"), "{said}");
    let o = pioneer(&[
        "panel",
        dir.join("alone").to_str().expect("utf8"),
        "--fit",
        "--covariates",
        "share_nbr,gap",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("field `--covariates`"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `design = "saltelli"` sweep has N (k + 2) points, and `pioneer sensitivity` turns its runs
/// into first- and total-order indices per metric and field; other designs are refused.
#[test]
fn a_saltelli_sweep_gives_sobol_indices() {
    let dir = temp("sensitivity");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let sweep = dir.join("s.toml");
    let body = format!(
        "base = \"{}\"\nreplicates = 2\nmonths = 60\ndesign = \"saltelli\"\npoints = 16\n[vary]\n\"params.ambition_hi\" = {{ lo = 0.3, hi = 1.0 }}\nspace = {{ lo = 0.2, hi = 1.0 }}\n",
        base.display()
    );
    std::fs::write(&sweep, &body).expect("write");
    let out = dir.join("out");
    let o = pioneer(&[
        "sweep",
        sweep.to_str().expect("utf8"),
        "--backend",
        "cpu",
        "--steps",
        "none",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("64 points × 2 replicates"), "16 × (2 + 2) points: {}", text(&o));
    let o = pioneer(&["sensitivity", out.to_str().expect("utf8"), "--metric", "final_share,mean_depth"]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, rows) = table(&out.join("sensitivity.csv"));
    assert_eq!(head[..4], ["metric", "field", "s1", "s1_lo"]);
    assert_eq!(rows.len(), 4, "2 metrics × 2 fields");
    for r in &rows {
        let v: Vec<f64> = r[2..].iter().map(|c| c.parse().expect("number")).collect();
        assert!(v.iter().all(|x| x.is_finite()), "{r:?}");
        assert!(
            v[1] <= v[0] && v[0] <= v[2] && v[4] <= v[3] && v[3] <= v[5],
            "estimates inside their intervals: {r:?}"
        );
    }
    // A field given as a list, or another design, is not a Saltelli design: the field is named.
    std::fs::write(&sweep, body.replace("space = { lo = 0.2, hi = 1.0 }", "space = [0.2, 0.6]")).expect("write");
    let o = pioneer(&[
        "sweep",
        sweep.to_str().expect("utf8"),
        "--out",
        dir.join("x").to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("field `vary.space`") && text(&o).contains("every varied field") && text(&o).contains("give `space`"),
        "{}",
        text(&o)
    );
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/incentive-space.toml");
    let lhs = dir.join("grid");
    let o = pioneer(&[
        "sweep",
        other.to_str().expect("utf8"),
        "--backend",
        "cpu",
        "--replicates",
        "1",
        "--months",
        "12",
        "--out",
        lhs.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = pioneer(&["sensitivity", lhs.to_str().expect("utf8")]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("design = \\\"saltelli\\\"") || text(&o).contains("saltelli"),
        "{}",
        text(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// One command runs a saltelli sweep file as a batched sweep (with `--n` base rows) and computes
/// the indices, with the bar chart; a finished folder is read as it ran.
#[test]
fn sensitivity_runs_a_sweep_file_in_one_command() {
    let dir = temp("sensitivity-one");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let sweep = dir.join("s.toml");
    std::fs::write(
        &sweep,
        format!(
            "name = \"one\"\nbase = \"{}\"\nreplicates = 2\nmonths = 60\ndesign = \"saltelli\"\npoints = 64\n[vary.params]\ngamma_g = {{ lo = 1, hi = 30 }}\nr_learn = {{ lo = 0.05, hi = 0.5 }}\nkappa = {{ lo = 0.5, hi = 8 }}\n",
            base.display()
        ),
    )
    .expect("write");
    let out = dir.join("out");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "sensitivity",
            sweep.to_str().expect("utf8"),
            "--metric",
            "t10,final_share",
            "--backend",
            "cpu",
            "--out",
            out.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        pioneer(&args)
    };
    let o = run(&["--n", "32"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("160 points × 2 replicates"), "32 × (3 + 2) points: {}", text(&o));
    let (_, rows) = table(&out.join("sensitivity.csv"));
    assert_eq!(rows.len(), 6, "2 metrics × 3 fields");
    // γ_g, the gain of the performance gap, moves the classroom's curve more than κ does.
    let st = |m: &str, f: &str| -> f64 {
        rows.iter().find(|r| r[0] == m && r[1] == f).expect("row")[5]
            .parse()
            .expect("number")
    };
    assert!(st("final_share", "params.gamma_g") > st("final_share", "params.kappa"), "{rows:?}");
    for f in ["sensitivity.png", "sensitivity.svg"] {
        assert!(std::fs::metadata(out.join(f)).map(|m| m.len() > 10_000).unwrap_or(false), "{f}");
    }
    // The sweep's folder holds the --n run: the same command resumes nothing, and a different
    // --n is another sweep.
    let o = run(&["--n", "16"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = pioneer(&["sensitivity", out.to_str().expect("utf8"), "--n", "16"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("field `--n`"), "{}", text(&o));
    let o = pioneer(&["sensitivity", out.to_str().expect("utf8"), "--metric", "t10"]);
    assert!(o.status.success(), "{}", text(&o));
    // A replay of a point of the --n sweep (given --points) is the run the sweep made.
    let res = pioneer::app::trace::trace(&pioneer::app::trace::TraceArgs {
        scenario: sweep.clone(),
        point: Some(100),
        points: Some(32),
        run: 1,
        unit: "0".into(),
        out: Some(dir.join("trace")),
        ..Default::default()
    })
    .expect("replays");
    let share = pioneer::output::summarise(&res.model, &res.output, 0)[0].final_share;
    let runs = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    let want: f64 = runs
        .lines()
        .find(|l| l.starts_with("100,1,"))
        .and_then(|l| l.split(',').nth(7))
        .and_then(|x| x.parse().ok())
        .expect("the run's final_share");
    assert!((share - want).abs() < 1e-6, "replay {share} vs sweep {want}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pioneer sweep --panel` writes one panel for the sweep, rows labelled by point and replicate:
/// one `adopt = 1` per adopter of each run (runs.csv's final share), the same bytes from shards
/// merged, and `pioneer panel --point` fits one point's rows.
#[test]
fn a_sweep_writes_one_panel_for_its_runs() {
    let dir = temp("sweep-panel");
    let sweep = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/incentive-space.toml");
    let go = |out: &str, extra: &[&str]| {
        let out = dir.join(out);
        let mut args = vec![
            "sweep",
            sweep.to_str().expect("utf8"),
            "--replicates",
            "40",
            "--months",
            "48",
            "--steps",
            "none",
            "--panel",
            "--backend",
            "cpu",
            "--out",
            out.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        let o = pioneer(&args);
        assert!(o.status.success(), "{}", text(&o));
    };
    go("whole", &[]);
    go("a", &["--shard", "1/2"]);
    go("b", &["--shard", "2/2"]);
    let o = pioneer(&[
        "merge",
        dir.join("a").to_str().expect("utf8"),
        dir.join("b").to_str().expect("utf8"),
        "--out",
        dir.join("merged").to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for f in ["panel.csv", "panel.parquet"] {
        let read = |d: &str| std::fs::read(dir.join(d).join(f)).expect(f);
        assert!(read("whole") == read("merged"), "{f}: shards merged differ from one process");
    }
    let (head, rows) = table(&dir.join("whole/panel.csv"));
    assert_eq!(head[..3], ["point", "replicate", "unit"]);
    let adopt = head.iter().position(|h| h == "adopt").expect("adopt");
    let mut adopters: HashMap<(String, String), usize> = HashMap::new();
    for r in &rows {
        if r[adopt] == "1" {
            *adopters.entry((r[0].clone(), r[1].clone())).or_default() += 1;
        }
    }
    let (rh, runs) = table(&dir.join("whole/runs.csv"));
    let share = rh.iter().position(|h| h == "final_share").expect("final_share");
    assert_eq!(runs.len(), 40 * 40);
    for r in &runs {
        let want = (r[share].parse::<f64>().expect("share") * 39.0).round() as usize;
        let got = adopters.get(&(r[0].clone(), r[1].clone())).copied().unwrap_or(0);
        assert_eq!(got, want, "point {} replicate {}: adoptions in the panel", r[0], r[1]);
    }
    let o = pioneer(&["panel", dir.join("whole").to_str().expect("utf8"), "--fit", "--point", "39"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).starts_with("point 39, innovation 0"), "{}", text(&o));
    let o = pioneer(&["panel", dir.join("whole").to_str().expect("utf8")]);
    assert!(text(&o).starts_with("40 points pooled"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
