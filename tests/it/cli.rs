//! The real binary: run, trace and bench, repeatability of the files, and every kind of bad input
//! (exit code 2, a message naming file, line and field, no finished-looking output left).

use crate::common::{bad, pioneer, temp, text};
use std::path::Path;
use std::process::Command;

#[test]
fn run_writes_every_output_and_repeats_byte_for_byte() {
    let dir = temp("run");
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let o = pioneer(&[
            "run",
            "scenarios/classroom.toml",
            "--units",
            "--replicates",
            "4",
            "--backend",
            "cpu",
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("classroom: 4 runs × 39 units × 240 months"), "{}", text(&o));
    }
    for f in [
        "steps.csv",
        "summary.csv",
        "units.csv",
        "diffusion.png",
        "diffusion.svg",
        "manifest.json",
    ] {
        assert!(a.join(f).is_file(), "{f} written");
    }
    for f in ["steps.csv", "summary.csv", "units.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).expect("read"),
            std::fs::read(b.join(f)).expect("read"),
            "{f} identical across invocations"
        );
    }
    let steps = std::fs::read_to_string(a.join("steps.csv")).expect("read");
    assert_eq!(steps.lines().count(), 1 + 4 * 240, "one row per run and month");
    assert!(steps.starts_with("run,point,replicate,month,innovation,adopters,share,adopters_level0,adopters_level1,new_invented"));
    let summary = std::fs::read_to_string(a.join("summary.csv")).expect("read");
    assert_eq!(summary.lines().count(), 1 + 4);
    let units = std::fs::read_to_string(a.join("units.csv")).expect("read");
    assert_eq!(units.lines().count(), 1 + 4 * 39);
    ladders_are_consistent(&a, 4);
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(a.join("manifest.json")).expect("read")).expect("json");
    assert_eq!(manifest["replicates"], 4);
    assert_eq!(manifest["scenario"]["world"]["kind"], "grid");
    assert!(manifest["backend"].as_str().is_some_and(|b| b.starts_with("cpu")));
    assert!(manifest["wall_seconds"].as_f64().is_some());
    assert!(std::fs::read_dir(&a)
        .expect("dir")
        .all(|e| !e.expect("entry").file_name().to_string_lossy().ends_with(".tmp")));
    // Flags override the file.
    let o = pioneer(&[
        "run",
        "scenarios/classroom.toml",
        "--replicates",
        "2",
        "--months",
        "7",
        "--seed",
        "9",
        "--out",
        a.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let steps = std::fs::read_to_string(a.join("steps.csv")).expect("read");
    assert_eq!(steps.lines().count(), 1 + 2 * 7);
}

/// The ladder as the three files tell it agrees: in units.csv each adopter's rung months are
/// `depth` increasing months from its adoption month, with `full_month` the last exactly when the
/// ladder is complete; steps.csv's `depth_1..4` add up to the adopters and `complete` is
/// `depth_4`; summary.csv's `mean_depth` and `complete_share` are units.csv's.
fn ladders_are_consistent(dir: &Path, runs: usize) {
    let read = |f: &str| -> Vec<csv::StringRecord> {
        let mut r = csv::Reader::from_path(dir.join(f)).expect("csv");
        r.records().map(|x| x.expect("record")).collect()
    };
    let header = |f: &str| -> csv::StringRecord { csv::Reader::from_path(dir.join(f)).expect("csv").headers().expect("header").clone() };
    let col = |h: &csv::StringRecord, name: &str| h.iter().position(|c| c == name).unwrap_or_else(|| panic!("column {name}"));
    let uh = header("units.csv");
    let (adopted, depth, rungs, full, promoted) = (
        col(&uh, "adopted_month"),
        col(&uh, "depth"),
        col(&uh, "rung_months"),
        col(&uh, "full_month"),
        col(&uh, "promoted_later"),
    );
    let mut per_run = vec![(0u64, 0u64, 0u64); runs];
    for row in read("units.csv") {
        let d: u32 = row[depth].parse().expect("depth");
        if row[adopted].is_empty() {
            assert_eq!(d, 0, "{row:?}");
            continue;
        }
        let months: Vec<u32> = row[rungs].split(';').map(|m| m.parse().expect("month")).collect();
        assert_eq!(months.len() as u32, d, "one month per rung reached: {row:?}");
        assert_eq!(months[0].to_string(), row[adopted], "rung 1 is the adoption: {row:?}");
        assert!(months.windows(2).all(|w| w[0] <= w[1]), "rungs in order: {row:?}");
        assert_eq!(row[full].is_empty(), d < 4, "full_month exactly for complete ladders: {row:?}");
        assert!(["", "0", "1"].contains(&&row[promoted]), "{row:?}");
        let r: usize = row[0].parse().expect("run");
        per_run[r].0 += 1;
        per_run[r].1 += d as u64;
        per_run[r].2 += (d == 4) as u64;
    }
    let sh = header("steps.csv");
    let (ad, comp) = (col(&sh, "adopters"), col(&sh, "complete"));
    let depths: Vec<usize> = (1..=4).map(|d| col(&sh, &format!("depth_{d}"))).collect();
    for row in read("steps.csv") {
        let n = |c: usize| row[c].parse::<u64>().expect("count");
        assert_eq!(
            depths.iter().map(|&c| n(c)).sum::<u64>(),
            n(ad),
            "depths add up to adopters: {row:?}"
        );
        assert_eq!(n(comp), n(depths[3]), "complete is depth 4: {row:?}");
    }
    let mh = header("summary.csv");
    let (md, cs) = (col(&mh, "mean_depth"), col(&mh, "complete_share"));
    for row in read("summary.csv") {
        let r: usize = row[0].parse().expect("run");
        let (a, ds, c) = per_run[r];
        let close = |x: &str, y: f64| (x.parse::<f64>().expect("number") - y).abs() < 1e-6;
        assert!(
            close(&row[md], ds as f64 / a as f64) && close(&row[cs], c as f64 / a as f64),
            "{row:?} vs {:?}",
            per_run[r]
        );
    }
}

#[test]
fn trace_tells_j_s_story_and_writes_events() {
    let dir = temp("trace");
    let o = pioneer(&[
        "trace",
        "scenarios/jdistrict.toml",
        "--run",
        "0",
        "--unit",
        "J",
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for step in [
        "need: incentive and gap",
        "agenda: upper signal and external demand; the pitch won upper backing",
        "pitch to the upper leader: B",
        "design: learned from a source and improved [source neighbour F q 0.35 at depth 1",
        "adopted: the first rung reached [rung 1/4 consultation platform: hurdle",
        "rung 2/4 unified intake",
        "recognised",
        "leader: promoted",
    ] {
        assert!(t.contains(step), "J's trace shows `{step}`:\n{t}");
    }
    let events = std::fs::read_to_string(dir.join("events.csv")).expect("events.csv");
    assert!(events.starts_with("month,unit,name,from,to,innovation"));
    assert!(
        events
            .lines()
            .next()
            .is_some_and(|h| h.contains(",rung,hurdle,resistance,backing_before,backing,source_unit,")),
        "events.csv carries the ladder"
    );
    assert!(
        events.lines().any(|l| l.contains(",F,") || l.contains(",Siming,")),
        "events of other units too"
    );
    // By index as well as by name; a unit that does not exist is bad input.
    let o = pioneer(&[
        "trace",
        "scenarios/jdistrict.toml",
        "--unit",
        "7",
        "--months",
        "12",
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert!(o.status.success() && text(&o).starts_with("J (unit 7"), "{}", text(&o));
    let o = pioneer(&[
        "trace",
        "scenarios/jdistrict.toml",
        "--unit",
        "Atlantis",
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--unit"), "{}", text(&o));
    let o = pioneer(&[
        "trace",
        "scenarios/jdistrict.toml",
        "--unit",
        "J",
        "--run",
        "99",
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn bench_reports_agent_months_per_second() {
    let dir = temp("bench");
    let rec = dir.join("bench.jsonl");
    let o = pioneer(&[
        "bench",
        "--runs",
        "2",
        "--months",
        "6",
        "--reps",
        "1",
        "--record",
        rec.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("agent-months/s"), "{}", text(&o));
    let line: serde_json::Value = serde_json::from_str(std::fs::read_to_string(&rec).expect("record").trim()).expect("json");
    assert!(line["agent_months_per_second"].as_f64().is_some_and(|v| v > 0.0));
    assert_eq!(line["units"], 3208);
}

#[test]
fn bench_scaling_writes_its_curves_and_stops_where_told() {
    let dir = temp("scaling");
    let out = dir.join("curves");
    let o = pioneer(&[
        "bench",
        "--scaling",
        "--scenario",
        "scenarios/classroom.toml",
        "--months",
        "2",
        "--grid-runs",
        "1",
        "--max-seconds",
        "1e-9",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // Each curve stops after its first batch, which took longer than a nanosecond.
    assert!(
        t.contains("runs: stopped after 1 runs") && t.contains("units: stopped after 110 units"),
        "{t}"
    );
    let csv = std::fs::read_to_string(out.join("scaling.csv")).expect("scaling.csv");
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!(&rows[0][..5], ["curve", "world", "runs", "units", "months"], "{csv}");
    assert_eq!(&rows[1][..5], ["runs", "classroom", "1", "39", "2"], "{csv}");
    assert_eq!(&rows[2][2..5], ["1", "110", "2"], "{csv}");
    for row in &rows[1..] {
        let rate: f64 = row[6].parse().expect("agent-months/s");
        let bytes: f64 = row[7].parse().expect("bytes per unit-run");
        assert!(rate > 0.0 && bytes == 136.0, "{csv}");
    }
    let png = std::fs::metadata(out.join("scaling.png")).expect("scaling.png");
    assert!(png.len() > 10_000, "a drawn chart: {} bytes", png.len());
    for (flag, value) in [("--max-seconds", "0"), ("--grid-runs", "0"), ("--months", "0")] {
        let o = pioneer(&["bench", "--scaling", "--out", out.to_str().expect("utf8"), flag, value]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(flag), "{}", text(&o));
    }
}

#[test]
fn devices_reckon_the_largest_batch() {
    let o = pioneer(&["devices", "--scenario", "scenarios/classroom.toml", "--memory-gib", "80"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("runs of classroom (39 units, 240 months) at once"), "{t}");
    assert!(t.contains("adapter 1:") == t.contains("in 80.0 GiB of device memory"), "{t}");
    let o = pioneer(&["devices", "--memory-gib=-1"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--memory-gib"), "{}", text(&o));
}

const GRID: &str = "months = 12\n[world]\nkind = \"grid\"\n";

#[test]
fn bad_input_is_refused_clearly() {
    bad(
        "malformed",
        &[("main.toml", "months = 12\n[world\nkind = \"grid\"\n")],
        &[],
        &["main.toml:2:"],
    );
    bad(
        "unknown-field",
        &[("main.toml", &format!("{GRID}[params]\nr_need = 0.1\nspeed = 3\n"))],
        &[],
        &["main.toml:6:", "params.speed", "unknown field"],
    );
    bad(
        "wrong-type",
        &[("main.toml", &format!("{GRID}[params]\nr_need = \"high\"\n"))],
        &[],
        &["main.toml:5:", "params.r_need", "invalid type"],
    );
    bad(
        "out-of-range",
        &[("main.toml", &format!("{GRID}[params]\nrho = 1.5\n"))],
        &[],
        &["main.toml:5:", "params.rho", "allowed 0 to 1"],
    );
    bad(
        "order",
        &[("main.toml", &format!("{GRID}[params]\ntheta_lo = 0.7\n"))],
        &[],
        &["main.toml:5:", "params.theta_lo", "must not exceed"],
    );
    bad(
        "zero-months",
        &[("main.toml", "months = 0\n[world]\nkind = \"grid\"\n")],
        &[],
        &["main.toml:1:", "months"],
    );
    bad(
        "zero-width",
        &[("main.toml", &format!("{GRID}width = 0\n"))],
        &[],
        &["main.toml:4:", "world.width"],
    );
    bad("zero-replicates", &[("main.toml", GRID)], &["--replicates", "0"], &["--replicates"]);
    bad("zero-batch", &[("main.toml", GRID)], &["--batch", "0"], &["--batch"]);
    bad(
        "kind",
        &[("main.toml", "[world]\nkind = \"planet\"\n")],
        &[],
        &["main.toml:2:", "world.kind", "china"],
    );
    bad(
        "field-of-other-kind",
        &[("main.toml", &format!("{GRID}counties = 5\n"))],
        &[],
        &["main.toml:4:", "world.counties"],
    );
    bad(
        "too-large",
        &[("main.toml", "replicates = 4000000\n[world]\nkind = \"china\"\n")],
        &[],
        &["main.toml:1:", "replicates", "GiB"],
    );
    bad(
        "world-too-large",
        &[("main.toml", "[world]\nkind = \"china\"\ncounties = 900000000\n")],
        &[],
        &["main.toml:3:", "world.counties", "too large"],
    );
    bad(
        "too-many-innovations",
        &[("main.toml", &format!("{GRID}{}", "[[innovation]]\nname = \"x\"\n".repeat(9)))],
        &[],
        &["innovation", "at most 8"],
    );
    bad(
        "schedule",
        &[("main.toml", "space = [[5, 0.5]]\n[world]\nkind = \"grid\"\n")],
        &[],
        &["main.toml:1:", "space", "month 0"],
    );
    bad(
        "mandate-unit",
        &[(
            "main.toml",
            &format!("{GRID}[[mandate]]\nissuer = \"unit:Gotham\"\nmonth = 1\ndeadline = 5\n"),
        )],
        &[],
        &["main.toml:5:", "mandate[0].issuer", "Gotham"],
    );
    bad(
        "backend",
        &[("main.toml", GRID)],
        &["--backend", "abacus"],
        &["--backend", "abacus"],
    );
    bad("missing-file", &[], &[], &["main.toml", "cannot read"]);
    let units = "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,1,A,0,0\n";
    let world = "[world]\nkind = \"file\"\nunits = \"units.csv\"\nedges = \"edges.csv\"\n";
    bad(
        "file-parent",
        &[
            ("main.toml", world),
            ("units.csv", &format!("{units}C,C,1,Z,0,0\n")),
            ("edges.csv", "a,b\n"),
        ],
        &[],
        &["units.csv:4:", "parent", "`Z`"],
    );
    bad(
        "file-duplicate",
        &[
            ("main.toml", world),
            ("units.csv", &format!("{units}B,B2,1,A,0,0\n")),
            ("edges.csv", "a,b\n"),
        ],
        &[],
        &["units.csv:4:", "id", "duplicate"],
    );
    bad(
        "file-edge",
        &[("main.toml", world), ("units.csv", units), ("edges.csv", "a,b\nA,B\nB,Q\n")],
        &[],
        &["edges.csv:3:", "Q"],
    );
    bad(
        "file-self-loop",
        &[("main.toml", world), ("units.csv", units), ("edges.csv", "a,b\nB,B\n")],
        &[],
        &["edges.csv:2:", "self"],
    );
    bad(
        "file-number",
        &[
            ("main.toml", world),
            ("units.csv", "id,name,level,parent,x,y\nA,A,zero,,0,0\n"),
            ("edges.csv", "a,b\n"),
        ],
        &[],
        &["units.csv:2:", "level"],
    );
}

/// Model v2's fields: ladders, required and seeded depths, resistance and publicity, tenure.
#[test]
fn bad_v2_input_is_refused_clearly() {
    let inn = "[[innovation]]\nname = \"w\"\n";
    bad(
        "rungs-zero",
        &[("main.toml", &format!("{GRID}{inn}rungs = 0\n"))],
        &[],
        &["main.toml:6:", "innovation[0].rungs", "1 to 8"],
    );
    bad(
        "rungs-nine",
        &[("main.toml", &format!("{GRID}{inn}rungs = 9\n"))],
        &[],
        &["main.toml:6:", "innovation[0].rungs", "1 to 8"],
    );
    bad(
        "rungs-negative",
        &[("main.toml", &format!("{GRID}{inn}rungs = -2\n"))],
        &[],
        &["main.toml:6:", "innovation[0].rungs"],
    );
    bad(
        "rung-names",
        &[("main.toml", &format!("{GRID}{inn}rungs = 3\nrung_names = [\"a\", \"b\"]\n"))],
        &[],
        &["main.toml:7:", "innovation[0].rung_names", "2 names for 3 rungs"],
    );
    bad(
        "rung-name-empty",
        &[("main.toml", &format!("{GRID}{inn}rungs = 2\nrung_names = [\"a\", \" \"]\n"))],
        &[],
        &["main.toml:7:", "innovation[0].rung_names", "empty"],
    );
    bad(
        "mandate-depth",
        &[(
            "main.toml",
            &format!("{GRID}{inn}rungs = 2\n[[mandate]]\nissuer = \"centre\"\nmonth = 1\ndeadline = 5\ndepth = 3\n"),
        )],
        &[],
        &["main.toml:11:", "mandate[0].depth", "1 to the innovation's 2 rungs"],
    );
    bad(
        "adopted-depth",
        &[(
            "main.toml",
            &format!("{GRID}{inn}[[adopted]]\nunit = \"D1-1\"\nquality = 0.5\ndepth = 0\n"),
        )],
        &[],
        &["main.toml:9:", "adopted[0].depth", "1 to the innovation's 4 rungs"],
    );
    bad(
        "unit-resistance",
        &[("main.toml", &format!("{GRID}[[unit]]\nname = \"D1-1\"\nresistance = 1.5\n"))],
        &[],
        &["main.toml:6:", "unit[0].resistance", "allowed 0 to 1"],
    );
    bad(
        "unit-publicity",
        &[("main.toml", &format!("{GRID}[[unit]]\nname = \"D1-1\"\npublicity = -0.1\n"))],
        &[],
        &["main.toml:6:", "unit[0].publicity", "allowed 0 to 1"],
    );
    bad(
        "unit-tenure",
        &[("main.toml", &format!("{GRID}[[unit]]\nname = \"D1-1\"\nleader_tenure = 5\n"))],
        &[],
        &["main.toml:6:", "unit[0].leader_tenure", "5 years"],
    );
    bad(
        "param-v2",
        &[("main.toml", &format!("{GRID}[params]\nlambda_b = 2\n"))],
        &[],
        &["main.toml:5:", "params.lambda_b", "allowed 0 to 1"],
    );
    bad(
        "param-v2-order",
        &[("main.toml", &format!("{GRID}[params]\nmu_lo = 0.8\nmu_hi = 0.2\n"))],
        &[],
        &["main.toml:5:", "params.mu_lo", "must not exceed"],
    );
    bad(
        "scalar-mu-gone",
        &[("main.toml", &format!("{GRID}[params]\nmu = 0.5\n"))],
        &[],
        &["main.toml:5:", "params.mu", "unknown field"],
    );
    bad(
        "months-too-many",
        &[("main.toml", "months = 70000\n[world]\nkind = \"grid\"\n")],
        &[],
        &["main.toml:1:", "months", "1 to 65534"],
    );
    bad(
        "months-flag",
        &[("main.toml", GRID)],
        &["--months", "70000"],
        &["--months", "1 to 65534"],
    );
    let world = "[world]\nkind = \"file\"\nunits = \"units.csv\"\n";
    bad(
        "file-resistance",
        &[
            ("main.toml", world),
            (
                "units.csv",
                "id,name,level,parent,x,y,resistance\nA,A,0,,0,0,0.5\nB,B,1,A,0,0,high\n",
            ),
        ],
        &[],
        &["units.csv:3:", "resistance", "[0,1]"],
    );
}

/// `pioneer ablate`: the table, the CSV and the manifest; a mechanism that does not exist and too
/// few replicates are bad input.
#[test]
fn ablate_switches_each_mechanism_off_in_turn() {
    let dir = temp("ablate");
    let o = pioneer(&[
        "ablate",
        "scenarios/classroom.toml",
        "--replicates",
        "4",
        "--months",
        "60",
        "--backend",
        "cpu",
        "--only",
        "publicity,b_phi",
        "--out",
        dir.to_str().expect("utf8"),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("2 mechanisms switched off in turn, 4 paired replicates each"), "{t}");
    assert!(
        t.contains("| publicity | `mu_lo = 0, mu_hi = 0` |") && t.contains("| resistance | `b_phi = 0` |"),
        "{t}"
    );
    let csv = std::fs::read_to_string(dir.join("ablation.csv")).expect("ablation.csv");
    assert!(
        csv.starts_with("mechanism,setting,innovation,outcome,default,ablated,delta,se,clear\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 2 * 8, "one row per mechanism and outcome:\n{csv}");
    assert!(std::fs::read_to_string(dir.join("ablation.md"))
        .expect("ablation.md")
        .contains("| (default: means) |"));
    assert!(std::fs::read_to_string(dir.join("manifest.json"))
        .expect("manifest")
        .contains("\"command\": \"ablate\""));
    for (args, field) in [(vec!["--only", "charisma"], "--only"), (vec!["--replicates", "1"], "--replicates")] {
        let mut all = vec![
            "ablate",
            "scenarios/classroom.toml",
            "--backend",
            "cpu",
            "--out",
            dir.to_str().expect("utf8"),
        ];
        all.extend(args);
        let o = pioneer(&all);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains(field), "{}", text(&o));
    }
}

#[test]
fn an_output_file_being_written_never_looks_finished() {
    let dir = temp("atomic");
    let target = dir.join("steps.csv");
    {
        let mut f = pioneer::output::AtomicFile::create(&target).expect("create");
        f.write_all(b"half a file").expect("write");
        assert!(!target.exists(), "nothing under the final name while writing");
        // Dropped without commit: as if the run were interrupted.
    }
    assert!(
        !target.exists() && std::fs::read_dir(&dir).expect("dir").count() == 0,
        "no trace of the interrupted file"
    );
    std::fs::write(&target, "old results").expect("write");
    let mut f = pioneer::output::AtomicFile::create(&target).expect("create");
    f.write_all(b"new").expect("write");
    assert_eq!(
        std::fs::read_to_string(&target).expect("read"),
        "old results",
        "old file intact until commit"
    );
    f.commit().expect("commit");
    assert_eq!(std::fs::read_to_string(Path::new(&target)).expect("read"), "new");
}

#[test]
fn devices_lists_adapters_or_says_how_to_get_one() {
    let o = pioneer(&["devices"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("adapter 1:") || (t.contains("no adapters found") && t.contains("mesa-vulkan-drivers")),
        "{t}"
    );
}

#[test]
fn gpu_backend_without_a_matching_adapter_is_bad_input() {
    let dir = temp("no-adapter");
    let o = Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args([
            "run",
            "scenarios/classroom.toml",
            "--backend",
            "gpu",
            "--out",
            dir.to_str().expect("utf8"),
        ])
        .env("PIONEER_ADAPTER", "no-such-adapter-anywhere")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--backend") && text(&o).contains("adapter"), "{}", text(&o));
    assert!(!dir.join("steps.csv").exists());
}
