//! Fuzzing the inputs: seeded mutations of every bundled scenario, sweep and file world end in
//! `Ok` or a clear input error (file, then line or field, one line), never a panic or abort.
//!
//! `PIONEER_FUZZ_CASES` (default 3000) and `PIONEER_FUZZ_SEED` (default 1) set the loop; the
//! figures recorded in docs/input.md come from `cargo test --release --test it fuzz -- --nocapture`.

use crate::common::{temp, Rng};
use pioneer::app::budget::{self, Footprint};
use pioneer::backend::cpu::Cpu;
use pioneer::error::{Error, InputError};
use pioneer::experiment::Sweep;
use pioneer::model::RunId;
use pioneer::scenario::Scenario;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Values put in place of a TOML value: wrong types, out-of-range and huge numbers, NaN and
/// infinities, empty and unicode strings, paths, schedules and lists.
const TOML_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "0.5",
    "1.5",
    "-0.0",
    "1e308",
    "-1e308",
    "1e-320",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967295",
    "4294967296",
    "65535",
    "65536",
    "16777216",
    "1000000000",
    "nan",
    "inf",
    "-inf",
    "\"\"",
    "\"x\"",
    "\"県 🙂\"",
    "\"../../x\"",
    "\"/tmp\"",
    "\"a\\nb\"",
    "true",
    "[]",
    "[1, 2, 3]",
    "[0.1, 0.5, \"x\"]",
    "[[0, 0.3], [24, 0.6]]",
    "[[24, 0.6], [0, 0.3]]",
    "[[0, 0.3], [0, 0.6]]",
    "[[-1, 0.3]]",
    "[[0, 2.0]]",
    "[[0]]",
    "{ a = 1 }",
    "\"centre\"",
    "\"level:99\"",
    "\"level:-1\"",
    "\"unit:nobody\"",
    "\"china\"",
    "\"grid\"",
    "\"file\"",
    "1979-05-27",
    // What a sweep's `[vary]` takes, wrong and right: ranges past any count, empty tables,
    // half ranges, sampled fields.
    "{ from = 1, to = 65536, step = 1 }",
    "{ from = 0, to = 1, step = 0.0000001 }",
    "{ from = 0 }",
    "{ lo = 0, hi = 1 }",
    "{ lo = 1 }",
    "{}",
    "[1, 1, 1]",
];

/// Values put in a CSV cell.
const CSV_VALUES: &[&str] = &[
    "",
    "x",
    "-1",
    "0",
    "1",
    "2",
    "31",
    "32",
    "4294967295",
    "1e308",
    "nan",
    "inf",
    "0.5",
    "1.5",
    "县",
    "XM",
    "FJ",
    "\"a,b\"",
    "\"a\nb\"",
    " ",
];

/// One mutation of a file's bytes; `csv` picks cell mutations instead of TOML value ones.
fn mutate(bytes: &[u8], csv: bool, rng: &mut Rng) -> (Vec<u8>, &'static str) {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    let kind = rng.below(10);
    let joined = |lines: &[String]| (lines.join("\n") + "\n").into_bytes();
    match kind {
        0..=2 if !csv => {
            // Replace the value of a `key = value` line.
            let keyed: Vec<usize> = (0..lines.len())
                .filter(|&i| {
                    let t = lines[i].trim_start();
                    !t.starts_with('#') && !t.starts_with('[') && t.contains('=')
                })
                .collect();
            if keyed.is_empty() {
                return (bytes.to_vec(), "none");
            }
            let i = *rng.pick(&keyed);
            let (key, old) = lines[i]
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .unwrap_or_default();
            let old = old.split('#').next().unwrap_or("").trim();
            match old.parse::<f64>() {
                // A number scaled: values that parse but sit at or past the edges of their range.
                Ok(v) if kind == 0 => {
                    let f = *rng.pick(&[0.0, -1.0, 0.5, 2.0, 10.0, 1e3, 1e6, 1e12]);
                    let x = v * f + *rng.pick(&[0.0, 1.0, -1.0, 1e-9]);
                    let text = if old.contains('.') || f.fract() != 0.0 || x.abs() > 1e15 {
                        format!("{x:?}")
                    } else {
                        format!("{}", x as i64)
                    };
                    lines[i] = format!("{key}= {text}");
                    (joined(&lines), "scale")
                }
                _ => {
                    lines[i] = format!("{key}= {}", rng.pick(TOML_VALUES));
                    (joined(&lines), "value")
                }
            }
        }
        0..=2 => {
            // Replace one cell.
            let i = rng.below(n);
            if let Some(line) = lines.get_mut(i) {
                let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
                let c = rng.below(cells.len());
                cells[c] = rng.pick(CSV_VALUES).to_string();
                *line = cells.join(",");
            }
            (joined(&lines), "cell")
        }
        3 => {
            // Flip a byte (possibly into invalid UTF-8).
            let mut b = bytes.to_vec();
            rng.flip_byte(&mut b);
            (b, "byte")
        }
        4 => {
            let mut b = bytes.to_vec();
            rng.truncate(&mut b);
            (b, "truncate")
        }
        5 => {
            let i = rng.below(n);
            if let Some(l) = lines.get(i).cloned() {
                lines.insert(i, l);
            }
            (joined(&lines), "duplicate-line")
        }
        6 => {
            if !lines.is_empty() {
                lines.remove(rng.below(n));
            }
            (joined(&lines), "delete-line")
        }
        7 => {
            let (i, j) = (rng.below(n), rng.below(n));
            if i < lines.len() && j < lines.len() {
                lines.swap(i, j);
            }
            (joined(&lines), "swap-lines")
        }
        8 if !csv => {
            // A stray key or a table where it does not belong.
            let i = rng.below(n + 1).min(lines.len());
            let extra = *rng.pick(&[
                "bogus = 1",
                "[bogus]",
                "[[innovation]]",
                "[world]",
                "[params]\nrho = 2",
                // A sweep's own keys, at sizes that once aborted or wrapped.
                "replicates = 4294967295",
                "points = 100000000",
                "design = \"saltelli\"",
                "\"params.kappa\" = { from = 1, to = 65536, step = 1 }",
                "\"params.kappa\" = [1, 2]",
                "[vary.params]\nkappa = {}",
            ]);
            lines.insert(i, extra.to_string());
            (joined(&lines), "insert")
        }
        8 => (text.replace(',', ";").into_bytes(), "semicolons"),
        _ => {
            // Insert random bytes.
            let mut b = bytes.to_vec();
            rng.insert_junk(&mut b);
            (b, "insert-bytes")
        }
    }
}

/// How one case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Valid: built and run for a few months.
    Ran,
    /// Valid, but too large to build in a test (its size was checked from the numbers).
    Large,
    /// Refused, naming the file, the line and the field.
    Refused,
    /// Refused, naming the file and a field that is absent from it (so has no line).
    RefusedAbsent,
    /// Refused, naming the file, line and column of text that sets no field (a comment, say).
    RefusedText,
}

/// A clear input error: a message that names the file, and the line or the field.
fn clear(e: &InputError) -> Result<Outcome, String> {
    if e.message.trim().is_empty() || e.file.is_none() {
        return Err(format!("unclear: {e}"));
    }
    match (e.line, &e.field) {
        (Some(_), Some(_)) => Ok(Outcome::Refused),
        (None, Some(_)) => Ok(Outcome::RefusedAbsent),
        (Some(_), None) if e.message.contains("column") => Ok(Outcome::RefusedText),
        (Some(_), None) => Err(format!("a line without field or column: {e}")),
        (None, None) => Err(format!("neither line nor field: {e}")),
    }
}

fn judge(r: pioneer::error::Result<Outcome>) -> Result<Outcome, String> {
    match r {
        Ok(o) => Ok(o),
        Err(Error::Input(e)) => {
            if std::env::var("PIONEER_FUZZ_SHOW").is_ok() && (e.line.is_none() || e.field.is_none()) {
                eprintln!("partial: {e}");
            }
            clear(&e)
        }
        Err(other) => Err(format!("not an input error: {other}")),
    }
}

/// Largest world built in a test case.
const BUILD_UNITS: u64 = 20_000;

/// Load, check sizes, build and run a few months of a scenario, as `pioneer run` would.
fn try_scenario(path: &Path, most_months: u32) -> pioneer::error::Result<Outcome> {
    let sc = Scenario::load(path)?;
    exercise(&sc, most_months)
}

/// Check sizes as `pioneer run` does, then build and run one replicate for at most
/// `most_months` months.
fn exercise(sc: &Scenario, most_months: u32) -> pioneer::error::Result<Outcome> {
    let fp = Footprint::of(sc)?;
    let runs = sc.spec.replicates as u64;
    budget::check(sc, &fp, "replicates", runs, fp.run_bytes(runs, runs, true), budget::FEWER_RUNS)?;
    if fp.world.units > BUILD_UNITS {
        return Ok(Outcome::Large);
    }
    let (model, prm) = sc.build()?;
    let ids = [RunId::new(sc.spec.seed, 0, 0)];
    let months = sc.spec.months.min(most_months);
    pioneer::app::run::run_chunked(
        &Cpu {
            threads: Some(1),
            isa: None,
        },
        &model,
        &[prm],
        &ids,
        months,
        1,
        &|_| {},
    )?;
    Ok(Outcome::Ran)
}

/// Load a sweep and exercise its first points.
fn try_sweep(path: &Path, most_months: u32) -> pioneer::error::Result<Outcome> {
    let sw = Sweep::load(path, None, None, None)?;
    let mut out = Outcome::Ran;
    for p in 0..sw.n_points().min(2) {
        let mut sc = sw.scenario(p)?;
        sc.spec.replicates = 1;
        if exercise(&sc, most_months)? == Outcome::Large {
            out = Outcome::Large;
        }
    }
    Ok(out)
}

/// The bundled inputs, copied to `root` with the same layout; each target is (file, what loads
/// it, is CSV).
fn setup(root: &Path) -> Vec<(PathBuf, PathBuf, bool)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut targets = Vec::new();
    for sub in ["", "jdistrict", "sweeps"] {
        std::fs::create_dir_all(root.join(sub)).expect("mkdir");
        let mut entries: Vec<PathBuf> = std::fs::read_dir(src.join(sub))
            .expect("scenarios")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().expect("name");
            let to = root.join(sub).join(name);
            std::fs::copy(&p, &to).expect("copy");
            let csv = to.extension().is_some_and(|e| e == "csv");
            let loader = if csv { root.join("jdistrict.toml") } else { to.clone() };
            targets.push((to, loader, csv));
        }
    }
    targets
}

#[test]
fn fuzzed_inputs_end_in_ok_or_a_clear_error() {
    let cases: usize = std::env::var("PIONEER_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let seed: u64 = std::env::var("PIONEER_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let root = temp("fuzz");
    let targets = setup(&root);
    assert!(targets.len() >= 10, "the bundled scenarios, sweeps and world files: {targets:?}");
    let mut rng = Rng(seed);
    let mut tally = [0usize; 5];
    let mut failures: Vec<String> = Vec::new();
    let mut samples: Vec<(PathBuf, Vec<u8>, PathBuf, bool)> = Vec::new();
    let t0 = std::time::Instant::now();
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for case in 0..cases {
        let (file, loader, csv) = rng.pick(&targets).clone();
        let original = std::fs::read(&file).expect("read");
        // One to three mutations on top of each other.
        let mut bytes = original.clone();
        let mut kinds = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let (b, k) = mutate(&bytes, csv, &mut rng);
            bytes = b;
            kinds.push(k);
        }
        std::fs::write(&file, &bytes).expect("write");
        let is_sweep = loader.parent().is_some_and(|p| p.ends_with("sweeps"));
        // Most cases run 3 months; one in eight runs up to 10 years, into the later mechanisms.
        let most_months = if case % 8 == 0 { 120 } else { 3 };
        let result = catch_unwind(AssertUnwindSafe(|| {
            if is_sweep {
                try_sweep(&loader, most_months)
            } else {
                try_scenario(&loader, most_months)
            }
        }));
        let verdict = match result {
            Ok(r) => judge(r),
            Err(p) => Err(crate::common::panic_text(p.as_ref())),
        };
        match verdict {
            Ok(o) => {
                tally[o as usize] += 1;
                // A sample for the binary: every 50th case (worlds it may build quickly).
                if case % 50 == 0 && o != Outcome::Large {
                    samples.push((file.clone(), bytes.clone(), loader.clone(), is_sweep));
                }
            }
            Err(why) => failures.push(format!(
                "case {case} ({}, {}): {why}\n--- input ---\n{}",
                file.strip_prefix(&root).unwrap_or(&file).display(),
                kinds.join("+"),
                String::from_utf8_lossy(&bytes)
            )),
        }
        std::fs::write(&file, &original).expect("restore");
    }
    std::panic::set_hook(previous_hook);
    let seconds = t0.elapsed().as_secs_f64();
    let refused = tally[2] + tally[3] + tally[4];
    eprintln!(
        "fuzz: {cases} cases (seed {seed}) in {seconds:.1} s: {} ran, {} valid but too large to build here, \
         {refused} clear errors ({} name file, line and field; {} file and an absent field; {} file, line and \
         column of text outside any field), {} failures",
        tally[Outcome::Ran as usize],
        tally[Outcome::Large as usize],
        tally[Outcome::Refused as usize],
        tally[Outcome::RefusedAbsent as usize],
        tally[Outcome::RefusedText as usize],
        failures.len()
    );
    for f in failures.iter().take(60) {
        eprintln!("{}", f.lines().next().unwrap_or(""));
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed; the first:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n\n")
    );
    assert!(refused > cases / 4, "the mutations reach the checks: {tally:?}");
    assert!(
        tally[Outcome::Ran as usize] > cases / 20,
        "some mutations stay valid and run: {tally:?}"
    );

    // The real binary on a sample: exit 0, or exit 2 with one line naming the file.
    let out = root.join("out");
    let mut binary = [0usize; 2];
    for (file, bytes, loader, is_sweep) in &samples {
        let original = std::fs::read(file).expect("read");
        std::fs::write(file, bytes).expect("write");
        let l = loader.to_string_lossy().into_owned();
        let o = out.join(if *is_sweep { "sweep" } else { "run" }).to_string_lossy().into_owned();
        let mut args = vec![if *is_sweep { "sweep" } else { "run" }, &l, "--backend", "cpu"];
        args.extend(["--replicates", "1", "--months", "2", "--out", &o]);
        if *is_sweep {
            args.extend(["--steps", "none", "--force"]);
        }
        let r = crate::common::pioneer(&args);
        std::fs::write(file, &original).expect("restore");
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("pioneer: ")).collect();
        match r.status.code() {
            Some(0) => binary[0] += 1,
            Some(2) => {
                let named = lines.first().is_some_and(|l| l.contains(".toml") || l.contains(".csv"));
                assert!(
                    lines.len() == 1 && lines[0].starts_with("error: ") && named,
                    "{args:?}: exit 2 must say one line naming the file:\n{err}\n--- input ---\n{}",
                    String::from_utf8_lossy(bytes)
                );
                binary[1] += 1;
            }
            c => panic!("{args:?}: exit {c:?}\n{err}\n--- input ---\n{}", String::from_utf8_lossy(bytes)),
        }
    }
    eprintln!(
        "fuzz: the binary on {} samples: {} ran, {} refused in one line",
        samples.len(),
        binary[0],
        binary[1]
    );
    assert!(samples.len() >= cases / 100, "a sample of the cases went through the binary");
    let _ = std::fs::remove_dir_all(&root);
}
