//! Issue 8's cases, one by one, on the real binary: crashes, sizes checked before anything is
//! built, clear messages, inputs once silently accepted, output paths, and `trace --replicates`.

use crate::common::{bad, pioneer, temp, text};
use std::io::Write as _;
use std::process::{Command, Stdio};

const GRID: &str = "months = 12\n[world]\nkind = \"grid\"\n";
const CHINA: &str = "months = 12\n[world]\nkind = \"china\"\n";
const FILE_WORLD: &str = "months = 12\n[world]\nkind = \"file\"\nunits = \"units.csv\"\n";

/// Run the binary and expect exit 2 with one line holding every part of `expect`.
fn refused(name: &str, args: &[&str], expect: &[&str]) -> String {
    let o = pioneer(args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: exit 2:\n{t}");
    assert_eq!(t.lines().count(), 1, "{name}: one line:\n{t}");
    for e in expect {
        assert!(t.contains(e), "{name}: names `{e}`:\n{t}");
    }
    t
}

#[test]
fn former_crashes_are_clear_errors() {
    for k in ["1000000", "1e9", "9223372036854775807", "0"] {
        bad(
            &format!("neighbours-{k}"),
            &[("main.toml", &format!("{CHINA}neighbours = {k}\n"))],
            &[],
            &["main.toml:4:", "world.neighbours"],
        );
    }
    refused(
        "trace-months",
        &["trace", "scenarios/jdistrict.toml", "--unit", "J", "--months", "4294967295"],
        &["--months", "1 to 65534"],
    );
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    // `pioneer trace … | head`: the reader goes away before the trace is printed.
    let dir = temp("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(["trace", "scenarios/jdistrict.toml", "--unit", "J", "--out"])
        .arg(&dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "exit 0 on a closed pipe:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "quiet:\n{err}");
}

#[test]
fn sizes_are_checked_from_the_numbers_before_building() {
    // Every run's end state is kept, so --batch does not make this fit; the advice says so.
    let t = refused(
        "batch",
        &[
            "run",
            "scenarios/baseline.toml",
            "--replicates",
            "1000000",
            "--months",
            "1",
            "--batch",
            "64",
        ],
        &["--replicates", "GiB", "pioneer sweep"],
    );
    assert!(!t.contains("--batch"), "no advice to use --batch, which would not help:\n{t}");
    bad(
        "china-16m",
        &[(
            "main.toml",
            &format!("{CHINA}provinces = 1\nprefectures = 1\ncounties = 16000000\n"),
        )],
        &[],
        &["main.toml:6:", "world.counties", "peer group"],
    );
    bad(
        "china-16m-memory",
        &[(
            "main.toml",
            &format!("replicates = 1000\n{CHINA}provinces = 10\nprefectures = 1000\ncounties = 16000000\n"),
        )],
        &[],
        &["main.toml:1:", "replicates", "GiB"],
    );
    bad(
        "provinces",
        &[(
            "main.toml",
            &format!("{CHINA}provinces = 70000\nprefectures = 70000\ncounties = 70000\n"),
        )],
        &[],
        &["main.toml:4:", "world.provinces", "peer group"],
    );
    bad(
        "grid-4096",
        &[("main.toml", &format!("{GRID}width = 4096\nheight = 4095\n"))],
        &[],
        &["main.toml:5:", "world.height", "peer group"],
    );
    bad(
        "grid-parents",
        &[("main.toml", &format!("{GRID}width = 100000\nheight = 1\nparents = 100000\n"))],
        &[],
        &["main.toml:6:", "world.parents"],
    );
    bad(
        "threads",
        &[("main.toml", GRID)],
        &["--threads", "100000"],
        &["--threads", "allowed 1 to"],
    );
    bad("threads-0", &[("main.toml", GRID)], &["--threads", "0"], &["--threads"]);
    // The world alone would not fit: refused before it is built, at its largest field.
    let dir = temp("trace-size");
    let huge = dir.join("huge.toml");
    let text_huge = format!("{CHINA}provinces = 10\nprefectures = 1000\ncounties = 16000000\nneighbours = 1000\n");
    std::fs::write(&huge, text_huge).expect("write");
    let h = huge.to_str().expect("utf8");
    refused(
        "trace-size",
        &["trace", h, "--unit", "0"],
        &["huge.toml:6:", "world.counties", "GiB"],
    );
    let sweep = dir.join("sweep.toml");
    std::fs::write(&sweep, "base = \"huge.toml\"\n[vary]\nspace = [0.5, 0.6]\n").expect("write");
    let out = dir.join("out");
    let (sw, o) = (sweep.to_str().expect("utf8"), out.to_str().expect("utf8"));
    refused(
        "sweep-size",
        &["sweep", sw, "--backend", "cpu", "--out", o],
        &["huge.toml:6:", "world.counties", "GiB"],
    );
    assert!(!out.exists(), "nothing written for a sweep refused by its size");
    refused(
        "ablate-size",
        &["ablate", "scenarios/baseline.toml", "--replicates", "100000", "--backend", "cpu"],
        &["--replicates", "GiB"],
    );
    refused(
        "bench-size",
        &["bench", "--runs", "1000000", "--backend", "cpu"],
        &["--runs", "GiB"],
    );
}

#[test]
fn messages_name_the_right_file_line_and_field() {
    let dir = temp("utf8");
    let path = dir.join("main.toml");
    std::fs::write(&path, b"months = 12\n[world]\nkind = \"gr\xffid\"\n").expect("write");
    refused(
        "utf8",
        &["run", path.to_str().expect("utf8")],
        &["main.toml:3:", "UTF-8", "column 11"],
    );
    bad(
        "schedule-type",
        &[("main.toml", "space = \"high\"\n[world]\nkind = \"grid\"\n")],
        &[],
        &[
            "main.toml:1:",
            "space",
            "a schedule is a number from 0 to 1, or a list of [month, value] pairs",
        ],
    );
    bad(
        "no-world",
        &[("main.toml", "months = 12\nreplicates = 2\n")],
        &[],
        &["main.toml", "field `world`", "[world] table"],
    );
    bad(
        "replicates-flag",
        &[(
            "main.toml",
            "months = 12\nseed = 1\n\n\n\nreplicates = 4\n[world]\nkind = \"grid\"\n",
        )],
        &["--replicates", "4000000"],
        &["field `--replicates`"],
    );
    bad(
        "units-empty",
        &[("main.toml", "months = 12\n[world]\nkind = \"file\"\nunits = \"\"\n")],
        &[],
        &["main.toml:4:", "world.units", "is empty"],
    );
    bad(
        "units-missing",
        &[("main.toml", "months = 12\n[world]\nkind = \"file\"\nunits = \"nowhere.csv\"\n")],
        &[],
        &["main.toml:4:", "world.units", "nowhere.csv"],
    );
    bad(
        "comment-after-header",
        &[("main.toml", "months = 12\n[world] # the map\nkind = \"grid\"\nwidth = -3\n")],
        &[],
        &["main.toml:4:", "world.width"],
    );
    bad(
        "dotted-key",
        &[("main.toml", "months = 12\nparams.rho = 1.5\n[world]\nkind = \"grid\"\n")],
        &[],
        &["main.toml:2:", "params.rho"],
    );
    bad(
        "semicolons",
        &[("main.toml", FILE_WORLD), ("units.csv", "id;name;level;parent;x;y\nA;A;0;;0;0\n")],
        &[],
        &["units.csv:1:", "separated by `;`", "commas"],
    );
    // A peer group over 65535 units: the file, the line of the first unit too many, the field.
    let mut units = String::from("id,name,level,parent,x,y\nP,P,0,,0.5,0.5\n");
    for i in 0..65536 {
        units.push_str(&format!("U{i},U{i},1,P,0.5,0.5\n"));
    }
    bad(
        "peer-group",
        &[("main.toml", FILE_WORLD), ("units.csv", &units)],
        &[],
        &["units.csv:65538:", "parent", "under `P`", "65535"],
    );
}

#[test]
fn inputs_once_accepted_silently_are_refused() {
    bad(
        "capacity-extra",
        &[("main.toml", &format!("{GRID}capacity = [0.1, 0.5, \"x\"]\n"))],
        &[],
        &["main.toml:4:", "world.capacity"],
    );
    bad(
        "issuer-level",
        &[(
            "main.toml",
            &format!("{GRID}[[mandate]]\nissuer = \"level:99\"\nmonth = 1\ndeadline = 5\n"),
        )],
        &[],
        &["main.toml:5:", "mandate[0].issuer", "levels 0 to 1"],
    );
    bad(
        "pilot-empty",
        &[("main.toml", &format!("{GRID}[[pilot]]\nunits = []\nmonth = 1\n"))],
        &[],
        &["main.toml:5:", "pilot[0].units"],
    );
    bad(
        "innovation-name",
        &[("main.toml", &format!("{GRID}[[innovation]]\nname = \" \"\n"))],
        &[],
        &["main.toml:5:", "innovation[0].name", "empty"],
    );
    let two_as = "id,name,level,parent,x,y\nA1,A,0,,0.2,0.5\nA2,A,0,,0.8,0.5\n";
    bad(
        "duplicate-names",
        &[
            ("main.toml", &format!("{FILE_WORLD}[[adopted]]\nunit = \"A\"\nquality = 0.5\n")),
            ("units.csv", two_as),
        ],
        &[],
        &["main.toml:6:", "adopted[0].unit", "2 units are named `A`", "A1, A2"],
    );
    bad(
        "level-without-parent",
        &[
            ("main.toml", FILE_WORLD),
            ("units.csv", "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,2,,0,0\n"),
        ],
        &[],
        &["units.csv:3:", "parent", "only level-0 units"],
    );
    bad(
        "level-huge",
        &[
            ("main.toml", FILE_WORLD),
            ("units.csv", "id,name,level,parent,x,y\nA,A,0,,0,0\nB,B,4294967295,A,0,0\n"),
        ],
        &[],
        &["units.csv:3:", "level", "0 to 31"],
    );
    // A unit named twice is found by its id, and trace says which ids share a name.
    let dir = temp("trace-duplicate");
    std::fs::write(dir.join("main.toml"), FILE_WORLD).expect("write");
    std::fs::write(dir.join("units.csv"), two_as).expect("write");
    let main = dir.join("main.toml");
    let out = dir.join("out");
    let (m, o) = (main.to_str().expect("utf8"), out.to_str().expect("utf8"));
    refused("trace-ambiguous", &["trace", m, "--unit", "A", "--out", o], &["--unit", "A1, A2"]);
    let ok = pioneer(&["trace", m, "--unit", "A2", "--out", o]);
    assert!(ok.status.success() && text(&ok).starts_with("A (unit 1"), "{}", text(&ok));
}

#[test]
fn output_paths_are_checked_before_any_work() {
    for (i, name) in ["../../x", "/tmp/x", "", ".hidden", "a/b"].into_iter().enumerate() {
        bad(
            &format!("name-{i}"),
            &[("main.toml", &format!("name = \"{name}\"\n{GRID}"))],
            &[],
            &["main.toml:1:", "field `name`", "one plain folder name"],
        );
    }
    let dir = temp("sweep-name");
    std::fs::write(dir.join("base.toml"), GRID).expect("write");
    let sweep = dir.join("s.toml");
    std::fs::write(&sweep, "name = \"../up\"\nbase = \"base.toml\"\n[vary]\nspace = [0.5]\n").expect("write");
    refused(
        "sweep-name",
        &["sweep", sweep.to_str().expect("utf8"), "--backend", "cpu"],
        &["s.toml:1:", "field `name`"],
    );
    // A folder that cannot be made: said at once, as the --out flag's problem.
    let blocker = dir.join("a-file");
    std::fs::File::create(&blocker).and_then(|mut f| f.write_all(b"x")).expect("write");
    let under = blocker.join("out");
    let u = under.to_str().expect("utf8");
    refused(
        "out-under-file",
        &["run", "scenarios/baseline.toml", "--backend", "cpu", "--out", u],
        &["--out"],
    );
    refused(
        "trace-out",
        &["trace", "scenarios/jdistrict.toml", "--unit", "J", "--out", u],
        &["--out"],
    );
    refused(
        "ablate-out",
        &["ablate", "scenarios/classroom.toml", "--backend", "cpu", "--out", u],
        &["--out"],
    );
    let good = dir.join("good.toml");
    std::fs::write(&good, "base = \"base.toml\"\n[vary]\nspace = [0.5]\n").expect("write");
    refused(
        "sweep-out",
        &["sweep", good.to_str().expect("utf8"), "--backend", "cpu", "--out", u],
        &["--out"],
    );
}

#[test]
fn trace_replays_a_run_of_a_larger_batch() {
    // Run 40 of a 48-run batch: trace needs --replicates to know the run exists.
    refused(
        "trace-run-40",
        &["trace", "scenarios/jdistrict.toml", "--unit", "J", "--run", "40"],
        &["--run", "--replicates"],
    );
    let dir = temp("trace-40");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let res = pioneer::app::trace::trace(&pioneer::app::trace::TraceArgs {
        scenario: root.join("scenarios/jdistrict.toml"),
        run: 40,
        unit: "J".into(),
        replicates: Some(48),
        months: Some(36),
        out: Some(dir.join("trace")),
        ..Default::default()
    })
    .expect("replays run 40");
    let ran = pioneer::app::run::run(&pioneer::app::run::RunArgs {
        scenario: root.join("scenarios/jdistrict.toml"),
        replicates: Some(48),
        months: Some(36),
        out: Some(dir.join("run")),
        backend: "cpu".into(),
        ..Default::default()
    })
    .expect("runs");
    let per = 36 * ran.output.record_len;
    assert_eq!(
        &ran.output.agg[40 * per..41 * per],
        &res.output.agg[..],
        "the same run, month by month"
    );
}
