//! `pioneer calibrate`: ABC-SMC recovers parameters from a curve pioneer made, a resumed
//! calibration equals one run through, and bad input is refused with exit code 2.

use crate::common::{pioneer, temp, text};
use std::path::{Path, PathBuf};

/// A 12 × 12 grid under 4 parents (the classroom's settings otherwise), with `params` appended.
fn grid144(params: &str) -> String {
    let base = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/classroom.toml")).expect("classroom");
    let s = base
        .replace("width = 6", "width = 12")
        .replace("height = 6", "height = 12")
        .replace("parents = 3", "parents = 4")
        .replace("name = \"classroom\"", "name = \"grid144\"");
    assert!(
        s.contains("width = 12") && s.contains("start_year"),
        "the classroom scenario changed: {s}"
    );
    format!("{s}\n[params]\n{params}")
}

/// Run 0's share of units adopted at the end of each year, as `year,share` from 2006 on.
fn yearly_share(steps: &Path) -> String {
    let body = std::fs::read_to_string(steps).expect("steps.csv");
    let mut lines = body.lines();
    let head: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).expect(n);
    let (run, month, innov, share) = (col("run"), col("month"), col("innovation"), col("share"));
    let mut s = String::from("year,share\n");
    for l in lines {
        let v: Vec<&str> = l.split(',').collect();
        let m: u32 = v[month].parse().expect("month");
        if v[run] == "0" && v[innov] == "0" && m.is_multiple_of(12) {
            s.push_str(&format!("{},{}\n", 2005 + m / 12, v[share]));
        }
    }
    s
}

fn rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let body = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = body.lines();
    let head = lines.next().expect("header").split(',').map(String::from).collect();
    (head, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// A curve made by pioneer at γ_g = 5 and θ_hi = 0.7 is fitted from flat priors: both true
/// values lie in the posterior's 90 % interval, which is narrower than the prior; the
/// tolerance falls, particles sit within it, and the weights of each generation sum to 1.
#[test]
fn calibration_recovers_the_parameters_of_a_curve_pioneer_made() {
    let dir = temp("calibrate-recover");
    std::fs::write(dir.join("truth.toml"), grid144("gamma_g = 5\ntheta_hi = 0.7\n")).expect("write");
    std::fs::write(dir.join("base.toml"), grid144("")).expect("write");
    let o = pioneer(&[
        "run",
        s(&dir.join("truth.toml")),
        "--replicates",
        "1",
        "--backend",
        "cpu",
        "--out",
        s(&dir.join("truth")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::write(dir.join("observed.csv"), yearly_share(&dir.join("truth/steps.csv"))).expect("write");
    let out = dir.join("fit");
    let o = pioneer(&[
        "calibrate",
        s(&dir.join("base.toml")),
        "--observed",
        s(&dir.join("observed.csv")),
        "--vary",
        "params.gamma_g=1..30",
        "--vary",
        "params.theta_hi=0.3..1",
        "--particles",
        "200",
        "--generations",
        "5",
        "--backend",
        "cpu",
        "--out",
        s(&out),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, post) = rows(&out.join("posterior.csv"));
    assert_eq!(head, ["field", "prior_lo", "prior_hi", "mean", "sd", "q05", "q50", "q95"]);
    for (row, truth) in post.iter().zip([5.0, 0.7]) {
        let v: Vec<f64> = row[1..].iter().map(|x| x.parse().expect("number")).collect();
        let (lo, hi, q05, q95) = (v[0], v[1], v[4], v[6]);
        assert!(
            q05 <= truth && truth <= q95,
            "{}: the truth {truth} is outside [{q05}, {q95}]",
            row[0]
        );
        assert!(
            q95 - q05 < 0.9 * (hi - lo),
            "{}: [{q05}, {q95}] is hardly narrower than the prior {lo}..{hi}",
            row[0]
        );
    }
    // γ_g, the gain of the performance gap, is the lever the curve pins down best.
    let g: Vec<f64> = post[0][5..8].iter().map(|x| x.parse().expect("number")).collect();
    assert!(g[2] - g[0] < 0.5 * 29.0, "γ_g's interval [{}, {}]", g[0], g[2]);

    let (head, parts) = rows(&out.join("particles.csv"));
    assert_eq!(
        head,
        [
            "generation",
            "particle",
            "params.gamma_g",
            "params.theta_hi",
            "weight",
            "distance",
            "tolerance"
        ]
    );
    assert_eq!(parts.len(), 5 * 200);
    let mut last_tol = f64::INFINITY;
    for g in 0..5 {
        let gen: Vec<&Vec<String>> = parts.iter().filter(|r| r[0] == g.to_string()).collect();
        assert_eq!(gen.len(), 200);
        let num = |r: &Vec<String>, i: usize| r[i].parse::<f64>().expect("number");
        let tol = num(gen[0], 6);
        assert!(g == 0 || tol < last_tol, "generation {g}: tolerance {tol} after {last_tol}");
        last_tol = tol;
        let wsum: f64 = gen.iter().map(|r| num(r, 4)).sum();
        assert!((wsum - 1.0).abs() < 1e-9, "generation {g}: weights sum to {wsum}");
        assert!(gen
            .iter()
            .all(|r| num(r, 5) <= tol && (1.0..=30.0).contains(&num(r, 2)) && (0.3..=1.0).contains(&num(r, 3))));
    }
    let (_, pq) = pioneer::output::parquet::read_rows(&out.join("particles.parquet")).expect("parquet");
    assert_eq!(pq.len(), parts.len());
    let (_, pred) = rows(&out.join("predictive.csv"));
    assert_eq!(pred.len(), 20, "one row per observed year");
    for (f, least) in [
        ("pairs.png", 10_000),
        ("pairs.svg", 10_000),
        ("predictive.png", 10_000),
        ("predictive.svg", 10_000),
        ("generations.csv", 300),
        ("manifest.json", 300),
    ] {
        assert!(
            std::fs::metadata(out.join(f)).map(|m| m.len() > least).unwrap_or(false),
            "{f} is written"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The classroom against a short made-up curve, with `extra` flags.
fn classroom(dir: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let obs = dir.join("observed.csv");
    if !obs.exists() {
        std::fs::write(&obs, "year,count\n2006,0\n2008,2\n2010,6\n2012,12\n2014,20\n").expect("write");
    }
    let mut args: Vec<String> = [
        "calibrate",
        "scenarios/classroom.toml",
        "--observed",
        s(&obs),
        "--vary",
        "params.gamma_g=1..30",
        "--vary",
        "params.r_need=0.02..0.5",
        "--months",
        "120",
        "--particles",
        "40",
        "--predictive",
        "10",
        "--backend",
        "cpu",
        "--out",
        s(out),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    args.extend(extra.iter().map(|x| x.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    pioneer(&refs)
}

/// Two generations, then `--resume --generations 3`, give the same files as three at once;
/// the same folder without --resume is refused, and other settings cannot resume it.
#[test]
fn a_resumed_calibration_equals_one_run_through() {
    let dir = temp("calibrate-resume");
    let (split, whole): (PathBuf, PathBuf) = (dir.join("split"), dir.join("whole"));
    let o = classroom(&dir, &split, &["--generations", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = classroom(&dir, &split, &["--generations", "3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--resume"), "{}", text(&o));
    let o = classroom(&dir, &split, &["--generations", "3", "--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("resumed from 2 generation"), "{}", text(&o));
    let o = classroom(&dir, &whole, &["--generations", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    for f in [
        "particles.csv",
        "particles.parquet",
        "generations.csv",
        "posterior.csv",
        "predictive.csv",
    ] {
        let a = std::fs::read(split.join(f)).expect(f);
        assert!(a == std::fs::read(whole.join(f)).expect(f), "{f} differs after a resume");
    }
    // A calibration the budget stopped goes on with a larger budget, to the same particles.
    let short = dir.join("short");
    let o = classroom(&dir, &short, &["--generations", "3", "--max-simulations", "45"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("stopped early: generation 1"), "{}", text(&o));
    let o = classroom(&dir, &short, &["--generations", "3", "--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    let read = |d: &Path| std::fs::read(d.join("particles.csv")).expect("particles.csv");
    assert!(read(&short) == read(&whole), "particles after a larger budget");
    let o = classroom(&dir, &split, &["--generations", "3", "--resume", "--quantile", "0.6"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("other settings"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad observed files and bad `--vary` flags exit with 2 and name the file, line and field (or
/// the flag), before anything is written.
#[test]
fn bad_calibration_input_is_refused_with_exit_2() {
    let dir = temp("calibrate-bad");
    let cases: [(&str, &str, &[&str], &[&str]); 9] = [
        (
            "unknown field",
            "year,count\n2006,1\n",
            &["--vary", "params.kapa=0.5..8"],
            &["--vary params.kapa", "did you mean `params.kappa`"],
        ),
        (
            "reversed range",
            "year,count\n2006,1\n",
            &["--vary", "params.kappa=8..0.5"],
            &["`--vary`", "lo below hi"],
        ),
        (
            "no range",
            "year,count\n2006,1\n",
            &["--vary", "params.kappa"],
            &["`--vary`", "params.kappa=0.5..8"],
        ),
        (
            "out of the field's range",
            "year,count\n2006,1\n",
            &["--vary", "params.theta_hi=0.3..1.5"],
            &["--vary params.theta_hi", "1.5"],
        ),
        (
            "fixed field",
            "year,count\n2006,1\n",
            &["--vary", "months=10..20"],
            &["--vary months"],
        ),
        (
            "years out of order",
            "year,share\n2007,0.1\n2006,0.2\n",
            &["--vary", "params.kappa=0.5..8"],
            &["observed.csv:3:", "field `year`"],
        ),
        (
            "negative count",
            "year,count\n2006,-1\n",
            &["--vary", "params.kappa=0.5..8"],
            &["observed.csv:2:", "field `count`"],
        ),
        (
            "share above 1",
            "year,share\n2006,0.2\n2007,1.5\n",
            &["--vary", "params.kappa=0.5..8"],
            &["observed.csv:3:", "field `share`"],
        ),
        (
            "year after the run",
            "year,share\n2006,0.2\n2030,0.5\n",
            &["--vary", "params.kappa=0.5..8"],
            &["observed.csv:3:", "field `year`"],
        ),
    ];
    for (name, body, flags, expect) in cases {
        let obs = dir.join("observed.csv");
        std::fs::write(&obs, body).expect("write");
        let out = dir.join("out");
        let mut args = vec!["calibrate", "scenarios/classroom.toml", "--observed", s(&obs), "--out", s(&out)];
        args.extend_from_slice(flags);
        let o = pioneer(&args);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: exit 2:\n{t}");
        for e in expect {
            assert!(t.contains(e), "{name}: the message names `{e}`:\n{t}");
        }
        assert_eq!(t.lines().count(), 1, "{name}: one line:\n{t}");
        assert!(!out.exists(), "{name}: nothing is written");
    }
    // A scenario without start_year cannot place the observed years.
    let o = pioneer(&[
        "calibrate",
        "scenarios/mandate.toml",
        "--observed",
        s(&dir.join("observed.csv")),
        "--vary",
        "params.kappa=0.5..8",
        "--out",
        s(&dir.join("out")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("mandate.toml") && text(&o).contains("start_year"), "{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A calibration killed (SIGKILL) after its first generation is on disk goes on with --resume
/// to the same bytes as one run through.
#[test]
fn a_killed_calibration_resumes_to_the_same_bytes() {
    let dir = temp("calibrate-kill");
    let args = |out: &Path| -> Vec<String> {
        [
            "calibrate",
            "scenarios/classroom.toml",
            "--observed",
            "data/observed/classroom-synthetic.csv",
            "--vary",
            "params.gamma_g=1..30",
            "--vary",
            "params.theta_hi=0.3..1",
            "--particles",
            "400",
            "--generations",
            "6",
            "--backend",
            "cpu",
            "--out",
            s(out),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let killed = dir.join("killed");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
        .args(args(&killed))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts");
    let first = killed.join("generations/gen-000.csv");
    let t0 = std::time::Instant::now();
    while !first.exists() && t0.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(first.exists(), "the first generation was written");
    assert!(!killed.join("particles.csv").exists(), "killed before the end");
    let mut resume = args(&killed);
    resume.push("--resume".into());
    let refs: Vec<&str> = resume.iter().map(String::as_str).collect();
    let o = pioneer(&refs);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("resumed from"), "{}", text(&o));
    let whole = dir.join("whole");
    let all = args(&whole);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let o = pioneer(&refs);
    assert!(o.status.success(), "{}", text(&o));
    for f in ["particles.csv", "generations.csv", "posterior.csv", "predictive.csv"] {
        let a = std::fs::read(killed.join(f)).expect(f);
        assert!(a == std::fs::read(whole.join(f)).expect(f), "{f} differs after a kill and --resume");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `year,count` curve is divided by the world's units, the same in `run --observed` and in
/// `calibrate`: a file world of 5 units whose files end in blank lines (so that their lines,
/// the planned count, are 8) reads 2 adopters as 0.4, not 2/8 (issue 24: the 51 units of the US
/// states were counted as 53).
#[test]
fn observed_counts_are_shares_of_the_worlds_units_in_run_and_calibrate() {
    let dir = temp("calibrate-count");
    let units = "id,name,level,parent,x,y\n0,Union,0,,0,0\n1,A,1,0,0,0\n2,B,1,0,1,0\n3,C,1,0,0,1\n4,D,1,0,1,1\n\n\n";
    std::fs::write(dir.join("units.csv"), units).expect("write");
    std::fs::write(dir.join("edges.csv"), "a,b\n1,2\n3,4\n1,3\n2,4\n").expect("write");
    std::fs::write(
        dir.join("s.toml"),
        "months = 36\nreplicates = 2\nstart_year = 2000\n[world]\nkind = \"file\"\nunits = \"units.csv\"\nedges = \"edges.csv\"\n",
    )
    .expect("write");
    std::fs::write(dir.join("curve.csv"), "year,count\n2000,0\n2001,1\n2002,2\n").expect("write");
    let want = [0.0, 0.2, 0.4];
    let shares = |rows: &[Vec<String>]| -> Vec<f64> { rows.iter().map(|r| r[2].parse().expect("a share")).collect() };
    let o = pioneer(&[
        "run",
        s(&dir.join("s.toml")),
        "--observed",
        s(&dir.join("curve.csv")),
        "--backend",
        "cpu",
        "--out",
        s(&dir.join("run")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, run_rows) = rows(&dir.join("run/observed.csv"));
    assert_eq!(head[2], "observed_share");
    assert_eq!(shares(&run_rows), want);
    let o = pioneer(&[
        "calibrate",
        s(&dir.join("s.toml")),
        "--observed",
        s(&dir.join("curve.csv")),
        "--vary",
        "params.gamma_g=1..30",
        "--particles",
        "10",
        "--generations",
        "1",
        "--predictive",
        "4",
        "--backend",
        "cpu",
        "--out",
        s(&dir.join("fit")),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (head, pred) = rows(&dir.join("fit/predictive.csv"));
    assert_eq!(head[2], "observed_share");
    assert_eq!(shares(&pred), want, "calibrate divides by the units of the world built");
    let _ = std::fs::remove_dir_all(&dir);
}
