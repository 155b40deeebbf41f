//! Tables any reader takes as they are: every Parquet file read back with the arrow reader
//! (types, nulls, footer, cells equal to the CSV twin), `pioneer panel --fit`'s fit.csv,
//! separation refused and a rescaled covariate fitted, years at risk, and the panel reader's
//! checks of what it reads.

use crate::common::{pioneer, temp, text};
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let body = read(path);
    let mut lines = body.lines();
    let head: Vec<String> = lines.next().expect("header").split(',').map(String::from).collect();
    (head, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

/// A run of the classroom with `--panel` (year, or `period`), `replicates` runs, into `out`.
fn run_panel(out: &Path, replicates: &str, period: &str, extra: &[&str]) {
    let classroom = root().join("scenarios/classroom.toml");
    let mut args = vec![
        "run",
        s(&classroom),
        "--backend",
        "cpu",
        "--replicates",
        replicates,
        "--panel",
        period,
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    let o = pioneer(&args);
    assert!(o.status.success(), "{}", text(&o));
}

/// The columns the docs say hold whole numbers (docs/sweeps.md, docs/analysis.md).
#[cfg(feature = "parquet")]
const WHOLE: [&str; 24] = [
    "point",
    "replicate",
    "key",
    "innovation",
    "month",
    "n",
    "t10",
    "t50",
    "t90",
    "variants",
    "recognitions",
    "run",
    "unit",
    "level",
    "period",
    "adopt",
    "depth",
    "n_nbr_adopted",
    "parent_adopted",
    "exemplar_exists",
    "mandate_active",
    "pilot",
    "generation",
    "particle",
];

/// One Parquet file against its CSV twin and docs/sweeps.md: whole-number columns `Int64` (those
/// of `WHOLE`, and every count of a sweep's steps: all but `share` and the `mean_*`), text
/// `Utf8`, the rest `Float64`, no unsigned type; a cell null exactly where the CSV's is empty;
/// every other cell equal; the footer's keys in the documented order with `want` values.
#[cfg(feature = "parquet")]
fn check_parquet(pq: &Path, want: &[(&str, &str)]) {
    let steps = pq.file_name().is_some_and(|n| n == "steps.parquet");
    use arrow_array::{Array, Float64Array, Int64Array, StringArray};
    use arrow_schema::DataType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let csv = pq.with_extension("csv");
    let (head, rows) = table(&csv);
    let file = std::fs::File::open(pq).expect("parquet");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
    let schema = builder.schema().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, head, "{}: the CSV's columns", pq.display());
    for f in schema.fields() {
        let count = steps && f.name() != "share" && !f.name().starts_with("mean_");
        let want_type = if count || WHOLE.contains(&f.name().as_str()) {
            DataType::Int64
        } else if ["metric", "name", "parent", "route"].contains(&f.name().as_str()) {
            DataType::Utf8
        } else {
            DataType::Float64
        };
        assert_eq!(f.data_type(), &want_type, "{}: column {}", pq.display(), f.name());
    }
    let mut n = 0;
    for batch in builder.build().expect("reader") {
        let batch = batch.expect("batch");
        for r in 0..batch.num_rows() {
            let row = &rows[n];
            assert_eq!(row.len(), head.len(), "{}: CSV line {}", csv.display(), n + 2);
            for (c, col) in batch.columns().iter().enumerate() {
                let cell = row[c].as_str();
                let at = || format!("{} row {n} column {}: CSV `{cell}`", pq.display(), head[c]);
                assert_eq!(col.is_null(r), cell.is_empty(), "{}", at());
                if col.is_null(r) {
                    continue;
                }
                if let Some(a) = col.as_any().downcast_ref::<Int64Array>() {
                    assert_eq!(Ok(a.value(r)), cell.parse::<i64>(), "{}", at());
                } else if let Some(a) = col.as_any().downcast_ref::<Float64Array>() {
                    assert_eq!(Ok(a.value(r)), cell.parse::<f64>(), "{}", at());
                } else if let Some(a) = col.as_any().downcast_ref::<StringArray>() {
                    assert_eq!(a.value(r), cell, "{}", at());
                } else {
                    panic!("{}: an undocumented type", at());
                }
            }
            n += 1;
        }
    }
    assert_eq!(n, rows.len(), "{}: as many rows as the CSV", pq.display());
    let footer = pioneer::output::parquet::read_footer(pq).expect("footer");
    let keys: Vec<&str> = footer.iter().map(|(k, _)| k.as_str()).collect();
    let want_keys: Vec<&str> = want.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, want_keys, "{}: the footer's keys", pq.display());
    for ((k, v), (_, w)) in footer.iter().zip(want) {
        assert_eq!(v, w, "{}: footer `{k}`", pq.display());
    }
}

/// A JSON file's string or number field as text.
#[cfg(feature = "parquet")]
fn json_field(path: &Path, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&read(path)).expect("json");
    match &v[key] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A small sweep (with `--steps run --panel`), a run with `--panel` and a calibration: every
/// Parquet file they write reads back as docs/sweeps.md says.
#[cfg(feature = "parquet")]
#[test]
fn every_parquet_table_reads_back_as_documented() {
    let dir = temp("tables-parquet");
    let sweep = dir.join("sweep");
    let o = pioneer(&[
        "sweep",
        s(&root().join("scenarios/sweeps/incentive-space.toml")),
        "--replicates",
        "3",
        "--months",
        "120",
        "--steps",
        "run",
        "--panel",
        "--backend",
        "cpu",
        "--out",
        s(&sweep),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let version = env!("CARGO_PKG_VERSION");
    let commit = json_field(&sweep.join("manifest.json"), "commit");
    assert!(!commit.is_empty() && commit != "null");
    let identity = json_field(&sweep.join("sweep.json"), "identity");
    let seed = json_field(&sweep.join("sweep.json"), "seed");
    assert_eq!(identity.len(), 16, "{identity}");
    let want = [
        ("pioneer", version),
        ("commit", commit.as_str()),
        ("command", "sweep"),
        ("seed", seed.as_str()),
        ("scenario_hash", identity.as_str()),
        ("sweep", "incentive-space"),
    ];
    for t in ["points", "runs", "stats", "steps", "panel"] {
        check_parquet(&sweep.join(format!("{t}.parquet")), &want);
    }
    // Signed: a difference of two months is negative where it should be, never a wrap.
    {
        use arrow_array::{Array, Int64Array};
        let file = std::fs::File::open(sweep.join("runs.parquet")).expect("runs");
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("reader")
            .build()
            .expect("build");
        let mut negative = 0;
        for batch in reader {
            let batch = batch.expect("batch");
            let col = |name: &str| {
                let i = batch.schema().index_of(name).expect(name);
                batch.column(i).as_any().downcast_ref::<Int64Array>().expect("Int64").clone()
            };
            let (t10, t50) = (col("t10"), col("t50"));
            for r in 0..batch.num_rows() {
                if !t10.is_null(r) && !t50.is_null(r) {
                    let d = t10.value(r) - t50.value(r);
                    assert!(d <= 0, "t10 − t50 = {d}");
                    negative += usize::from(d < 0);
                }
            }
        }
        assert!(negative > 0, "some run reaches 50 % after 10 %");
    }
    // The panel's empty text cells (a route without adoption) are there to be null.
    let (ph, prows) = table(&sweep.join("panel.csv"));
    let route = ph.iter().position(|h| h == "route").expect("route");
    assert!(prows.iter().any(|r| r[route].is_empty()) && prows.iter().any(|r| !r[route].is_empty()));

    // A run's panel: the footer of a run, its scenario hash that of the resolved scenario.
    let run = dir.join("run");
    run_panel(&run, "2", "year", &["--months", "60"]);
    let commit = json_field(&run.join("manifest.json"), "commit");
    let seed = json_field(&run.join("manifest.json"), "seed");
    let footer = pioneer::output::parquet::read_footer(&run.join("panel.parquet")).expect("footer");
    let hash = footer
        .iter()
        .find(|(k, _)| k == "scenario_hash")
        .map(|(_, v)| v.clone())
        .expect("hash");
    assert!(hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{hash}");
    let want = [
        ("pioneer", version),
        ("commit", commit.as_str()),
        ("command", "run"),
        ("seed", seed.as_str()),
        ("scenario_hash", hash.as_str()),
    ];
    check_parquet(&run.join("panel.parquet"), &want);
    let hash_of = |out: &Path| {
        pioneer::output::parquet::read_footer(&out.join("panel.parquet"))
            .expect("footer")
            .into_iter()
            .find(|(k, _)| k == "scenario_hash")
            .map(|(_, v)| v)
    };
    let again = dir.join("run-again");
    run_panel(&again, "2", "year", &["--months", "60"]);
    assert_eq!(hash_of(&again).as_deref(), Some(hash.as_str()), "the same scenario, the same hash");
    let other = dir.join("run-other");
    run_panel(&other, "2", "year", &["--months", "48"]);
    assert_ne!(
        hash_of(&other).as_deref(),
        Some(hash.as_str()),
        "--months changes the resolved scenario"
    );

    // A calibration's particles.
    let cal = dir.join("cal");
    let o = pioneer(&[
        "calibrate",
        s(&root().join("scenarios/classroom.toml")),
        "--observed",
        s(&root().join("data/observed/classroom-synthetic.csv")),
        "--vary",
        "params.gamma_g=1..30",
        "--particles",
        "20",
        "--generations",
        "2",
        "--predictive",
        "5",
        "--backend",
        "cpu",
        "--out",
        s(&cal),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let identity = json_field(&cal.join("calibration.json"), "identity");
    let seed = json_field(&cal.join("calibration.json"), "seed");
    let want = [
        ("pioneer", version),
        ("commit", commit.as_str()),
        ("command", "calibrate"),
        ("seed", seed.as_str()),
        ("scenario_hash", identity.as_str()),
    ];
    check_parquet(&cal.join("particles.parquet"), &want);
    assert!(!cal.join("particles.parquet.tmp").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pioneer panel --fit` writes fit.csv beside the panel: one row per coefficient of the printed
/// table, every number exact (the printed four decimals are its rounding), the fit's
/// log-likelihood, iterations, rows and adoptions on every row; the same bytes when run again.
#[test]
fn panel_fit_writes_fit_csv_at_full_precision() {
    let dir = temp("tables-fit");
    let out = dir.join("run");
    run_panel(&out, "8", "year", &[]);
    let o = pioneer(&["panel", s(&out), "--fit"]);
    assert!(o.status.success(), "{}", text(&o));
    let said = text(&o);
    let (head, rows) = table(&out.join("fit.csv"));
    assert_eq!(
        head,
        [
            "term",
            "coef",
            "se",
            "z",
            "p",
            "log_likelihood",
            "iterations",
            "rows",
            "adoptions",
            "innovation",
            "point"
        ]
    );
    let printed: Vec<Vec<&str>> = said
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("coef"))
        .skip(1)
        .take_while(|l| !l.starts_with("log-likelihood"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), printed.len(), "a row per coefficient: {said}");
    assert!(rows.len() > 3, "{said}");
    let summary = said.lines().next().expect("summary");
    for (row, p) in rows.iter().zip(&printed) {
        assert_eq!(row[0], p[0]);
        for (j, digits) in [(1, 4), (2, 4), (3, 2)] {
            let v: f64 = row[j].parse().expect("number");
            assert_eq!(format!("{v:.digits$}"), p[j], "{}: column {}", row[0], head[j]);
            assert!(
                row[j].trim_start_matches('-').len() > p[j].trim_start_matches('-').len(),
                "{}: more digits than printed",
                row[0]
            );
        }
        let pv: f64 = row[4].parse().expect("p");
        assert!((0.0..=1.0).contains(&pv));
        assert_eq!(row[5], rows[0][5], "one log-likelihood");
        assert!(said.contains(&format!(
            "log-likelihood {:.1}; {} iterations",
            row[5].parse::<f64>().expect("ll"),
            row[6]
        )));
        assert!(
            summary.contains(&format!("{} unit-periods at risk, {} adoptions", row[7], row[8])),
            "{summary}"
        );
        assert_eq!((row[9].as_str(), row[10].as_str()), ("0", ""));
    }
    let first = std::fs::read(out.join("fit.csv")).expect("fit.csv");
    let o = pioneer(&["panel", s(&out), "--fit"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(out.join("fit.csv")).expect("fit.csv"), first);
    assert!(!out.join("fit.csv.tmp").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Rewrite column `name` of `dir/panel.csv` (the header untouched) with `f(row's cell, its adopt)`:
/// a panel edited by hand, so the manifest's record of the tables (which would refuse it as
/// damaged) is taken out.
fn rewrite(dir: &Path, name: &str, f: impl Fn(&str, &str) -> String) {
    let m = dir.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&m).expect("manifest")).expect("json");
    v.as_object_mut().expect("object").remove("tables");
    std::fs::write(&m, v.to_string()).expect("write");
    let (head, rows) = table(&dir.join("panel.csv"));
    let c = head.iter().position(|h| h == name).expect(name);
    let a = head.iter().position(|h| h == "adopt").expect("adopt");
    let mut s = head.join(",");
    s.push('\n');
    for mut r in rows {
        r[c] = f(&r[c], &r[a]);
        s.push_str(&r.join(","));
        s.push('\n');
    }
    std::fs::write(dir.join("panel.csv"), s).expect("write");
}

/// A covariate that predicts adoption perfectly is refused as separation, naming it; the same
/// panel with a covariate in other units (× 1e-3, its coefficient in the thousands) fits, its
/// coefficient 1000 times the original's.
#[test]
fn separation_is_refused_and_a_rescaled_covariate_fits() {
    let dir = temp("tables-separation");
    let out = dir.join("run");
    run_panel(&out, "4", "year", &[]);
    let fit = |covs: &str| {
        let o = pioneer(&["panel", s(&out), "--fit", "--covariates", covs]);
        assert!(o.status.success(), "{}", text(&o));
        let (_, rows) = table(&out.join("fit.csv"));
        rows.iter()
            .find(|r| r[0] == "incentive")
            .map(|r| (r[1].parse::<f64>().expect("coef"), r[2].parse::<f64>().expect("se")))
            .expect("incentive's row")
    };
    let (b, se) = fit("share_nbr_adopted,incentive");
    rewrite(&out, "incentive", |v, _| format!("{}", v.parse::<f64>().expect("number") * 1e-3));
    let (b3, se3) = fit("share_nbr_adopted,incentive");
    assert!(b3.abs() > 1000.0, "the coefficient is in the thousands: {b3}");
    assert!((b3 / 1000.0 - b).abs() < 1e-6 * b.abs(), "{b3} / 1000 vs {b}");
    assert!((se3 / 1000.0 - se).abs() < 1e-6 * se, "{se3} / 1000 vs {se}");
    // `pilot` (0 in the classroom) made 1 on every adopting row: quasi-complete separation.
    rewrite(&out, "pilot", |_, adopt| adopt.to_string());
    let o = pioneer(&["panel", s(&out), "--fit", "--covariates", "share_nbr_adopted,incentive,pilot"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("separation") && said.contains("`pilot`"), "{said}");
    assert!(said.contains("panel.csv"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `years_at_risk` is the years from the run's start to the period's start: period − 1 in a
/// year panel, (period − 1) / 12 in a month panel, the same quantity at a year's start in both;
/// it, its square and the period dummies are covariates; dummies with `years_at_risk` are
/// collinear, and dummies against a first year without adoptions are separation: both refused.
#[test]
fn years_at_risk_is_a_covariate() {
    let dir = temp("tables-years");
    for (period, per_year) in [("year", 1.0), ("month", 12.0)] {
        let out = dir.join(period);
        run_panel(&out, "2", period, &["--months", "60"]);
        let (head, rows) = table(&out.join("panel.csv"));
        let col = |n: &str| head.iter().position(|h| h == n).expect(n);
        let (p, y) = (col("period"), col("years_at_risk"));
        assert_eq!(head.last().map(String::as_str), Some("years_at_risk"));
        for r in &rows {
            let period: f64 = r[p].parse().expect("period");
            let years: f64 = r[y].parse().expect("years");
            assert_eq!(years, (period - 1.0) / per_year, "{period} panel: {r:?}");
        }
        let o = pioneer(&[
            "panel",
            s(&out),
            "--fit",
            "--covariates",
            "share_nbr_adopted,years_at_risk,years_at_risk_sq",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        for term in ["years_at_risk ", "years_at_risk_sq "] {
            assert!(text(&o).lines().any(|l| l.starts_with(term)), "{}", text(&o));
        }
    }
    // In the classroom nobody adopts in the first year, the dummies' reference: its hazard is 0,
    // the intercept's estimate minus infinity.
    let out = dir.join("year");
    let (head, rows) = table(&out.join("panel.csv"));
    let (p, a) = (
        head.iter().position(|h| h == "period").expect("period"),
        head.iter().position(|h| h == "adopt").expect("adopt"),
    );
    assert!(rows.iter().filter(|r| r[p] == "1").all(|r| r[a] == "0"));
    let o = pioneer(&["panel", s(&out), "--fit", "--covariates", "share_nbr_adopted,period_dummies"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("separation") && text(&o).contains("`(intercept)`"),
        "{}",
        text(&o)
    );
    // The china baseline has adoptions in its first year: the dummies fit.
    let out = dir.join("baseline");
    let o = pioneer(&[
        "run",
        s(&root().join("scenarios/baseline.toml")),
        "--backend",
        "cpu",
        "--replicates",
        "2",
        "--months",
        "60",
        "--panel",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = pioneer(&["panel", s(&out), "--fit", "--covariates", "share_nbr_adopted,period_dummies"]);
    assert!(o.status.success(), "{}", text(&o));
    let (_, fit) = table(&out.join("fit.csv"));
    let terms: Vec<&str> = fit.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        terms,
        ["(intercept)", "share_nbr_adopted", "period_2", "period_3", "period_4", "period_5"]
    );
    let o = pioneer(&["panel", s(&out), "--fit", "--covariates", "years_at_risk,period_dummies"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("collinear"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The panel reader refuses `adopt` values of 2, 0.5 and −1, a number that is not finite, a
/// whole-number column that is not whole, and a row cut short, naming the file, the line and
/// the column, with exit code 2.
#[test]
fn the_panel_reader_refuses_bad_cells() {
    let dir = temp("tables-bad-panel");
    let good = dir.join("good");
    run_panel(&good, "4", "year", &[]);
    let body = read(&good.join("panel.csv"));
    let head: Vec<&str> = body.lines().next().expect("header").split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).expect(n);
    // Line 3 of the file (its second row), column `name` set to `v`, or the row cut at `cut`.
    let damaged = |what: &str, name: &str, v: &str, cut: bool| {
        let d = dir.join(what);
        std::fs::create_dir_all(&d).expect("dir");
        let mut lines: Vec<String> = body.lines().map(String::from).collect();
        let mut cells: Vec<String> = lines[2].split(',').map(String::from).collect();
        if cut {
            cells.truncate(col(name));
        } else {
            cells[col(name)] = v.to_string();
        }
        lines[2] = cells.join(",");
        std::fs::write(d.join("panel.csv"), lines.join("\n") + "\n").expect("write");
        d
    };
    for (what, name, v, cut) in [
        ("adopt2", "adopt", "2", false),
        ("adopt-half", "adopt", "0.5", false),
        ("adopt-neg", "adopt", "-1", false),
        ("nan", "incentive", "NaN", false),
        ("inf", "capacity", "inf", false),
        ("period", "period", "1.5", false),
        ("word", "share_nbr_adopted", "many", false),
        ("short", "leader_tenure", "", true),
    ] {
        let d = damaged(what, name, v, cut);
        for fit in [true, false] {
            let mut args = vec!["panel", s(&d)];
            if fit {
                args.push("--fit");
            }
            let o = pioneer(&args);
            let said = text(&o);
            assert_eq!(o.status.code(), Some(2), "{what}: {said}");
            assert_eq!(said.trim().lines().count(), 1, "{what}: one line: {said}");
            let file_line = format!("{}:3", d.join("panel.csv").display());
            assert!(said.contains(&file_line), "{what}: names the file and line 3: {said}");
            assert!(said.contains(&format!("`{name}`")), "{what}: names column {name}: {said}");
        }
    }
    let o = pioneer(&["panel", s(&good), "--fit"]);
    assert!(o.status.success(), "the undamaged panel fits: {}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
