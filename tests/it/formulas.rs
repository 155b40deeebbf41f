//! No CSV that pioneer writes holds a cell a spreadsheet would run: a world whose ids and names,
//! an innovation and rungs whose names, and a class whose students' names start with `=`, `+`,
//! `-` or `@` goes through every command that writes CSV, and every cell of every CSV written
//! is checked.

use crate::common::{pioneer, temp, text};
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// The risky starts, one per unit in turn.
const STARTS: [&str; 6] = ["=", "+", "-", "@", "=HYPERLINK(\"http://x\";\"", "-2+3+cmd|' /C calc'!"];

/// Every CSV under `dir`, subfolders included.
fn csvs(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            csvs(&p, out);
        } else if p.extension().is_some_and(|x| x == "csv") {
            out.push(p);
        }
    }
}

/// The cells of `file` a spreadsheet would run: `file:line:column: cell`.
fn live_cells(file: &Path) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_path(file)
        .expect("opens");
    let mut bad = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.expect("a record");
        for (j, cell) in rec.iter().enumerate() {
            let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.trim().parse::<f64>().is_err();
            if risky {
                bad.push(format!("{}:{}:{}: {cell}", file.display(), i + 1, j + 1));
            }
        }
    }
    bad
}

/// The J district world with every id and name made a formula, its innovation and rungs too.
fn hostile_world(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let units = std::fs::read_to_string(root.join("jdistrict/units.csv")).expect("units");
    let edges = std::fs::read_to_string(root.join("jdistrict/edges.csv")).expect("edges");
    let id = |x: &str| if x.is_empty() { String::new() } else { format!("@{x}") };
    let mut u = String::new();
    for (n, line) in units.lines().enumerate() {
        if n == 0 {
            u.push_str(line);
        } else {
            let mut c: Vec<String> = line.split(',').map(str::to_string).collect();
            c[0] = id(&c[0]);
            c[1] = format!("\"{}{}\"", STARTS[n % STARTS.len()].replace('"', "\"\""), c[1]);
            c[3] = id(&c[3]);
            u.push_str(&c.join(","));
        }
        u.push('\n');
    }
    let mut e = String::new();
    for (n, line) in edges.lines().enumerate() {
        if n == 0 {
            e.push_str(line);
        } else {
            e.push_str(&line.split(',').map(id).collect::<Vec<_>>().join(","));
        }
        e.push('\n');
    }
    std::fs::create_dir_all(dir.join("w")).expect("dir");
    std::fs::write(dir.join("w/units.csv"), u).expect("units");
    std::fs::write(dir.join("w/edges.csv"), e).expect("edges");
    let sc = std::fs::read_to_string(root.join("jdistrict.toml"))
        .expect("scenario")
        .replace("jdistrict/", "w/")
        .replace("\"one-window service\"", "\"=1+1 service\"")
        .replace("unit = \"F\"", "unit = \"@F\"")
        .replace("name = \"J\"", "name = \"@J\"")
        .replace("\"consultation platform\"", "\"@consultation\"")
        .replace("\"unified intake\"", "\"-intake\"");
    let path = dir.join("hostile.toml");
    std::fs::write(&path, sc).expect("scenario");
    path
}

#[test]
fn no_csv_holds_a_cell_a_spreadsheet_would_run() {
    let dir = temp("formulas");
    let sc = hostile_world(&dir);
    let go = |args: &[&str]| {
        let o = pioneer(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    };
    let run = dir.join("run");
    go(&[
        "run",
        s(&sc),
        "--replicates",
        "2",
        "--months",
        "24",
        "--units",
        "--panel",
        "year",
        "--report",
        "--backend",
        "cpu",
        "--out",
        s(&run),
    ]);
    let trace = dir.join("trace");
    go(&[
        "trace",
        s(&sc),
        "--unit",
        "3",
        "--months",
        "24",
        "--replicates",
        "2",
        "--out",
        s(&trace),
    ]);
    let sweep_file = dir.join("sweep.toml");
    std::fs::write(
        &sweep_file,
        format!(
            "base = \"{}\"\nreplicates = 2\nmonths = 12\n[vary]\n\"params.kappa\" = [1, 2]\n",
            s(&sc)
        ),
    )
    .expect("sweep");
    let sweep = dir.join("sweep");
    go(&["sweep", s(&sweep_file), "--backend", "cpu", "--panel", "year", "--out", s(&sweep)]);

    // A class whose students' names are formulas, debriefed.
    let class_dir = dir.join("class");
    {
        use pioneer::serve::classroom::Classroom;
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml");
        let scenario = pioneer::scenario::Scenario::load(&path).expect("classroom");
        let mut c = Classroom::new(scenario, 1, "ABCD".into()).expect("builds");
        for (i, name) in ["=1+1", "@SUM(A1)", "+cmd", "-x"].iter().enumerate() {
            c.join("ABCD", name, None, &format!("token-{i}")).expect("joins");
        }
        for _ in 0..30 {
            c.step();
        }
        pioneer::serve::debrief::write(&c, &class_dir).expect("debrief");
    }

    let mut files = Vec::new();
    for d in [&run, &trace, &sweep, &class_dir] {
        csvs(d, &mut files);
    }
    for name in [
        "units.csv",
        "events.csv",
        "panel.csv",
        "rankings.csv",
        "decisions.csv",
        "traces.csv",
        "steps.csv",
    ] {
        assert!(files.iter().any(|f| f.ends_with(name)), "{name} was written: {files:?}");
    }
    // The names are there, made inert: the test reads what it means to.
    let units = std::fs::read_to_string(run.join("units.csv")).expect("units");
    assert!(units.contains("'=") && units.contains("'@"), "{}", &units[..units.len().min(400)]);
    let rankings = std::fs::read_to_string(class_dir.join("rankings.csv")).expect("rankings");
    assert!(
        rankings.contains("'=1+1")
            || std::fs::read_to_string(class_dir.join("decisions.csv"))
                .expect("log")
                .contains("'=1+1")
    );
    let bad: Vec<String> = files.iter().flat_map(|f| live_cells(f)).collect();
    assert!(
        bad.is_empty(),
        "{} cells a spreadsheet would run, the first:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
