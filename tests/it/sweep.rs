//! Sweeps through the real binary: shards merged equal one sweep, a killed sweep resumes to the
//! same bytes, designs, bad sweep files, folders that are not ours, replays of a sweep's run, and
//! a kill during `pioneer run` never leaving a mixture of two runs' files.

use crate::common::{pioneer, temp, text};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

const TABLES: [&str; 4] = ["points", "runs", "stats", "steps"];

/// The tables of two sweep folders are the same bytes, CSV and Parquet.
fn same_tables(a: &Path, b: &Path, what: &str) {
    for t in TABLES {
        for ext in ["csv", "parquet"] {
            let f = format!("{t}.{ext}");
            let (x, y) = (std::fs::read(a.join(&f)), std::fs::read(b.join(&f)));
            assert!(x.is_ok() && y.is_ok(), "{what}: {f} exists in both");
            assert!(x.ok() == y.ok(), "{what}: {f} differs");
        }
    }
}

/// A sweep with several blocks: 40 points × 64 replicates = 3 blocks of 16 points, 30 months.
const SMALL: [&str; 5] = ["--replicates", "64", "--months", "30", "--backend"];

fn sweep_args<'a>(out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["sweep", "scenarios/sweeps/incentive-space.toml"];
    v.extend_from_slice(&SMALL);
    v.push("cpu");
    v.extend_from_slice(&["--out", s(out)]);
    v.extend_from_slice(extra);
    v
}

#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let dir = temp("shards");
    let whole = dir.join("whole");
    let o = pioneer(&sweep_args(&whole, &[]));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("40 points × 64 replicates in 3 blocks"), "{}", text(&o));
    let mut shards = Vec::new();
    for i in 1..=3 {
        let d = dir.join(format!("shard{i}"));
        let spec = format!("{i}/3");
        let o = pioneer(&sweep_args(&d, &["--shard", &spec]));
        assert!(o.status.success(), "{}", text(&o));
        shards.push(d);
    }
    let merged = dir.join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| s(d)));
    args.extend(["--out", s(&merged)]);
    let o = pioneer(&args);
    assert!(o.status.success(), "{}", text(&o));
    same_tables(&whole, &merged, "3 shards merged vs one sweep");
    // The Parquet tables hold what the CSV tables hold.
    for t in TABLES {
        let csv = std::fs::read_to_string(whole.join(format!("{t}.csv"))).expect("csv");
        let (names, rows) = pioneer::output::parquet::read_rows(&whole.join(format!("{t}.parquet"))).expect("parquet");
        let mut lines = csv.lines();
        assert_eq!(
            lines.next().map(|h| h.split(',').collect::<Vec<_>>()),
            Some(names.iter().map(String::as_str).collect())
        );
        let mut n = 0;
        for (line, row) in lines.zip(&rows) {
            for (cell, value) in line.split(',').zip(row) {
                let same = cell == value || (cell.parse::<f64>().ok().zip(value.parse::<f64>().ok())).is_some_and(|(a, b)| a == b);
                assert!(same, "{t}.parquet row {n}: `{value}` where the CSV has `{cell}`");
            }
            n += 1;
        }
        assert_eq!(n, rows.len(), "{t}: as many rows in Parquet as in CSV");
    }
    // A missing shard and a duplicated one are refused, naming the points.
    let o = pioneer(&["merge", s(&shards[0]), s(&shards[2]), "--out", s(&dir.join("m2"))]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("points 16 to 31 (block 1) are in none of the folders"),
        "{}",
        text(&o)
    );
    let o = pioneer(&[
        "merge",
        s(&shards[0]),
        s(&shards[1]),
        s(&shards[1]),
        s(&shards[2]),
        "--out",
        s(&dir.join("m3")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("points 16 to 31 (block 1) are in both"), "{}", text(&o));
}

/// Kill a sweep (SIGKILL, which nothing can catch, and SIGTERM, which Slurm sends) at several
/// moments, resume it until done, and compare with an uninterrupted sweep.
#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let dir = temp("kill");
    // 10 blocks of 4 points × 256 replicates.
    let extra = ["--replicates", "256", "--months", "48", "--steps", "mean"];
    let whole = dir.join("whole");
    let mut args = sweep_args(&whole, &[]);
    args.truncate(2);
    args.extend(["--backend", "cpu", "--out", s(&whole)]);
    args.extend(extra);
    let o = pioneer(&args);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    let secs: f64 = t
        .split(" blocks in ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|x| x.parse().ok())
        .unwrap_or(2.0);
    let mut interrupted = 0;
    for (n, (signal, fraction)) in [("KILL", 0.15), ("KILL", 0.55), ("TERM", 0.35), ("TERM", 0.8)]
        .into_iter()
        .enumerate()
    {
        let out = dir.join(format!("killed{n}"));
        let mut a = vec![
            "sweep",
            "scenarios/sweeps/incentive-space.toml",
            "--backend",
            "cpu",
            "--out",
            s(&out),
        ];
        a.extend(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_pioneer"))
            .args(&a)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starts");
        std::thread::sleep(Duration::from_secs_f64(secs * fraction));
        let _ = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status();
        let status = child.wait().expect("waits");
        if !out.join("manifest.json").exists() {
            interrupted += 1;
            let done = std::fs::read_to_string(out.join("ledger.csv")).map_or(0, |l| l.lines().count().saturating_sub(1));
            eprintln!("SIG{signal} at {:.0} %: {done} of 10 blocks on disk", fraction * 100.0);
            if signal == "TERM" {
                assert_eq!(status.code(), Some(143), "SIGTERM: exit code 128 + 15");
            }
        }
        // Resume until complete (a kill may have come after the last block).
        a.push("--resume");
        let o = pioneer(&a);
        assert!(o.status.success(), "resume after SIG{signal}: {}", text(&o));
        same_tables(&whole, &out, &format!("SIG{signal} at {:.0} % then --resume", fraction * 100.0));
        let left: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| f.contains("staging"))
            .collect();
        assert!(left.is_empty(), "no staging folder left: {left:?}");
        assert!(!out.join("parts").exists(), "a finished unsharded sweep drops its parts");
    }
    assert!(
        interrupted >= 3,
        "the kills came before the sweep had finished ({interrupted} of 4)"
    );
}

#[test]
fn a_sweep_folder_is_resumed_or_replaced_only_when_asked() {
    let dir = temp("folders");
    let out = dir.join("out");
    assert!(pioneer(&sweep_args(&out, &[])).status.success());
    // The same sweep again: refused without --resume; --resume finds it complete.
    let o = pioneer(&sweep_args(&out, &[]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already holds this sweep"), "{}", text(&o));
    let o = pioneer(&sweep_args(&out, &["--resume"]));
    assert!(o.status.success() && text(&o).contains("already complete"), "{}", text(&o));
    // Another sweep (other months): refused, with and without --resume; --force replaces it.
    let other = [
        "sweep",
        "scenarios/sweeps/incentive-space.toml",
        "--replicates",
        "64",
        "--months",
        "12",
        "--backend",
        "cpu",
        "--out",
        s(&out),
    ];
    for extra in [&[][..], &["--resume"][..]] {
        let mut a = other.to_vec();
        a.extend_from_slice(extra);
        let o = pioneer(&a);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("--out"), "{}", text(&o));
    }
    let mut a = other.to_vec();
    a.push("--force");
    assert!(pioneer(&a).status.success());
    // A folder of other files is never replaced, even with --force.
    let mine = dir.join("mine");
    std::fs::create_dir_all(&mine).expect("mkdir");
    std::fs::write(mine.join("notes.txt"), "keep").expect("write");
    let o = pioneer(&sweep_args(&mine, &["--force"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(mine.join("notes.txt")).expect("kept"), "keep");
}

/// Any run of a sweep can be replayed alone: the replay ends where the sweep's row says.
#[test]
fn a_run_of_a_sweep_replays_alone() {
    let dir = temp("replay");
    let out = dir.join("out");
    assert!(pioneer(&sweep_args(&out, &["--steps", "none"])).status.success());
    let runs = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (point, replicate) in [(0usize, 0u32), (23, 17), (39, 63)] {
        let res = pioneer::app::trace::trace(&pioneer::app::trace::TraceArgs {
            scenario: root.join("scenarios/sweeps/incentive-space.toml"),
            point: Some(point),
            run: replicate,
            unit: "0".into(),
            months: Some(30),
            out: Some(dir.join(format!("trace{point}"))),
            ..Default::default()
        })
        .expect("replays");
        let share = pioneer::output::summarise(&res.model, &res.output, 0)[0].final_share;
        let row = runs
            .lines()
            .find(|l| l.starts_with(&format!("{point},{replicate},")))
            .expect("the run's row");
        let want: f64 = row.split(',').nth(7).and_then(|x| x.parse().ok()).expect("final_share");
        assert!(
            (share - want).abs() < 1e-6,
            "point {point} replicate {replicate}: replay {share} vs sweep {want}"
        );
    }
    let o = pioneer(&["trace", "scenarios/sweeps/incentive-space.toml", "--point", "40", "--unit", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("points 0 to 39"), "{}", text(&o));
}

/// Sampled designs: in points.csv each field's Latin-hypercube strata hold one point each; a
/// Sobol design fills the range; both are fixed by the seed.
#[test]
fn sampled_designs_fill_their_ranges() {
    let dir = temp("designs");
    for (design, n) in [("lhs", 20usize), ("sobol", 32)] {
        let file = dir.join(format!("{design}.toml"));
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
        std::fs::write(
            &file,
            format!(
                "base = \"{}\"\nreplicates = 2\nmonths = 12\ndesign = \"{design}\"\npoints = {n}\n[vary]\n\"params.kappa\" = {{ lo = 2.0, hi = 6.0 }}\n\"params.b_phi\" = {{ lo = 0.0, hi = 4.0 }}\nspace = [0.4, 0.8]\n",
                s(&base)
            ),
        )
        .expect("write");
        let out = dir.join(design);
        let o = pioneer(&["sweep", s(&file), "--backend", "cpu", "--steps", "none", "--out", s(&out)]);
        assert!(o.status.success(), "{}", text(&o));
        let points = std::fs::read_to_string(out.join("points.csv")).expect("points.csv");
        let rows: Vec<Vec<f64>> = points
            .lines()
            .skip(1)
            .map(|l| l.split(',').skip(1).map(|v| v.parse().expect("number")).collect())
            .collect();
        assert_eq!(rows.len(), 2 * n, "{design}: the design crossed with the listed field");
        for (f, (lo, hi)) in [(0usize, (2.0, 6.0)), (1, (0.0, 4.0))] {
            // The first half of the points has space 0.4: one copy of the design.
            let mut strata = vec![0; n];
            for r in &rows[..n] {
                assert!((lo..hi).contains(&r[f]), "{design}: {} in [{lo}, {hi})", r[f]);
                strata[((r[f] - lo) / (hi - lo) * n as f64) as usize] += 1;
            }
            assert!(
                strata.iter().all(|&c| c == 1),
                "{design}, field {f}: one point per stratum: {strata:?}"
            );
        }
        assert_eq!(
            rows[..n].iter().map(|r| r[0]).collect::<Vec<_>>(),
            rows[n..].iter().map(|r| r[0]).collect::<Vec<_>>()
        );
    }
}

/// Bad sweep files: one clear line with file, line and field, exit code 2, nothing written.
#[test]
fn bad_sweep_files_are_refused_clearly() {
    let dir = temp("bad");
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let head = format!("base = \"{}\"\nreplicates = 2\n", s(&base));
    let cases: [(&str, String, &[&str]); 13] = [
        (
            "count-in-sampled",
            format!("{head}design = \"lhs\"\npoints = 4\n[vary]\nspace = {{ lo = 0.1, hi = 0.9, n = 5 }}\n"),
            &[
                ":6:",
                "vary.space",
                "unknown key `n`",
                "`points` sets how many",
                "{ from, to, step }",
            ],
        ),
        (
            "count-in-range",
            format!("{head}[vary]\nspace = {{ from = 0.1, to = 0.9, n = 5 }}\n"),
            &[":4:", "vary.space", "unknown key `n`", "only `from`, `to` and `step`"],
        ),
        (
            "misspelt",
            format!("{head}[vary]\n\"params.kapa\" = [1, 2]\n"),
            &[":4:", "vary.params.kapa", "did you mean `params.kappa`"],
        ),
        (
            "nested-misspelt",
            format!("{head}[vary.params]\nrhoo = [0.1]\n"),
            &[":4:", "vary.params.rhoo", "`params.rho`"],
        ),
        (
            "step-zero",
            format!("{head}[vary]\nspace = {{ from = 0.1, to = 0.9, step = 0 }}\n"),
            &[":4:", "vary.space", "step above 0"],
        ),
        (
            "from-above-to",
            format!("{head}[vary]\nspace = {{ from = 0.9, to = 0.1, step = 0.1 }}\n"),
            &[":4:", "vary.space", "above to"],
        ),
        (
            "empty-list",
            format!("{head}[vary]\nspace = []\n"),
            &[":4:", "vary.space", "empty list"],
        ),
        (
            "lo-above-hi",
            format!("{head}design = \"lhs\"\npoints = 4\n[vary]\nspace = {{ lo = 0.9, hi = 0.1 }}\n"),
            &[":6:", "vary.space", "above hi"],
        ),
        (
            "no-design",
            format!("{head}[vary]\nspace = {{ lo = 0.1, hi = 0.9 }}\n"),
            &[":", "design", "lhs"],
        ),
        (
            "out-of-range",
            format!("{head}[vary]\n\"params.rho\" = [0.5, 1.5]\n"),
            &[":4:", "vary.params.rho", "point 1", "allowed 0 to 1"],
        ),
        (
            "not-whole",
            format!("{head}[vary]\n\"world.width\" = [4, 4.5]\n"),
            &[":4:", "vary.world.width", "whole number"],
        ),
        (
            "months-vary",
            format!("{head}[vary]\nmonths = [12, 24]\n"),
            &[":4:", "vary.months", "cannot vary"],
        ),
        (
            "no-base",
            "base = \"nowhere.toml\"\n".to_string(),
            &[":1:", "base", "no scenario file"],
        ),
    ];
    for (name, body, expect) in cases {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, &body).expect("write");
        let out = dir.join(format!("{name}-out"));
        let o = pioneer(&["sweep", s(&file), "--backend", "cpu", "--out", s(&out)]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: exit code 2:\n{t}");
        assert!(t.contains(s(&file)), "{name}: names the file:\n{t}");
        for e in expect {
            assert!(t.contains(e), "{name}: the message says `{e}`:\n{t}");
        }
        assert_eq!(t.lines().filter(|l| !l.trim().is_empty()).count(), 1, "{name}: one line:\n{t}");
        assert!(!out.exists(), "{name}: nothing written");
    }
    let o = pioneer(&[
        "sweep",
        "scenarios/sweeps/incentive-space.toml",
        "--shard",
        "4/3",
        "--out",
        s(&dir.join("x")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--shard"), "{}", text(&o));
}

/// Every sweep file in scenarios/sweeps/ runs (2 replicates, 24 months) and draws its charts.
#[test]
fn every_bundled_sweep_runs() {
    let dir = temp("bundled");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    let mut seen = 0;
    for e in std::fs::read_dir(&root).expect("scenarios/sweeps") {
        let p = e.expect("entry").path();
        if p.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        let out = dir.join(p.file_stem().expect("stem"));
        let o = pioneer(&[
            "sweep",
            s(&p),
            "--replicates",
            "2",
            "--months",
            "24",
            "--backend",
            "cpu",
            "--out",
            s(&out),
        ]);
        assert!(o.status.success(), "{}: {}", p.display(), text(&o));
        for f in ["points.csv", "runs.csv", "stats.csv", "steps.csv", "manifest.json"] {
            assert!(out.join(f).is_file(), "{}: {f}", p.display());
        }
        // One chart per metric (`t50.png`), or per metric and sampled field (`t50-vs-….png`).
        let charts: Vec<String> = std::fs::read_dir(out.join("charts"))
            .expect("charts")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        for (metric, ext) in [("t50", ".png"), ("final_share", ".svg")] {
            assert!(
                charts.iter().any(|c| c.starts_with(metric) && c.ends_with(ext)),
                "{}: a {metric} chart ({ext}) among {charts:?}",
                p.display()
            );
        }
        seen += 1;
    }
    assert!(seen >= 2, "two example sweeps at least");
}

/// `pioneer run` into a folder that holds an earlier run, killed at many moments: the folder
/// always holds one run's complete set of files, the old or the new, never a mixture.
#[test]
fn a_killed_run_never_leaves_a_mixture() {
    let dir = temp("run-kill");
    let out = dir.join("out");
    let run = |seed: &str, out: &Path| {
        pioneer(&[
            "run",
            "scenarios/baseline.toml",
            "--replicates",
            "4",
            "--months",
            "60",
            "--units",
            "--backend",
            "cpu",
            "--seed",
            seed,
            "--out",
            s(out),
        ])
    };
    let (a, b) = (dir.join("a"), dir.join("b"));
    assert!(run("1", &a).status.success() && run("2", &b).status.success());
    let files = ["steps.csv", "summary.csv", "units.csv", "diffusion.png", "diffusion.svg"];
    let set = |d: &Path| files.map(|f| std::fs::read(d.join(f)).ok());
    let (set_a, set_b) = (set(&a), set(&b));
    assert!(run("1", &out).status.success());
    let started = std::time::Instant::now();
    assert!(run("2", &dir.join("timing")).status.success());
    let secs = started.elapsed().as_secs_f64();
    for i in 0..10 {
        let seed = if i % 2 == 0 { "2" } else { "1" };
        let mut child = Command::new(env!("CARGO_BIN_EXE_pioneer"))
            .args([
                "run",
                "scenarios/baseline.toml",
                "--replicates",
                "4",
                "--months",
                "60",
                "--units",
                "--backend",
                "cpu",
                "--seed",
                seed,
                "--out",
                s(&out),
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts");
        std::thread::sleep(Duration::from_secs_f64(secs * (0.5 + 0.06 * i as f64)));
        let _ = child.kill();
        let _ = child.wait();
        let now = set(&out);
        assert!(
            now == set_a || now == set_b,
            "after a kill at try {i}, {} holds a mixture of two runs' files",
            out.display()
        );
        let manifest = std::fs::read_to_string(out.join("manifest.json")).expect("manifest");
        let seed_of_files = if now == set_a { "1" } else { "2" };
        assert!(
            manifest.contains(&format!("\"seed\": {seed_of_files}")),
            "the manifest belongs to the same run"
        );
    }
}

/// A federal push is a step of the upper signal whose month and height are fields a sweep and
/// `calibrate --vary` reach (`innovation.0.signal.1.0`, `.1.1`): pushed at month 24 or at month
/// 84, two runs are the same bits until month 24 and part within a year of it, the early push
/// with more adopters by month 84; the late one is the unpushed base's until month 84.
#[test]
fn a_push_moves_the_curve_where_its_month_says() {
    use pioneer::experiment::Varied;
    use pioneer::model::agg;
    let base = crate::common::scenario(&crate::common::small_china(
        120,
        4,
        "[[innovation]]\nname = \"registry\"\nsignal = [[0, 0.05], [60, 0.05]]\n",
    ));
    let fields = vec!["innovation.0.signal.1.0".to_string(), "innovation.0.signal.1.1".to_string()];
    let varied = Varied::new(base.clone(), fields).expect("a schedule's steps are fields");
    let at = |month: f64, height: f64| crate::common::run(&varied.scenario(&[month, height]).expect("valid"));
    let (early, late, none) = (at(24.0, 0.9), at(84.0, 0.9), at(60.0, 0.05));
    let adopters = |ran: &crate::common::Ran, t: u32| -> u32 { (0..ran.ids.len()).map(|r| ran.out.record(r, t)[agg::ADOPTERS]).sum() };
    let records =
        |ran: &crate::common::Ran, t: u32| -> Vec<u32> { (0..ran.ids.len()).flat_map(|r| ran.out.record(r, t).to_vec()).collect() };
    // A step holds from its month on: the runs part in the push's month or soon after it.
    let parted = |a: &crate::common::Ran, b: &crate::common::Ran| (1..=120).find(|&t| records(a, t) != records(b, t));
    let (p_early, p_late) = (parted(&early, &late), parted(&late, &none));
    assert!(
        p_early.is_some_and(|t| (24..=36).contains(&t)),
        "the push of month 24 parts the runs at {p_early:?}"
    );
    assert!(
        p_late.is_some_and(|t| (84..=96).contains(&t)),
        "the push of month 84 parts the runs at {p_late:?}"
    );
    let (e, l) = (adopters(&early, 84), adopters(&late, 84));
    assert!(
        e > l,
        "by month 84 the push of month 24 has more adopters ({e}) than the push of month 84 ({l})"
    );
    // A step's month is a whole number, rounded as a sampled value is, and must follow the first.
    assert_eq!(varied.scenario(&[30.4, 0.9]).expect("rounded").spec.innovation[0].signal, {
        pioneer::scenario::Schedule::Steps(vec![(0, 0.05), (30, 0.9)])
    });
    let e = varied.scenario(&[0.0, 0.9]).expect_err("a step at month 0 after the first");
    assert_eq!(varied.field_of(&e), Some(0), "{e}");
}
