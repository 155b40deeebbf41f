//! Fuzzing the CSV inputs beside a scenario: seeded mutations of valid observed curves
//! (`--observed`: `year,count`, `year,share`, `unit,date` events) and decision logs (`--decisions`) end in `Ok` or an
//! input error naming the file, the line and a column, never a panic; what is read is what is
//! meant (years increasing, shares in [0,1] and never falling; every lever of a log pulled by the
//! replay); and the binary agrees, exiting 0, or 2 with one line naming the file.
//!
//! `PIONEER_FUZZ_CSV_CASES` (default 400 per input kind) and `PIONEER_FUZZ_SEED` (default 1) set
//! the loop; the figures in docs/input.md come from
//! `cargo test --release --test it fuzz_csv -- --nocapture`.

use crate::common::{temp, Rng};
use pioneer::analysis::observed;
use pioneer::error::InputError;
use pioneer::model::fixed::q16;
use pioneer::model::params::Params;
use pioneer::model::play::{self, Decision, Lever, Log, Pull};
use pioneer::model::trace::{Choice, Learn, Policy};
use pioneer::model::Model;
use pioneer::scenario::Scenario;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Values put in a cell: numbers at and past the edges of every column, words of every column,
/// empty and odd text.
const CELLS: &[&str] = &[
    "",
    " ",
    "x",
    "-1",
    "-0",
    "0",
    "1",
    "2",
    "0.5",
    "1.5",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "2005",
    "2006",
    "2015",
    "2025",
    "2026",
    "2147483648",
    "38",
    "39",
    "40",
    "240",
    "241",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "model",
    "yes",
    "no",
    "low",
    "medium",
    "high",
    "neighbour",
    "unit:38",
    "unit:39",
    "space",
    "signal",
    "mandate",
    "pilot",
    "recognise",
    "1 12",
    "4 12",
    "5 12",
    "2 0",
    "3 4 38",
    "3 39",
    "teacher",
    "县 🙂",
    "\"a,b\"",
    "\"a\nb\"",
    "\"\"",
];

/// A byte string with invalid UTF-8 (a lone continuation byte, a cut sequence, an overlong one).
const BROKEN: &[&[u8]] = &[b"\xff", b"\x80", b"\xc3", b"\xe4\xb8", b"\xc0\xaf", b"0.\xfe5"];

fn split_lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect()
}

fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    lines.join(&b'\n')
}

/// One mutation of a CSV file's bytes.
fn mutate(bytes: &[u8], rng: &mut Rng) -> (Vec<u8>, &'static str) {
    let mut lines = split_lines(bytes);
    let n = lines.len();
    let i = rng.below(n);
    let cells = |line: &[u8]| -> Vec<Vec<u8>> { line.split(|&b| b == b',').map(<[u8]>::to_vec).collect() };
    let kind = rng.below(12);
    match kind {
        0 | 1 => {
            // A cell replaced.
            let mut c = cells(&lines[i]);
            let j = rng.below(c.len());
            c[j] = rng.pick(CELLS).as_bytes().to_vec();
            lines[i] = c.join(&b',');
            (join_lines(&lines), "cell")
        }
        2 => {
            // Broken UTF-8 in a cell.
            let mut c = cells(&lines[i]);
            let j = rng.below(c.len());
            let at = rng.below(c[j].len() + 1);
            let bad = rng.pick(BROKEN);
            c[j].splice(at..at, bad.iter().copied());
            lines[i] = c.join(&b',');
            (join_lines(&lines), "utf8")
        }
        3 => {
            let mut b = bytes.to_vec();
            rng.flip_byte(&mut b);
            (b, "byte")
        }
        4 => {
            // A row cut short: its last cells, or mid-cell.
            let line = &mut lines[i];
            let keep = rng.below(line.len() + 1);
            line.truncate(keep);
            (join_lines(&lines), "cut-row")
        }
        5 => {
            // A row doubled: again below (often a mandate or pilot of a log), or its cells twice
            // on one line.
            let levers: Vec<usize> = (0..n)
                .filter(|&k| lines[k].windows(8).any(|w| w == b",mandate" || w.starts_with(b",pilot,")))
                .collect();
            let i = if levers.is_empty() || rng.below(2) == 0 {
                i
            } else {
                *rng.pick(&levers)
            };
            if rng.below(2) == 0 {
                let l = lines[i].clone();
                lines.insert(i, l);
                (join_lines(&lines), "double-row")
            } else {
                let l = lines[i].clone();
                lines[i].push(b',');
                lines[i].extend(l);
                (join_lines(&lines), "double-cells")
            }
        }
        6 => {
            // Two columns swapped on every line (header included), or on one line only.
            let (a, b) = (rng.below(12), rng.below(12));
            let every = rng.below(2) == 0;
            for (k, line) in lines.iter_mut().enumerate() {
                if every || k == i {
                    let mut c = cells(line);
                    if a < c.len() && b < c.len() {
                        c.swap(a, b);
                    }
                    *line = c.join(&b',');
                }
            }
            (join_lines(&lines), "swap-columns")
        }
        7 => {
            let j = rng.below(n);
            lines.swap(i, j);
            (join_lines(&lines), "swap-rows")
        }
        8 => {
            lines.remove(i);
            (join_lines(&lines), "delete-row")
        }
        9 => {
            let mut b = bytes.to_vec();
            rng.truncate(&mut b);
            (b, "truncate")
        }
        10 => {
            // The file's form: CRLF, blank lines, a BOM, semicolons, an upper-case header.
            let b = match rng.below(5) {
                0 => join_lines(&lines).split(|&b| b == b'\n').collect::<Vec<_>>().join(&b"\r\n"[..]),
                1 => {
                    lines.insert(i, Vec::new());
                    join_lines(&lines)
                }
                2 => [&b"\xef\xbb\xbf"[..], bytes].concat(),
                3 => bytes.iter().map(|&b| if b == b',' { b';' } else { b }).collect(),
                _ => {
                    lines[0] = lines[0].to_ascii_uppercase();
                    join_lines(&lines)
                }
            };
            (b, "form")
        }
        _ => {
            // Random bytes inserted.
            let mut b = bytes.to_vec();
            rng.insert_junk(&mut b);
            (b, "insert-bytes")
        }
    }
}

/// A log with every kind of row: students' choices of every kind, and each lever, with eight
/// mandates and eight pilots (the tables full, so a doubled lever row is one too many).
fn class_log(units: usize) -> Log {
    let choices = [Choice::Model, Choice::Yes, Choice::No];
    let learns = [
        Learn::Model,
        Learn::Neighbour,
        Learn::Exemplar,
        Learn::Parent,
        Learn::Leader,
        Learn::Unit(7),
    ];
    let mut log = Log::default();
    let count = |log: &Log, mandate: bool| {
        log.levers
            .iter()
            .filter(|p| matches!(p.lever, Lever::Mandate { .. }) == mandate && matches!(p.lever, Lever::Mandate { .. } | Lever::Pilot(_)))
            .count()
    };
    for t in 1..=30u32 {
        let k = t as usize;
        if t % 5 == 1 {
            let lever = match (t / 5) % 3 {
                0 => Lever::Space(q16(0.2 * (k % 5) as f64)),
                1 => Lever::Signal(q16(0.9)),
                _ => Lever::Recognise,
            };
            log.levers.push(Pull { month: t, lever });
        }
        if t % 3 == 0 && count(&log, true) < 8 {
            log.levers.push(Pull {
                month: t,
                lever: Lever::Mandate {
                    depth: 1 + (t % 4),
                    months: 12 + t,
                },
            });
        }
        if t % 4 == 2 && count(&log, false) < 8 {
            log.levers.push(Pull {
                month: t,
                lever: Lever::Pilot(vec![(k % units) as u32, ((k * 7) % units) as u32]),
            });
        }
        for s in 0..2u32 {
            log.decisions.push(Decision {
                month: t,
                student: s,
                unit: (k * 3 + s as usize) % units,
                policy: Policy {
                    agenda: choices[k % 3],
                    invent: choices[(k / 3) % 3],
                    learn: learns[k % learns.len()],
                    push: choices[(k + s as usize) % 3],
                    publicity: [None, Some(0), Some(q16(1.0) / 2), Some(q16(1.0))][k % 4],
                },
            });
        }
    }
    assert_eq!((count(&log, true), count(&log, false)), (8, 8), "the tables full");
    log
}

/// The valid files each kind of input starts from.
fn bases(world: &pioneer::world::World) -> [(&'static str, Vec<Vec<u8>>); 2] {
    let units = world.len();
    let names = ["Ann", "Bo \"B\""];
    let log = class_log(units);
    let written = play::write_log(&log, |s| names[s as usize % 2]);
    // A log of before the levers: no learn, lever or value column.
    let mut old = String::from("month,student,name,unit,agenda,invent,push,publicity\n");
    for d in &log.decisions {
        old.push_str(&format!("{},{},n{},{},yes,no,model,low\n", d.month, d.student, d.student, d.unit));
    }
    let mut count = String::from("year,count\n");
    let mut share = String::from("Year , Share\r\n");
    let mut noted = String::from("year,note,share\n");
    for (j, y) in (2006..=2025).enumerate() {
        let c = (j * j * units / 400).min(units);
        count.push_str(&format!("{y},{c}\n"));
        share.push_str(&format!("{y}, {:.4}\r\n", c as f64 / units as f64));
        noted.push_str(&format!("{y},\"survey, wave {j}\nrevised\",{:.3}\n", c as f64 / units as f64));
    }
    // Events: a unit's id or name and the year or year-month it adopted.
    let mut events = String::from("unit,date\n");
    for (j, i) in (0..units).rev().take(16).enumerate() {
        let who = if j % 2 == 0 { &world.ids[i] } else { &world.names[i] };
        let date = if j % 3 == 0 {
            format!("{}-{:02}", 2006 + j, 1 + j % 12)
        } else {
            (2006 + j).to_string()
        };
        events.push_str(&format!("{who},{date}\n"));
    }
    [
        (
            "observed",
            vec![count.into_bytes(), share.into_bytes(), noted.into_bytes(), events.into_bytes()],
        ),
        ("decisions", vec![written.into_bytes(), old.into_bytes()]),
    ]
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Read, and used (compared with a band; replayed).
    Read,
    /// Refused, naming the file, the line and the column.
    Refused,
    /// Refused so, a mandate or pilot past the run's table.
    TooMany,
}

/// An error must name the file, the line and a column, with a message.
fn clear(e: &InputError, file: &Path) -> Result<Outcome, String> {
    if e.file.as_deref() != Some(file) || e.line.is_none() || e.field.is_none() || e.message.trim().is_empty() {
        return Err(format!("unclear: {e:?}"));
    }
    Ok(Outcome::Refused)
}

/// The classroom scenario: its model and parameters, start year and months.
struct Class {
    model: Model,
    prm: Params,
    start_year: i32,
    months: u32,
}

fn try_observed(path: &Path, c: &Class) -> Result<Outcome, String> {
    let o = match observed::read_for(path, &c.model).and_then(|o| observed::check_years(&o, c.start_year, c.months).map(|()| o)) {
        Ok(o) => o,
        Err(e) => return clear(&e, path),
    };
    // What was read is what the file means.
    let n = o.years.len();
    if n == 0 || o.share.len() != n || o.lines.len() != n {
        return Err(format!("{n} years, {} shares, {} lines", o.share.len(), o.lines.len()));
    }
    for j in 1..n {
        // Events make a curve of consecutive years, its lines those of each year's first event.
        let lines_ok = o.events.is_some() || o.lines[j] > o.lines[j - 1];
        if o.years[j] <= o.years[j - 1] || o.share[j] < o.share[j - 1] || !lines_ok {
            return Err(format!("rows {} and {j} out of order: {o:?}", j - 1));
        }
    }
    if !o.share.iter().all(|s| (0.0..=1.0).contains(s)) {
        return Err(format!("a share outside [0,1]: {:?}", o.share));
    }
    let band: Vec<Vec<f64>> = (0..3)
        .map(|r| {
            (1..=c.months)
                .map(|t| (t as f64 / c.months as f64 * (r + 1) as f64 / 3.0).min(1.0))
                .collect()
        })
        .collect();
    let cmp = observed::compare(&o, c.start_year, &band, None);
    if cmp.rows.len() != n || !cmp.rmse.is_finite() {
        return Err(format!("compared {} rows of {n}, rmse {}", cmp.rows.len(), cmp.rmse));
    }
    Ok(Outcome::Read)
}

fn try_log(path: &Path, c: &Class) -> Result<Outcome, String> {
    let log = match play::read_log(path, c.model.world.len(), &c.prm, c.months) {
        Ok(log) => log,
        Err(e) if e.message.contains("too many: a run holds") => return clear(&e, path).map(|_| Outcome::TooMany),
        Err(e) => return clear(&e, path),
    };
    // Every lever read is pulled by the replay (none dropped), in month order.
    let (mut m, mut prm) = (c.model.clone(), c.prm);
    for p in &log.levers {
        play::pull(&mut m, &mut prm, p.month, &p.lever).map_err(|why| format!("read, but the replay drops it: {p:?}: {why}"))?;
    }
    let months: Vec<u32> = log.decisions.iter().map(|d| d.month).collect();
    if months.windows(2).any(|w| w[1] < w[0]) || log.decisions.iter().any(|d| d.unit >= c.model.world.len()) {
        return Err("decisions out of order or on a unit that does not exist".into());
    }
    let last = log.levers.iter().map(|p| p.month).chain(months).max().unwrap_or(1);
    play::replay_records(&c.model, &c.prm, 1, &log, last.min(c.months));
    Ok(Outcome::Read)
}

/// One fault put at a known place of a valid file without quotes or CR (so its lines are its
/// records): broken UTF-8 in a cell, a row cut short at a comma, a value too many, and a cell
/// that is not a number (an observed curve) or a mandate or pilot row again (a log, its tables
/// full). The bytes, and the line and column the error must name.
fn placed_fault(bytes: &[u8], observed: bool, rng: &mut Rng) -> (Vec<u8>, usize, String, &'static str) {
    let mut lines = split_lines(bytes);
    let header: Vec<String> = String::from_utf8_lossy(&lines[0])
        .split(',')
        .map(|h| h.trim().to_string())
        .collect();
    let rows: Vec<usize> = (1..lines.len()).filter(|&i| !lines[i].is_empty()).collect();
    let i = *rng.pick(&rows);
    let mut cells: Vec<Vec<u8>> = lines[i].split(|&b| b == b',').map(<[u8]>::to_vec).collect();
    let lever_rows: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&k| lines[k].windows(8).any(|w| w == b",mandate" || w.starts_with(b",pilot,")))
        .collect();
    let choice = rng.below(4);
    if !observed && choice == 3 && !lever_rows.is_empty() {
        // A mandate or pilot row again, beside a full table: the last of its kind is one too many.
        let j = *rng.pick(&lever_rows);
        let kind: &[u8] = if lines[j].windows(8).any(|w| w == b",mandate") {
            b",mandate,"
        } else {
            b",pilot,"
        };
        let copy = lines[j].clone();
        lines.insert(j + rng.below(2), copy);
        let last = (0..lines.len())
            .rev()
            .find(|&k| lines[k].windows(kind.len()).any(|w| w == kind))
            .unwrap_or(0);
        return (join_lines(&lines), last + 1, "lever".to_string(), "lever-too-many");
    }
    let (field, what) = match if observed { choice } else { choice % 3 } {
        0 => {
            let j = rng.below(cells.len());
            let at = rng.below(cells[j].len() + 1);
            cells[j].splice(at..at, rng.pick(BROKEN).iter().copied());
            (header[j].clone(), "utf8")
        }
        1 => {
            let keep = 1 + rng.below(cells.len() - 1);
            cells.truncate(keep);
            (header[keep].clone(), "cut-row")
        }
        2 => {
            cells.push(rng.pick(&["x", "", "1", "0.5"]).as_bytes().to_vec());
            (header[header.len() - 1].clone(), "extra-value")
        }
        _ => {
            let j = rng.below(cells.len());
            cells[j] = rng.pick(&["nan", "x", "", "1e400", "-inf"]).as_bytes().to_vec();
            (header[j].clone(), "not-a-number")
        }
    };
    lines[i] = cells.join(&b',');
    (join_lines(&lines), i + 1, field, what)
}

#[test]
fn fuzzed_curves_and_logs_end_in_ok_or_an_error_at_file_line_and_column() {
    let per_kind: usize = std::env::var("PIONEER_FUZZ_CSV_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("PIONEER_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
    let sc = Scenario::load(&scenario).expect("classroom");
    let (model, prm) = sc.build().expect("builds");
    let class = Class {
        model,
        prm,
        start_year: sc.spec.start_year.expect("the classroom has a start year"),
        months: sc.spec.months,
    };
    let root = temp("fuzz-csv");
    let bases = bases(&class.model.world);
    // The bases themselves are read.
    for (kind, files) in &bases {
        for (j, b) in files.iter().enumerate() {
            let p = root.join(format!("base-{kind}-{j}.csv"));
            std::fs::write(&p, b).expect("write");
            let r = if *kind == "observed" {
                try_observed(&p, &class)
            } else {
                try_log(&p, &class)
            };
            assert_eq!(r, Ok(Outcome::Read), "base {kind} {j}:\n{}", String::from_utf8_lossy(b));
        }
    }
    let mut rng = Rng(seed);
    let t0 = std::time::Instant::now();
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures: Vec<String> = Vec::new();
    // Per kind: read, refused; and the samples for the binary (file, bytes, read in process?).
    let mut tally = [[0usize; 3]; 2];
    let mut samples: Vec<(usize, Vec<u8>, bool)> = Vec::new();
    for (k, (kind, files)) in bases.iter().enumerate() {
        let path = root.join(format!("{kind}.csv"));
        for case in 0..per_kind {
            let mut bytes = rng.pick(files).clone();
            let mut kinds = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let (b, what) = mutate(&bytes, &mut rng);
                bytes = b;
                kinds.push(what);
            }
            std::fs::write(&path, &bytes).expect("write");
            let result = catch_unwind(AssertUnwindSafe(|| {
                if k == 0 {
                    try_observed(&path, &class)
                } else {
                    try_log(&path, &class)
                }
            }));
            let verdict = result.unwrap_or_else(|p| Err(crate::common::panic_text(p.as_ref())));
            match verdict {
                Ok(o) => {
                    tally[k][o as usize] += 1;
                    if case % 10 == 0 {
                        samples.push((k, bytes.clone(), o == Outcome::Read));
                    }
                }
                Err(why) => failures.push(format!(
                    "{kind} case {case} ({}): {why}\n--- input ---\n{}",
                    kinds.join("+"),
                    String::from_utf8_lossy(&bytes)
                )),
            }
        }
    }
    // Faults at known places: the error names that line and that column.
    let mut placed = [0usize; 2];
    for (k, (kind, files)) in bases.iter().enumerate() {
        let path = root.join(format!("placed-{kind}.csv"));
        // (Not the events: a cell made "1" there may be a unit's id, and so no fault.)
        let plain: Vec<&Vec<u8>> = files
            .iter()
            .filter(|b| !b.contains(&b'"') && !b.contains(&b'\r') && !b.starts_with(b"unit,"))
            .collect();
        for case in 0..per_kind / 2 {
            let base = plain[rng.below(plain.len())];
            let (bytes, line, field, what) = placed_fault(base, k == 0, &mut rng);
            std::fs::write(&path, &bytes).expect("write");
            let result = catch_unwind(AssertUnwindSafe(|| {
                if k == 0 {
                    observed::read_for(&path, &class.model).map(|_| ())
                } else {
                    play::read_log(&path, class.model.world.len(), &class.prm, class.months).map(|_| ())
                }
            }));
            let at = match result {
                Ok(Err(e)) if e.line == Some(line) && e.field.as_deref() == Some(field.as_str()) => {
                    placed[k] += 1;
                    continue;
                }
                Ok(Err(e)) => format!("{e}"),
                Ok(Ok(())) => "read".to_string(),
                Err(_) => "a panic".to_string(),
            };
            failures.push(format!(
                "{kind} placed case {case} ({what}): expected line {line}, field `{field}`; got {at}\n--- input ---\n{}",
                String::from_utf8_lossy(&bytes)
            ));
        }
    }
    std::panic::set_hook(previous_hook);
    let seconds = t0.elapsed().as_secs_f64();
    eprintln!(
        "fuzz_csv: {per_kind} cases a kind (seed {seed}) in {seconds:.2} s: observed curves {} read, {} refused at file, line and column; \
         decision logs {} read and replayed, {} refused at file, line and column ({} of them a mandate or pilot past the table); faults placed at a known cell: \
         {} of {} curves and {} of {} logs named at that line and column; {} failures",
        tally[0][0],
        tally[0][1],
        tally[1][0],
        tally[1][1] + tally[1][2],
        tally[1][2],
        placed[0],
        per_kind / 2,
        placed[1],
        per_kind / 2,
        failures.len()
    );
    for f in failures.iter().take(40) {
        eprintln!("{}", f.lines().next().unwrap_or(""));
    }
    assert!(
        failures.is_empty(),
        "{} cases failed; the first:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n\n")
    );
    assert!(tally[1][2] > 0, "some logs hold a lever too many: {tally:?}");
    for (k, t) in tally.iter().enumerate() {
        assert!(t[1] + t[2] > per_kind / 4, "the mutations reach the checks: {tally:?} (kind {k})");
        assert!(t[0] > per_kind / 50, "some mutations stay valid: {tally:?} (kind {k})");
    }

    // The binary on a sample: it agrees with the library, exiting 0, or 2 with one line naming
    // the file.
    let out = root.join("out").to_string_lossy().into_owned();
    let sc_arg = scenario.to_string_lossy().into_owned();
    let mut binary = [0usize; 2];
    for (k, bytes, read) in &samples {
        let path: PathBuf = root.join(format!("sample-{}.csv", bases[*k].0));
        std::fs::write(&path, bytes).expect("write");
        let p = path.to_string_lossy().into_owned();
        let flag = if *k == 0 { "--observed" } else { "--decisions" };
        let args = ["run", &sc_arg, "--replicates", "1", "--backend", "cpu", flag, &p, "--out", &out];
        let r = crate::common::pioneer(&args);
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("pioneer: ")).collect();
        let input = String::from_utf8_lossy(bytes);
        match r.status.code() {
            Some(0) => {
                assert!(*read, "{args:?}: exit 0, but the library refused it\n--- input ---\n{input}");
                binary[0] += 1;
            }
            Some(2) => {
                assert!(!*read, "{args:?}: exit 2, but the library read it:\n{err}\n--- input ---\n{input}");
                let named = lines
                    .first()
                    .is_some_and(|l| l.starts_with(&format!("error: {p}:")) && l.contains("field `"));
                assert!(
                    lines.len() == 1 && named,
                    "{args:?}: exit 2 must say one line naming the file, line and column:\n{err}\n--- input ---\n{input}"
                );
                binary[1] += 1;
            }
            c => panic!("{args:?}: exit {c:?}\n{err}\n--- input ---\n{input}"),
        }
    }
    eprintln!(
        "fuzz_csv: the binary on {} samples: {} ran, {} refused in one line naming file, line and column",
        samples.len(),
        binary[0],
        binary[1]
    );
    assert!(samples.len() >= per_kind / 10, "a sample went through the binary");
    let _ = std::fs::remove_dir_all(&root);
}
