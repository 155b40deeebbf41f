//! The real binary: run, trace and bench, repeatability of the files, and every kind of bad input
//! (exit code 2, a message naming file, line and field, no finished-looking output left).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pioneer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// A fresh temporary folder for one test.
fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pioneer-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

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
        "agenda: upper signal and external demand",
        "design: learned",
        "adopted",
        "recognised",
    ] {
        assert!(t.contains(step), "J's trace shows `{step}`:\n{t}");
    }
    let events = std::fs::read_to_string(dir.join("events.csv")).expect("events.csv");
    assert!(events.starts_with("month,unit,name,from,to,innovation"));
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

/// Write `files` into a fresh folder, run `pioneer run main.toml`, and check the failure.
fn bad(name: &str, files: &[(&str, &str)], extra: &[&str], expect: &[&str]) {
    let dir = temp(name);
    for (f, body) in files {
        std::fs::write(dir.join(f), body).expect("write");
    }
    let out = dir.join("out");
    let scenario = dir.join("main.toml");
    let mut args = vec!["run", scenario.to_str().expect("utf8"), "--out", out.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    let o = pioneer(&args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: exit code 2 for bad input:\n{t}");
    for e in expect {
        assert!(t.contains(e), "{name}: the message names `{e}`:\n{t}");
    }
    assert_eq!(
        t.lines().filter(|l| !l.trim().is_empty()).count(),
        1,
        "{name}: one clear line:\n{t}"
    );
    assert!(!t.contains("panicked") && !t.contains("RUST_BACKTRACE"), "{name}: no panic:\n{t}");
    for f in ["steps.csv", "summary.csv", "manifest.json"] {
        assert!(!out.join(f).exists(), "{name}: no {f} left behind");
    }
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
