//! Fuzzing damaged results folders: seeded damage to one file of a finished sweep, a sweep's
//! shards, a run and a calibration, then every command that reads such a folder (`plot`,
//! `report`, `merge`, `sweep --resume`, `calibrate --resume`, `panel`). Each case must end in `Ok`
//! or an input error naming a file (or the flag at fault), never a panic, and a table or part that was changed is never
//! read as if whole: its reader refuses it.
//!
//! `PIONEER_FUZZ_FOLDER_CASES` (default 240) and `PIONEER_FUZZ_SEED` (default 1) set the loop.

use crate::common::{copy_dir, pioneer, temp, text, Rng};
use pioneer::error::Error;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let Ok(r) = p.strip_prefix(root) {
                out.push(r.to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// One kind of damage to a file's bytes (None: remove the file).
fn damage(bytes: &[u8], rng: &mut Rng) -> (Option<Vec<u8>>, &'static str) {
    let mut b = bytes.to_vec();
    let lines: Vec<&[u8]> = bytes.split_inclusive(|&c| c == b'\n').collect();
    let join = |l: Vec<&[u8]>| l.concat();
    match rng.below(9) {
        0 => return (None, "remove"),
        1 => b.clear(),
        2 => rng.truncate(&mut b),
        3 if !b.is_empty() => rng.flip_byte(&mut b),
        4 if !lines.is_empty() => {
            let mut l = lines.clone();
            l.remove(rng.below(l.len()));
            b = join(l);
        }
        5 if !lines.is_empty() => {
            let mut l = lines.clone();
            let i = rng.below(l.len());
            l.insert(i, lines[i]);
            b = join(l);
        }
        6 if lines.len() > 1 => {
            let mut l = lines.clone();
            let (i, j) = (rng.below(l.len()), rng.below(l.len()));
            l.swap(i, j);
            b = join(l);
        }
        7 => {
            // A cell replaced by text, a huge number, or nothing.
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut ls: Vec<String> = text.split('\n').map(str::to_string).collect();
            let i = rng.below(ls.len());
            let mut cells: Vec<String> = ls[i].split(',').map(str::to_string).collect();
            let c = rng.below(cells.len());
            cells[c] = ["x", "", "-1", "1e308", "nan", "18446744073709551616"][rng.below(6)].to_string();
            ls[i] = cells.join(",");
            b = ls.join("\n").into_bytes();
        }
        _ => rng.insert_junk(&mut b),
    }
    (Some(b), "bytes")
}

/// The finished folders every case starts from.
struct Pristine {
    sweep: PathBuf,
    shards: [PathBuf; 2],
    run: PathBuf,
    calibration: PathBuf,
    observed: PathBuf,
    sweep_file: PathBuf,
}

fn make(root: &Path) -> Pristine {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let sweep_file = root.join("small.toml");
    std::fs::write(
        &sweep_file,
        format!(
            "base = \"{}\"\nreplicates = 512\nmonths = 6\n[vary]\n\"params.kappa\" = [1, 2, 4, 8]\n",
            s(&base)
        ),
    )
    .expect("write");
    let sweep = root.join("sweep");
    let go = |args: &[&str]| {
        let o = pioneer(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    go(&["sweep", s(&sweep_file), "--backend", "cpu", "--steps", "mean", "--out", s(&sweep)]);
    let shards = [root.join("shard1"), root.join("shard2")];
    for (i, d) in shards.iter().enumerate() {
        let spec = format!("{}/2", i + 1);
        go(&[
            "sweep",
            s(&sweep_file),
            "--backend",
            "cpu",
            "--steps",
            "mean",
            "--shard",
            &spec,
            "--out",
            s(d),
        ]);
    }
    let run = root.join("run");
    go(&[
        "run",
        "scenarios/classroom.toml",
        "--replicates",
        "2",
        "--months",
        "24",
        "--panel",
        "year",
        "--out",
        s(&run),
    ]);
    let observed = root.join("observed.csv");
    std::fs::write(&observed, "year,count\n2006,0\n2008,3\n2010,9\n").expect("write");
    let calibration = root.join("calibration");
    go(&[
        "calibrate",
        "scenarios/classroom.toml",
        "--observed",
        s(&observed),
        "--vary",
        "params.gamma_g=1..30",
        "--months",
        "60",
        "--particles",
        "10",
        "--generations",
        "2",
        "--predictive",
        "4",
        "--backend",
        "cpu",
        "--out",
        s(&calibration),
    ]);
    Pristine {
        sweep,
        shards,
        run,
        calibration,
        observed,
        sweep_file,
    }
}

/// The tables a reader of `kind` reads whole (a change there must be refused).
fn read_by(kind: usize, f: &Path) -> bool {
    let name = f.to_string_lossy();
    match kind {
        // plot: points and runs; report: stats.
        0 => ["points.csv", "runs.csv", "stats.csv"].contains(&name.as_ref()),
        // merge reads every part of both shards, and their records.
        1 => name.starts_with("parts/") || name == "ledger.csv",
        // report of a run: its summary; panel --fit: its panel.
        2 => name == "summary.csv" || name == "panel.csv",
        // calibrate --resume: the generations.
        _ => name.starts_with("generations/gen-"),
    }
}

#[test]
fn damaged_results_folders_end_in_ok_or_a_clear_refusal() {
    let cases: usize = std::env::var("PIONEER_FUZZ_FOLDER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let seed: u64 = std::env::var("PIONEER_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let root = temp("fuzz-folders");
    let p = make(&root);
    let mut rng = Rng(seed);
    let (mut ok, mut refused) = (0usize, 0usize);
    let mut failures = Vec::new();
    let t0 = std::time::Instant::now();
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in 0..cases {
        let kind = case % 4;
        let work = root.join("case");
        let _ = std::fs::remove_dir_all(&work);
        let (dirs, targets): (Vec<PathBuf>, Vec<PathBuf>) = match kind {
            0 => (vec![work.join("sweep")], vec![p.sweep.clone()]),
            1 => (vec![work.join("s1"), work.join("s2")], p.shards.to_vec()),
            2 => (vec![work.join("run")], vec![p.run.clone()]),
            _ => (vec![work.join("calibration")], vec![p.calibration.clone()]),
        };
        for (to, from) in dirs.iter().zip(&targets) {
            copy_dir(from, to);
        }
        // One file of one of the folders, damaged.
        let which = rng.below(dirs.len());
        let all = files(&dirs[which]);
        let f = all[rng.below(all.len())].clone();
        let path = dirs[which].join(&f);
        let before = std::fs::read(&path).expect("read");
        let (after, how) = damage(&before, &mut rng);
        match &after {
            Some(b) => std::fs::write(&path, b).expect("write"),
            None => std::fs::remove_file(&path).expect("rm"),
        }
        // A ledger may end in a piece of a line (a kill while a block was recorded): bytes
        // after its last line end change nothing it says.
        let tail_only = f.ends_with("ledger.csv")
            && after
                .as_deref()
                .is_some_and(|a| a.starts_with(&before) && !a[before.len()..].contains(&b'\n'));
        let changed = after.as_deref() != Some(&before[..]) && !tail_only;
        let result = catch_unwind(AssertUnwindSafe(|| -> pioneer::error::Result<()> {
            match kind {
                0 => {
                    pioneer::app::plot::plot(&dirs[0])?;
                    pioneer::app::report::report(&dirs[0]).map(|_| ())
                }
                1 => pioneer::app::merge::merge(&pioneer::app::merge::MergeArgs {
                    dirs: dirs.clone(),
                    out: work.join("merged"),
                })
                .map(|_| ()),
                2 => {
                    pioneer::app::report::report(&dirs[0])?;
                    pioneer::app::panel::panel(&dirs[0], 0, true, &[], None).map(|_| ())
                }
                _ => pioneer::app::calibrate::calibrate(&pioneer::app::calibrate::CalibrateArgs {
                    scenario: Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml"),
                    observed: p.observed.clone(),
                    vary: vec!["params.gamma_g=1..30".into()],
                    particles: 10,
                    generations: 3,
                    predictive: 4,
                    months: Some(60),
                    backend: "cpu".into(),
                    out: Some(dirs[0].clone()),
                    resume: true,
                    ..Default::default()
                })
                .map(|_| ()),
            }
        }));
        let verdict: Result<bool, String> = match result {
            Ok(Ok(())) if changed && after.is_some() && read_by(kind, &f) => Err("a damaged table was read as whole (Ok)".to_string()),
            Ok(Ok(())) => Ok(true),
            Ok(Err(Error::Input(e))) if e.file.is_some() || e.field.is_some() => {
                let line = e.to_string();
                if line.contains('\n') {
                    Err(format!("not one line: {line}"))
                } else {
                    Ok(false)
                }
            }
            Ok(Err(e)) => Err(format!("not a clear input error: {e}")),
            Err(panic) => Err(crate::common::panic_text(panic.as_ref())),
        };
        match verdict {
            Ok(true) => ok += 1,
            Ok(false) => refused += 1,
            Err(why) => failures.push(format!(
                "case {case} (folder {kind}, {} {how}): {why}{}",
                f.display(),
                match &after {
                    Some(b) if b.len() < 600 => format!(
                        "\n--- was ---\n{}\n--- is ---\n{}",
                        String::from_utf8_lossy(&before),
                        String::from_utf8_lossy(b)
                    ),
                    _ => String::new(),
                }
            )),
        }
    }
    std::panic::set_hook(previous_hook);
    eprintln!(
        "fuzz folders: {cases} cases (seed {seed}) in {:.1} s: {ok} read as they were, {refused} refused with a file named, {} failures",
        t0.elapsed().as_secs_f64(),
        failures.len()
    );
    for f in failures.iter().take(40) {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed; the first: {}",
        failures.len(),
        failures[0]
    );
    assert!(
        refused > cases / 6 && ok > cases / 20,
        "the damage reaches the checks and some leaves them whole: {ok} ok, {refused} refused"
    );
    let _ = p.sweep_file;
    let _ = std::fs::remove_dir_all(&root);
}
