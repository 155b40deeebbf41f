//! Issue 22's cases on the real binary: the crashes as regression tests, damaged folders refused
//! by every reader (merge, plot, sensitivity, report), a calibration killed at every file it puts
//! in place left whole, signals, and the messages that now name their true source.

use crate::common::{copy_dir, pioneer, temp, text};
use std::path::{Path, PathBuf};
use std::process::Command;

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// Exit 2 with one line holding every part of `expect`, and no panic.
fn refused(name: &str, o: &std::process::Output, expect: &[&str]) -> String {
    let t = text(o);
    assert_eq!(o.status.code(), Some(2), "{name}: exit 2:\n{t}");
    assert_eq!(
        t.lines().filter(|l| !l.starts_with("pioneer: ")).count(),
        1,
        "{name}: one line:\n{t}"
    );
    assert!(!t.contains("panicked"), "{name}: no panic:\n{t}");
    for e in expect {
        assert!(t.contains(e), "{name}: names `{e}`:\n{t}");
    }
    t
}

/// A sweep file over the classroom world with `vary` as its `[vary]` table.
fn sweep_file(dir: &Path, name: &str, head: &str, vary: &str) -> PathBuf {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, format!("base = \"{}\"\n{head}[vary]\n{vary}", s(&base))).expect("write");
    p
}

#[test]
fn former_crashes_are_refused_before_any_allocation() {
    let dir = temp("damage-crashes");
    let fields = [
        "kappa",
        "b0",
        "gamma_g",
        "r_agenda",
        "r_learn",
        "theta_hi",
        "ambition_hi",
        "u_boost",
    ];
    let vary: String = fields
        .iter()
        .map(|f| format!("\"params.{f}\" = {{ from = 1, to = 65536, step = 1 }}\n"))
        .collect();
    let big = sweep_file(&dir, "big", "", &vary);
    let o = pioneer(&["sweep", s(&big), "--out", s(&dir.join("o1"))]);
    refused(
        "eight ranges of 65,536",
        &o,
        &["big.toml:2:", "field `vary`", "points", "at most 10000000"],
    );
    let one = sweep_file(&dir, "one", "", "\"params.kappa\" = [1]\n");
    for reps in ["4294967295", "1000000000"] {
        let o = pioneer(&["sweep", s(&one), "--replicates", reps, "--out", s(&dir.join("o2"))]);
        refused(&format!("{reps} replicates"), &o, &["field `--replicates`", "GiB"]);
    }
    // The same number from the sweep file is refused at its line.
    let many = sweep_file(&dir, "many", "replicates = 1000000000\n", "\"params.kappa\" = [1]\n");
    let o = pioneer(&["sweep", s(&many), "--out", s(&dir.join("o3"))]);
    refused("replicates in the file", &o, &["many.toml:2:", "field `replicates`"]);
    // A calibration's predictive curves past any machine's memory (100,000 draws of 65,534
    // months, about 98 GiB), refused before anything is written: with PIONEER_DIE_AFTER_WRITES=1
    // the first file put in place would abort the process instead.
    let obs = dir.join("obs.csv");
    std::fs::write(&obs, "year,share\n2007,0.1\n2008,0.3\n").expect("write");
    let out = dir.join("predictive");
    let o = Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args([
            "calibrate",
            "scenarios/classroom.toml",
            "--observed",
            s(&obs),
            "--vary",
            "params.gamma_g=2..20",
            "--predictive",
            "100000",
            "--months",
            "65534",
            "--out",
            s(&out),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PIONEER_DIE_AFTER_WRITES", "1")
        .output()
        .expect("runs");
    refused("predictive", &o, &["field `--predictive`", "GiB"]);
    assert!(!out.exists(), "refused before the folder was made");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sweep_files_that_vary_a_field_twice_or_say_nothing_are_refused() {
    let dir = temp("damage-vary");
    let cases: [(&str, &str, &str, &[&str]); 4] = [
        (
            "twice",
            "",
            "\"params.kappa\" = [1, 2]\n[vary.params]\nkappa = [3]\n",
            &["twice.toml:5:", "`vary.params.kappa`", "varied twice", "also at line 3"],
        ),
        (
            "empty",
            "",
            "\"params.kappa\" = {}\n",
            &["empty.toml:3:", "`vary.params.kappa`", "varies nothing"],
        ),
        (
            "saltelli",
            "design = \"saltelli\"\npoints = 4\n",
            "\"params.kappa\" = { lo = 1, hi = 2 }\nspace = [0.5]\n",
            &["saltelli.toml:6:", "`vary.space`", "give `space` as { lo, hi }"],
        ),
        (
            "parents",
            "",
            "\"world.width\" = [6, 2]\n",
            &[
                "parents.toml:3:",
                "`vary.world.width`",
                "point 1",
                "`world.parents`",
                "at most width",
            ],
        ),
    ];
    for (name, head, vary, expect) in cases {
        let f = sweep_file(&dir, name, head, vary);
        let o = pioneer(&["sweep", s(&f), "--months", "2", "--replicates", "1", "--out", s(&dir.join(name))]);
        refused(name, &o, expect);
    }
    // Flags are named as flags, not as the sweep file's lines.
    let f = sweep_file(&dir, "flags", "replicates = 2\n", "\"params.kappa\" = { lo = 1, hi = 2 }\n");
    let o = pioneer(&["sweep", s(&f), "--replicates", "0", "--out", s(&dir.join("r0"))]);
    let t = refused("--replicates 0", &o, &["field `--replicates`"]);
    assert!(!t.contains("flags.toml:"), "{t}");
    let sal = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/sensitivity.toml");
    let o = pioneer(&["sensitivity", s(&sal), "--n", "0", "--out", s(&dir.join("n0"))]);
    refused("--n 0", &o, &["field `--n`"]);
    let o = pioneer(&["sweep", s(&sal), "--points", "100000000", "--out", s(&dir.join("p"))]);
    refused("--points", &o, &["field `--points`", "at most 10000000"]);
    // A seed past i64 (which TOML cannot hold) is a seed like any other.
    let obs = dir.join("obs.csv");
    std::fs::write(&obs, "year,share\n2007,0.1\n2008,0.3\n").expect("write");
    let o = pioneer(&[
        "calibrate",
        "scenarios/classroom.toml",
        "--observed",
        s(&obs),
        "--vary",
        "params.kappa=1..2",
        "--seed",
        "18446744073709551615",
        "--particles",
        "10",
        "--generations",
        "1",
        "--predictive",
        "2",
        "--months",
        "36",
        "--backend",
        "cpu",
        "--out",
        s(&dir.join("c")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A small finished sweep: 4 points × 1,024 replicates of 6 months, one point to a block.
fn small_sweep(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let f = sweep_file(dir, "small", "", "\"params.kappa\" = [1, 2, 4, 8]\n");
    let mut args = vec![
        "sweep",
        s(&f),
        "--replicates",
        "1024",
        "--months",
        "6",
        "--backend",
        "cpu",
        "--steps",
        "none",
        "--out",
        s(out),
    ];
    args.extend_from_slice(extra);
    pioneer(&args)
}

/// Cut, empty, strip the header of, or change one byte of a file.
fn damage(path: &Path, how: usize) {
    let bytes = std::fs::read(path).expect("read");
    let new = match how {
        0 => bytes[..bytes.len() / 2].to_vec(),
        1 => Vec::new(),
        2 => bytes[bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1)..].to_vec(),
        _ => {
            let mut b = bytes.clone();
            let i = b.len() * 2 / 3;
            b[i] = if b[i] == b'1' { b'2' } else { b'1' };
            b
        }
    };
    std::fs::write(path, new).expect("write");
}

#[test]
fn a_damaged_shard_is_refused_by_merge_naming_its_part() {
    let dir = temp("damage-merge");
    let mut shards = Vec::new();
    for i in 1..=2 {
        let d = dir.join(format!("shard{i}"));
        let o = small_sweep(&dir, &d, &["--shard", &format!("{i}/2")]);
        assert!(o.status.success(), "{}", text(&o));
        shards.push(d);
    }
    let merge = |out: &str| pioneer(&["merge", s(&shards[0]), s(&shards[1]), "--out", s(&dir.join(out))]);
    let o = merge("whole");
    assert!(o.status.success(), "{}", text(&o));
    for (n, how) in ["half", "empty", "headerless", "byte"].iter().enumerate() {
        for t in ["points", "runs", "stats"] {
            let part = shards[1].join(format!("parts/{t}-000003.csv"));
            let keep = std::fs::read(&part).expect("read");
            damage(&part, n);
            let out = format!("m-{t}-{how}");
            let o = merge(&out);
            refused(&format!("{t} {how}"), &o, &[&format!("{t}-000003.csv"), "damaged"]);
            assert!(!dir.join(&out).exists(), "{t} {how}: nothing written");
            std::fs::write(&part, keep).expect("restore");
        }
    }
    // A record that says more blocks than the sweep has is refused before anything is sized.
    let info = shards[0].join("sweep.json");
    let keep = std::fs::read_to_string(&info).expect("read");
    let v: serde_json::Value = serde_json::from_str(&keep).expect("json");
    for (field, value) in [
        ("blocks", serde_json::json!(u64::MAX / 8)),
        ("points_per_block", serde_json::json!(0)),
        ("points", serde_json::json!(1u64 << 62)),
    ] {
        let mut w = v.clone();
        w[field] = value;
        std::fs::write(&info, w.to_string()).expect("write");
        let o = merge("huge");
        refused(field, &o, &["sweep.json", field]);
    }
    std::fs::write(&info, &keep).expect("restore");
    // A ledger line that is not a block, or a block twice.
    let ledger = shards[1].join("ledger.csv");
    let keep = std::fs::read_to_string(&ledger).expect("read");
    for bad in ["3,3,x,\n", "2,2,3,\n"] {
        std::fs::write(&ledger, format!("{keep}{bad}")).expect("write");
        let o = merge("ledger");
        refused(bad.trim(), &o, &["ledger.csv"]);
    }
    std::fs::write(&ledger, keep).expect("restore");
    assert!(merge("again").status.success(), "restored shards merge");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn readers_of_a_results_folder_refuse_damaged_tables() {
    let dir = temp("damage-readers");
    let sweep = dir.join("sweep");
    let o = small_sweep(&dir, &sweep, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(pioneer(&["plot", s(&sweep)]).status.success());
    for (n, how) in ["half", "empty", "headerless", "byte"].iter().enumerate() {
        for t in ["points.csv", "runs.csv"] {
            let p = sweep.join(t);
            let keep = std::fs::read(&p).expect("read");
            damage(&p, n);
            refused(&format!("plot {t} {how}"), &pioneer(&["plot", s(&sweep)]), &[t]);
            std::fs::write(&p, keep).expect("restore");
        }
        let p = sweep.join("stats.csv");
        let keep = std::fs::read(&p).expect("read");
        damage(&p, n);
        refused(&format!("report stats {how}"), &pioneer(&["report", s(&sweep)]), &["stats.csv"]);
        std::fs::write(&p, keep).expect("restore");
    }
    // A row cut short in points.csv (the old panic), with the manifest's record gone too.
    let m = sweep.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&m).expect("read")).expect("json");
    v.as_object_mut().expect("object").remove("tables");
    std::fs::write(&m, v.to_string()).expect("write");
    std::fs::write(sweep.join("points.csv"), "point,params.kappa\n0,1\n1\n2,4\n3,8\n").expect("write");
    refused(
        "short row",
        &pioneer(&["plot", s(&sweep)]),
        &["points.csv:3:", "`params.kappa`", "1 cells"],
    );
    // A run's summary, damaged, is refused by the report.
    let run = dir.join("run");
    let o = pioneer(&[
        "run",
        "scenarios/classroom.toml",
        "--replicates",
        "2",
        "--months",
        "12",
        "--out",
        s(&run),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    damage(&run.join("summary.csv"), 3);
    refused("report summary", &pioneer(&["report", s(&run)]), &["summary.csv", "damaged"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sensitivity_refuses_a_metric_that_is_not_a_number() {
    let dir = temp("damage-sensitivity");
    let f = sweep_file(
        &dir,
        "sal",
        "design = \"saltelli\"\npoints = 4\nreplicates = 2\nmonths = 12\n",
        "\"params.kappa\" = { lo = 1, hi = 8 }\n\"params.gamma_g\" = { lo = 2, hi = 20 }\n",
    );
    let out = dir.join("out");
    let o = pioneer(&["sensitivity", s(&f), "--out", s(&out), "--backend", "cpu"]);
    assert!(o.status.success(), "{}", text(&o));
    let first = text(&o);
    let runs = out.join("runs.csv");
    let body = std::fs::read_to_string(&runs).expect("read");
    let header = body.lines().next().expect("header");
    let col = header.split(',').position(|c| c == "final_share").expect("final_share");
    let mut lines: Vec<String> = body.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[3].split(',').map(str::to_string).collect();
    cells[col] = "x".into();
    lines[3] = cells.join(",");
    std::fs::write(&runs, lines.join("\n") + "\n").expect("write");
    let o = pioneer(&["sensitivity", s(&out)]);
    refused("tampered", &o, &["runs.csv", "damaged"]);
    // Without the manifest's record the cell itself is named.
    let m = out.join("manifest.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&m).expect("read")).expect("json");
    v.as_object_mut().expect("object").remove("tables");
    std::fs::write(&m, v.to_string()).expect("write");
    let o = pioneer(&["sensitivity", s(&out)]);
    refused("not a number", &o, &["runs.csv:4:", "`final_share`", "`x`"]);
    assert!(first.contains("Sobol"), "{first}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every table of a calibration's folder agrees with its manifest: the generations it counts.
fn calibration_whole(d: &Path) -> Result<usize, String> {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("manifest.json")).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    if m["status"] != "done" {
        return Err(format!("status {}", m["status"]));
    }
    let g = m["generations"].as_u64().ok_or("no generations")? as usize;
    for t in ["particles.csv", "generations.csv", "posterior.csv", "predictive.csv"] {
        pioneer::output::table::verify(d, t).map_err(|e| e.to_string())?;
    }
    let gens = std::fs::read_to_string(d.join("generations.csv")).map_err(|e| e.to_string())?;
    if gens.lines().count() != g + 1 {
        return Err(format!("generations.csv has {} rows for {g}", gens.lines().count() - 1));
    }
    let parts = std::fs::read_to_string(d.join("particles.csv")).map_err(|e| e.to_string())?;
    let last = parts.lines().last().and_then(|l| l.split(',').next()).unwrap_or("");
    if last != (g - 1).to_string() {
        return Err(format!("particles.csv ends in generation {last} for {g}"));
    }
    for f in ["pairs.png", "predictive.png", "particles.parquet"] {
        if !d.join(f).is_file() {
            return Err(format!("no {f}"));
        }
    }
    Ok(g)
}

fn calibrate(out: &Path, obs: &Path, generations: &str, resume: bool, die_after: Option<usize>) -> std::process::Output {
    let mut args = vec![
        "calibrate",
        "scenarios/classroom.toml",
        "--observed",
        s(obs),
        "--vary",
        "params.gamma_g=1..30",
        "--months",
        "60",
        "--particles",
        "20",
        "--predictive",
        "5",
        "--backend",
        "cpu",
        "--generations",
        generations,
        "--out",
        s(out),
    ];
    if resume {
        args.push("--resume");
    }
    let mut c = Command::new(env!("CARGO_BIN_EXE_pioneer"));
    c.args(&args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(n) = die_after {
        c.env("PIONEER_DIE_AFTER_WRITES", n.to_string());
    }
    c.output().expect("runs")
}

/// `calibrate --resume --generations 4` carrying a finished 2-generation calibration further,
/// killed just after each file or folder it puts in place: the folder is the old calibration
/// whole or the new one whole, and resuming it then ends in the same bytes as no kill.
#[test]
fn a_calibration_carried_further_and_killed_anywhere_stays_whole() {
    let dir = temp("damage-calibrate");
    let obs = dir.join("observed.csv");
    std::fs::write(&obs, "year,count\n2006,0\n2008,3\n2010,9\n").expect("write");
    let old = dir.join("old");
    let o = calibrate(&old, &obs, "2", false, None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(calibration_whole(&old), Ok(2));
    let straight = dir.join("straight");
    copy_dir(&old, &straight);
    let o = calibrate(&straight, &obs, "4", true, None);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(calibration_whole(&straight), Ok(4));
    let want = std::fs::read(straight.join("particles.csv")).expect("read");
    let mut kills = 0;
    for n in 1..200 {
        let d = dir.join(format!("k{n}"));
        copy_dir(&old, &d);
        let o = calibrate(&d, &obs, "4", true, Some(n));
        if o.status.success() {
            break;
        }
        kills += 1;
        assert_eq!(o.status.code(), None, "killed after write {n}: {}", text(&o));
        let g = calibration_whole(&d).unwrap_or_else(|e| panic!("killed after write {n}: not whole: {e}"));
        assert!(g == 2 || g == 4, "killed after write {n}: {g} generations");
        let o = calibrate(&d, &obs, "4", true, None);
        assert!(o.status.success(), "resumed after kill {n}: {}", text(&o));
        assert_eq!(
            std::fs::read(d.join("particles.csv")).expect("read"),
            want,
            "kill {n} resumed to the same bytes"
        );
        let _ = std::fs::remove_dir_all(&d);
    }
    assert!(kills >= 5, "the run put at least 5 files in place ({kills})");
    // A folder whose manifest counts more generations than it holds is refused on resume.
    std::fs::remove_file(straight.join("generations/gen-003.csv")).expect("rm");
    let o = calibrate(&straight, &obs, "5", true, None);
    refused("generations lost", &o, &["manifest.json", "4 generations"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM stops `pioneer run` with exit 143 and the folder as it was; a second exits at once,
/// also 143, and no staging folder is left either way.
#[test]
fn signals_stop_a_run_cleanly() {
    let dir = temp("damage-signals");
    for (name, twice, batch) in [("once", false, "16"), ("twice", true, "512")] {
        let out = dir.join(name);
        let child = Command::new(env!("CARGO_BIN_EXE_pioneer"))
            .args([
                "run",
                "scenarios/baseline.toml",
                "--replicates",
                "512",
                "--batch",
                batch,
                "--backend",
                "cpu",
                "--out",
                s(&out),
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Started when its staging folder is there.
        let staged = || {
            std::fs::read_dir(&dir)
                .map(|r| {
                    r.filter_map(|e| e.ok())
                        .any(|e| e.file_name().to_string_lossy().contains(".staging-"))
                })
                .unwrap_or(false)
        };
        let t0 = std::time::Instant::now();
        while !staged() && t0.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(staged(), "{name}: the run started");
        let term = || {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        };
        term();
        if twice {
            std::thread::sleep(std::time::Duration::from_millis(100));
            term();
        }
        let o = child.wait_with_output().expect("wait");
        assert_eq!(
            o.status.code(),
            Some(143),
            "{name}: 128 + SIGTERM: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!out.exists(), "{name}: nothing swapped in");
        assert!(!staged(), "{name}: no staging folder left");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
