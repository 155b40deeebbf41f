//! GPU backend tests: the shader validates with naga (always), and on an adapter the GPU
//! reproduces the CPU backend bit for bit (skipped, loudly, without one).

use pioneer::app::run::run_chunked;
use pioneer::backend::cpu::Cpu;
use pioneer::backend::gpu::{Gpu, SHADER_SOURCE};
use pioneer::backend::{Backend, BatchOutput};
use pioneer::model::agg;
use pioneer::model::params::{Params, NEVER};
use pioneer::model::{init_batch, Model, RunId};
use pioneer::scenario::Scenario;
use pioneer::state::route;
use std::path::Path;
use std::time::Instant;

/// The GPU to test on, or `None` (with a message) when there is none. With
/// `PIONEER_REQUIRE_GPU=1` a missing adapter is a failure, never a silent pass.
fn gpu_or_skip() -> Option<Gpu> {
    match Gpu::new(None) {
        Ok(g) => Some(g),
        Err(e) => {
            if std::env::var("PIONEER_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("PIONEER_REQUIRE_GPU=1 but the GPU backend cannot start: {e}");
            }
            // Straight to stderr (not eprintln!, which the test harness captures): a skip is seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: no GPU adapter (set PIONEER_REQUIRE_GPU=1 to make this a failure): {e}"
            );
            None
        }
    }
}

fn scenario(name: &str, toml: &str) -> Scenario {
    Scenario::parse(Path::new(name), toml.to_string()).unwrap_or_else(|e| panic!("test scenario {name}: {e}"))
}

/// Name of word `w` of a month record with `k` innovations (for failure messages).
fn record_word(w: usize, k: usize) -> String {
    let g = agg::global_base(k);
    if w < g {
        let (kk, j) = (w / agg::PER_INNOV, w % agg::PER_INNOV);
        let what = match j {
            agg::ADOPTERS => "adopters".to_string(),
            j if j < agg::BY_ROUTE => format!("by_level[{}]", j - agg::BY_LEVEL),
            j if j < agg::BY_STAGE => format!("by_route[{}]", route::NAMES[j - agg::BY_ROUTE]),
            j if j < agg::DEPTH => format!("by_stage[{}]", pioneer::state::stage::NAMES[j - agg::BY_STAGE + 1]),
            j if j < agg::COMPLETE => format!("depth_{}", j - agg::DEPTH + 1),
            agg::COMPLETE => "complete".to_string(),
            agg::RUNG_ATTEMPTS => "rung_attempts".to_string(),
            _ => "rung_failures".to_string(),
        };
        format!("innovation {kk} {what}")
    } else {
        [
            "idle",
            "sum_p.lo",
            "sum_p.hi",
            "sum_e.lo",
            "sum_e.hi",
            "sum_l.lo",
            "sum_l.hi",
            "sum_i.lo",
            "sum_i.hi",
            "sum_b.lo",
            "sum_b.hi",
            "promotions",
            "recognitions",
        ]
        .get(w - g)
        .map_or_else(|| format!("word {w}"), |s| s.to_string())
    }
}

/// Equal outputs, or a panic naming the first difference (record word or state column).
fn assert_same(what: &str, cpu: &BatchOutput, gpu: &BatchOutput) {
    assert_eq!((cpu.months, cpu.record_len), (gpu.months, gpu.record_len), "{what}: shape");
    assert_eq!(cpu.agg.len(), gpu.agg.len(), "{what}: number of record words");
    if let Some(i) = cpu.agg.iter().zip(&gpu.agg).position(|(a, b)| a != b) {
        let rl = cpu.record_len;
        let (run, month, w) = (i / rl / cpu.months as usize, (i / rl) % cpu.months as usize + 1, i % rl);
        panic!(
            "{what}: aggregates differ first at run {run}, month {month}, {}: cpu {} vs gpu {}",
            record_word(w, cpu.state.innov),
            cpu.agg[i],
            gpu.agg[i]
        );
    }
    let (s, t) = (&cpu.state, &gpu.state);
    assert_eq!((s.runs, s.units, s.innov), (t.runs, t.units, t.innov), "{what}: state shape");
    for ((name, a), (_, b)) in s.columns().into_iter().zip(t.columns()) {
        assert_eq!(a.len(), b.len(), "{what}: column {name} length");
        if let Some(i) = a.iter().zip(b).position(|(x, y)| x != y) {
            let per_run = a.len() / s.runs.max(1);
            panic!(
                "{what}: end state column `{name}` differs first at index {i} (run {}, slot {}): cpu {} vs gpu {}",
                i / per_run.max(1),
                i % per_run.max(1),
                a[i],
                b[i]
            );
        }
    }
    assert!(cpu == gpu, "{what}: outputs differ");
}

/// Totals over every run and month of some record words, to show a parity test is not vacuous.
struct Totals {
    adoptions: [u64; route::COUNT],
    promotions: u64,
    recognitions: u64,
    final_adopters: Vec<u64>,
    /// Per innovation: completed rung attempts, failures, and units at full depth at the end.
    attempts: Vec<u64>,
    failures: Vec<u64>,
    complete: Vec<u64>,
}

fn totals(out: &BatchOutput) -> Totals {
    let k = out.state.innov;
    let g = agg::global_base(k);
    let mut t = Totals {
        adoptions: [0; route::COUNT],
        promotions: 0,
        recognitions: 0,
        final_adopters: vec![0; k],
        attempts: vec![0; k],
        failures: vec![0; k],
        complete: vec![0; k],
    };
    for r in 0..out.state.runs {
        for m in 1..=out.months {
            let rec = out.record(r, m);
            for kk in 0..k {
                for (ro, slot) in t.adoptions.iter_mut().enumerate() {
                    *slot += rec[kk * agg::PER_INNOV + agg::BY_ROUTE + ro] as u64;
                }
                t.attempts[kk] += rec[kk * agg::PER_INNOV + agg::RUNG_ATTEMPTS] as u64;
                t.failures[kk] += rec[kk * agg::PER_INNOV + agg::RUNG_FAILURES] as u64;
            }
            t.promotions += rec[g + agg::PROMOTIONS] as u64;
            t.recognitions += rec[g + agg::RECOGNITIONS] as u64;
        }
        let last = out.record(r, out.months);
        for (kk, a) in t.final_adopters.iter_mut().enumerate() {
            *a += last[kk * agg::PER_INNOV + agg::ADOPTERS] as u64;
            t.complete[kk] += last[kk * agg::PER_INNOV + agg::COMPLETE] as u64;
        }
    }
    t
}

/// Run the same batch on both backends, check equality, and return the output and timings.
fn parity(gpu: &Gpu, what: &str, m: &Model, params: &[Params], ids: &[RunId], months: u32) -> BatchOutput {
    let init = init_batch(m, params, ids);
    let t0 = Instant::now();
    let cpu = Cpu::default()
        .run_batch(m, params, ids, init.clone(), months, &|_| {})
        .expect("cpu run");
    let t1 = Instant::now();
    let out = gpu
        .run_batch(m, params, ids, init, months, &|_| {})
        .unwrap_or_else(|e| panic!("{what}: gpu run failed: {e}"));
    let t2 = Instant::now();
    eprintln!(
        "{what}: {} runs × {} units × {months} months: cpu {:.2} s, gpu {:.2} s ({})",
        ids.len(),
        m.world.len(),
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        gpu.adapter_name()
    );
    assert_same(what, &cpu, &out);
    out
}

#[test]
fn shader_validates_with_naga() {
    let module = match naga::front::wgsl::parse_str(SHADER_SOURCE) {
        Ok(m) => m,
        Err(e) => panic!("WGSL does not parse:\n{}", e.emit_to_string(SHADER_SOURCE)),
    };
    let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
    let info = match v.validate(&module) {
        Ok(i) => i,
        Err(e) => panic!("WGSL does not validate:\n{}", e.emit_to_string(SHADER_SOURCE)),
    };
    drop(info);
    // The WGSL structs the host uploads as bytes must have the Rust structs' sizes.
    let mut layouter = naga::proc::Layouter::default();
    layouter.update(module.to_ctx()).expect("layout");
    let size_of = |name: &str| {
        let (h, _) = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no WGSL struct {name}"));
        layouter[h].size as usize
    };
    assert_eq!(size_of("Params"), std::mem::size_of::<Params>(), "WGSL Params vs Rust Params");
    assert_eq!(
        size_of("Layout"),
        std::mem::size_of::<pioneer::backend::gpu::GpuLayout>(),
        "WGSL Layout vs GpuLayout"
    );
    for ep in pioneer::backend::gpu::ENTRY_POINTS {
        assert!(module.entry_points.iter().any(|e| e.name == ep), "entry point {ep} missing");
    }
}

/// WGSL functions without a Rust twin, on purpose: indexing, dispatch and the parallel parts of
/// recognition (vello's declared gaps). Every other WGSL function must name its Rust twin.
const GPU_ONLY: [&str; 17] = [
    "leave_base",
    "leaving",
    "sub_split",
    "wrec_open",
    "wrec_close",
    "set_run",
    "ui",
    "kat",
    "ri",
    "rec_at",
    "rec_add",
    "recognises",
    "recog_base",
    "recog_collect",
    "recog_rank",
    "flat",
    "load_prelude",
];

/// Every source file under `dir` with extension `ext`, concatenated.
fn sources(dir: &Path, ext: &str) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|e| e.to_str()) == Some(ext) {
                out.push_str(&std::fs::read_to_string(&p).expect("read source"));
                out.push('\n');
            }
        }
    }
    out
}

/// The twins, found through their comments in both directions: each `WGSL twin: `name`` in the
/// Rust sources is a WGSL function or struct, each `// Rust twin: path` in the shaders names a
/// Rust function or struct and sits on a WGSL function or struct, the two lists agree, and every
/// other WGSL function is a kernel or a declared GPU-only helper.
#[test]
fn wgsl_twins_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rust = sources(&root.join("src"), "rs");
    let module = naga::front::wgsl::parse_str(SHADER_SOURCE).expect("parse");
    let wgsl_fns: Vec<&str> = module.functions.iter().filter_map(|(_, f)| f.name.as_deref()).collect();
    let wgsl_items: Vec<&str> = wgsl_fns
        .iter()
        .copied()
        .chain(module.types.iter().filter_map(|(_, t)| t.name.as_deref()))
        .collect();
    // Rust → WGSL.
    let mut claimed: Vec<String> = rust
        .split("WGSL twin: `")
        .skip(1)
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect();
    claimed.sort();
    claimed.dedup();
    assert!(claimed.len() > 50, "found only {} twins named in the Rust docs", claimed.len());
    for name in &claimed {
        assert!(
            wgsl_items.contains(&name.as_str()),
            "Rust names WGSL twin `{name}`, which the shader lacks"
        );
    }
    // WGSL → Rust: the comment line, then the item it sits on.
    let mut twinned: Vec<String> = Vec::new();
    let lines: Vec<&str> = SHADER_SOURCE.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        let Some(path) = line.trim().strip_prefix("// Rust twin: ") else {
            continue;
        };
        let path = path.split_whitespace().next().unwrap_or("");
        if path.starts_with("src/") {
            continue; // a file-level note
        }
        let rust_name = path.rsplit("::").next().unwrap_or(path);
        assert!(
            ["(", "<"].iter().any(|c| rust.contains(&format!("fn {rust_name}{c}"))) || rust.contains(&format!("struct {rust_name} ")),
            "the shader names Rust twin `{path}`, which the crate lacks"
        );
        let item = lines[at + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.starts_with("//"))
            .unwrap_or("");
        let name = item
            .strip_prefix("fn ")
            .or_else(|| item.strip_prefix("struct "))
            .and_then(|r| r.split(|c: char| !(c.is_alphanumeric() || c == '_')).next())
            .unwrap_or_else(|| panic!("`// Rust twin: {path}` sits on `{item}`, not on a function or struct"));
        twinned.push(name.to_string());
    }
    twinned.sort();
    twinned.dedup();
    let only_rust: Vec<&String> = claimed.iter().filter(|c| !twinned.contains(c)).collect();
    let only_wgsl: Vec<&String> = twinned.iter().filter(|c| !claimed.contains(c)).collect();
    assert!(
        only_rust.is_empty() && only_wgsl.is_empty(),
        "twins named on one side only: by Rust {only_rust:?}, by WGSL {only_wgsl:?}"
    );
    for f in &wgsl_fns {
        assert!(
            f.starts_with("k_") || GPU_ONLY.contains(f) || twinned.iter().any(|t| t == f),
            "WGSL function `{f}` has no `// Rust twin:` comment and is not a declared GPU-only helper"
        );
    }
}

#[test]
fn parity_china_baseline() {
    let Some(gpu) = gpu_or_skip() else { return };
    let sc = scenario("baseline.toml", include_str!("../scenarios/baseline.toml"));
    let (m, prm) = sc.build().expect("build");
    let ids: Vec<RunId> = (0..4).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let out = parity(&gpu, "china baseline", &m, &[prm], &ids, 240);
    let t = totals(&out);
    assert!(t.recognitions > 0 && t.adoptions[route::INVENTED as usize] > 0, "nothing happened");
}

const GRID: &str = r#"
name = "grid"
seed = 3
[world]
kind = "grid"
width = 12
height = 10
parents = 3
[[innovation]]
name = "a"
[[innovation]]
name = "b"
available = 30
difficulty = 0.3
[params]
term = 24
r_need = 0.4
recog_every = 12
recog_count = 4
p_transfer = 0.9
"#;

#[test]
fn parity_grid_two_points() {
    let Some(gpu) = gpu_or_skip() else { return };
    let sc = scenario("grid.toml", GRID);
    let (m, p0) = sc.build().expect("build");
    // A second parameter point in the same batch: other windows, more ambition, no transfers.
    let mut spec = sc.spec.params.clone();
    spec.recog_every = 18.0;
    spec.recog_count = 2.0;
    spec.ambition_lo = 0.7;
    spec.p_transfer = 0.0;
    let p1 = sc.params(&spec, m.world.len()).expect("point 1");
    let ids: Vec<RunId> = (0..8).map(|r| RunId::new(sc.spec.seed, r % 2, r / 2)).collect();
    let out = parity(&gpu, "grid, two points", &m, &[p0, p1], &ids, 120);
    let t = totals(&out);
    assert!(t.promotions > 0, "no promotions");
    assert!(t.recognitions > 0, "no recognitions");
    assert!(
        t.adoptions[route::NEIGHBOUR as usize] > 0 && t.adoptions[route::INVENTED as usize] > 0,
        "{:?}",
        t.adoptions
    );
    assert!(
        t.final_adopters.iter().all(|&a| a > 0),
        "an innovation was never adopted: {:?}",
        t.final_adopters
    );
}

const LEVERS: &str = r#"
name = "levers"
seed = 11
space = [[0, 0.4], [24, 0.8]]
[world]
kind = "grid"
width = 10
height = 10
parents = 4
[[innovation]]
name = "one-window"
signal = [[0, 0.2], [30, 0.5], [60, 0.9]]
rungs = 6
[[innovation]]
name = "booking"
available = 20
difficulty = 0.6
signal = [[0, 0.1], [50, 0.6]]
rungs = 3
[[innovation]]
name = "reminders"
available = 45
difficulty = 0.2
rungs = 1
[[mandate]]
innovation = "booking"
issuer = "unit:R1"
month = 30
deadline = 80
compliance = 0.8
depth = 3
[[mandate]]
innovation = "reminders"
issuer = "centre"
month = 70
deadline = 100
compliance = 0.6
[[mandate]]
innovation = "one-window"
issuer = "level:1"
month = 90
deadline = 110
compliance = 0.7
depth = 4
[[pilot]]
innovation = "one-window"
units = ["D1-1", "D5-5", "D9-9"]
month = 10
[[pilot]]
innovation = "reminders"
units = ["D2-2"]
month = 50
[[adopted]]
unit = "D3-3"
innovation = "one-window"
quality = 0.7
exemplar = true
depth = 3
[[adopted]]
unit = "D8-4"
innovation = "booking"
quality = 0.5
[[adopted]]
unit = "D6-6"
innovation = "one-window"
quality = 0.4
depth = 6
# Units that have every innovation, shallow: their needs deepen a ladder.
[[adopted]]
unit = "D4-4"
innovation = "one-window"
quality = 0.5
[[adopted]]
unit = "D4-4"
innovation = "booking"
quality = 0.5
[[adopted]]
unit = "D4-4"
innovation = "reminders"
quality = 0.5
[[adopted]]
unit = "D7-2"
innovation = "one-window"
quality = 0.6
depth = 2
[[adopted]]
unit = "D7-2"
innovation = "booking"
quality = 0.3
[[adopted]]
unit = "D7-2"
innovation = "reminders"
quality = 0.3
[params]
term = 30
recog_every = 12
recog_count = 6
p_transfer = 0.8
"#;

/// How often each kind of event happened in CPU replays of the first `runs` runs.
fn event_counts(m: &Model, prm: &Params, ids: &[RunId], months: u32, prefixes: &[&str]) -> Vec<usize> {
    let mut counts = vec![0; prefixes.len()];
    for id in ids {
        let mut state = init_batch(m, std::slice::from_ref(prm), std::slice::from_ref(id));
        let mut aggs = vec![0u32; months as usize * agg::record_len(state.innov)];
        let mut log = pioneer::model::trace::EventLog::default();
        pioneer::backend::cpu::run_months(m, prm, id.key, &mut state.runs_mut()[0], &mut aggs, 1, months, &mut log, &|_| {});
        for e in &log.events {
            for (c, p) in counts.iter_mut().zip(prefixes) {
                *c += e.what.starts_with(p) as usize;
            }
        }
    }
    counts
}

/// Every lever and every path of the ladder (MODEL.md v2): mandates with a required depth (and
/// units already adopted below it sent to their next rung), pilots, seeded designs at depth,
/// deepening needs, three innovations of 6, 3 and 1 rungs, schedules.
#[test]
fn parity_mandates_pilots_seeds_schedules() {
    let Some(gpu) = gpu_or_skip() else { return };
    let sc = scenario("levers.toml", LEVERS);
    let (m, prm) = sc.build().expect("build");
    let ids: Vec<RunId> = (0..8).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let out = parity(&gpu, "mandates, pilots, seeds, schedules, ladders", &m, &[prm], &ids, 120);
    let t = totals(&out);
    assert!(t.adoptions[route::MANDATED as usize] > 0, "no mandated adoption: {:?}", t.adoptions);
    assert!(
        t.adoptions[route::EXEMPLAR as usize] > 0,
        "no adoption learned from an exemplar: {:?}",
        t.adoptions
    );
    assert!(
        t.adoptions[route::LEADER as usize] + t.adoptions[route::PARENT as usize] > 0,
        "no vertical or leader learning: {:?}",
        t.adoptions
    );
    assert!(
        t.promotions > 0 && t.recognitions > 0,
        "promotions {} recognitions {}",
        t.promotions,
        t.recognitions
    );
    assert!(
        t.final_adopters.iter().all(|&a| a > 0) && t.complete.iter().all(|&c| c > 0),
        "an innovation was never adopted, or never climbed to the top: {:?} {:?}",
        t.final_adopters,
        t.complete
    );
    assert!(t.failures.iter().sum::<u64>() > 0, "no rung ever failed: {:?}", t.attempts);
    let kinds = [
        "agenda: to deepen",
        "mandate: the next rung",
        "mandate: design",
        "pilot",
        "completed",
        "failed",
    ];
    let counts = event_counts(&m, &prm, &ids, 120, &kinds);
    for (k, c) in kinds.iter().zip(&counts) {
        assert!(*c > 0, "the parity covers `{k}`: it happened {c} times in the CPU replays");
    }
}

/// A population of the districts alone (`[world] population`): the GPU reads each unit's room
/// from the world buffer, and the parents, without room, never adopt on either backend.
#[test]
fn parity_population() {
    let Some(gpu) = gpu_or_skip() else { return };
    let toml = GRID.replace("kind = \"grid\"\n", "kind = \"grid\"\npopulation = \"level:1\"\n");
    let sc = scenario("population.toml", &toml);
    let (m, prm) = sc.build().expect("build");
    assert_eq!((m.population(), m.world.len()), (120, 123));
    let ids: Vec<RunId> = (0..6).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let out = parity(&gpu, "a population of the districts", &m, &[prm], &ids, 120);
    let t = totals(&out);
    assert!(
        t.final_adopters.iter().all(|&a| a > 0),
        "the districts adopt: {:?}",
        t.final_adopters
    );
    let (n, kn) = (out.state.units, out.state.innov);
    for at in 0..ids.len() * kn {
        for i in (0..n).filter(|&i| m.world.level[i] == 0) {
            assert_eq!(out.state.adopt_month[at * n + i], NEVER, "parent {i} adopted");
        }
    }
}

#[test]
fn parity_file_world() {
    let Some(gpu) = gpu_or_skip() else { return };
    let dir = std::env::temp_dir().join(format!("pioneer-gpu-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // One province, 4 prefectures, 8 counties under each; counties on a ring per prefecture,
    // prefectures on a line; two isolated counties (no neighbours: own P as neighbour mean).
    let mut units = String::from("id,name,level,parent,x,y,capacity,resistance\n");
    units.push_str("p,Province,0,,0.5,0.5,0.9,\n");
    let mut edges = String::from("a,b\n");
    for f in 0..4 {
        units.push_str(&format!("f{f},Pref{f},1,p,{},0.5,,{}\n", f as f64 / 4.0, 0.2 * f as f64));
        if f > 0 {
            edges.push_str(&format!("f{},f{f}\n", f - 1));
        }
        for c in 0..8 {
            // Resistance given for half the counties (the rest drawn per run).
            let phi = if c % 2 == 0 { format!("{}", 0.1 * c as f64) } else { String::new() };
            units.push_str(&format!(
                "c{f}{c},County{f}-{c},2,f{f},{},{},,{phi}\n",
                f as f64 / 4.0,
                c as f64 / 8.0
            ));
            if !(f == 3 && c >= 6) {
                edges.push_str(&format!("c{f}{c},c{f}{}\n", (c + 1) % 6));
            }
        }
    }
    std::fs::write(dir.join("units.csv"), units).expect("units.csv");
    std::fs::write(dir.join("edges.csv"), edges).expect("edges.csv");
    let toml = r#"
name = "file"
seed = 5
[world]
kind = "file"
units = "units.csv"
edges = "edges.csv"
[[innovation]]
name = "x"
[[innovation]]
name = "y"
available = 12
rungs = 2
[params]
term = 24
recog_every = 6
recog_count = 3
r_need = 0.5
"#;
    let sc = Scenario::parse(&dir.join("file.toml"), toml.to_string()).expect("scenario");
    let (m, prm) = sc.build().expect("build");
    assert!(m.world.neighbours(m.world.find("County3-7").expect("unit")).is_empty());
    let given = m.world.find("County1-4").expect("unit");
    let drawn = m.world.find("County1-3").expect("unit");
    assert_eq!(
        m.world.resistance[given],
        pioneer::model::fixed::q16(0.4),
        "a resistance from the file"
    );
    assert_eq!(m.world.resistance[drawn], pioneer::model::params::NEVER, "an empty cell is drawn");
    let ids: Vec<RunId> = (0..8).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let out = parity(&gpu, "file world", &m, &[prm], &ids, 120);
    let _ = std::fs::remove_dir_all(&dir);
    let t = totals(&out);
    assert!(
        t.promotions > 0 && t.recognitions > 0,
        "promotions {} recognitions {}",
        t.promotions,
        t.recognitions
    );
    assert!(
        t.adoptions[route::PARENT as usize] + t.adoptions[route::NEIGHBOUR as usize] > 0,
        "{:?}",
        t.adoptions
    );
}

/// The room a unit finds (issue 24, item 7): a file world's `room` column (0, a half, or empty
/// for the whole room) and units closed to each of two innovations (`closed`), with a mandate
/// that reaches closed units too. The GPU reads the room from the world buffer and draws
/// `closed_to` itself; both backends give the same bits, and no unit adopts by its own need an
/// innovation it is closed to, nor anything without room.
#[test]
fn parity_room() {
    let Some(gpu) = gpu_or_skip() else { return };
    let dir = std::env::temp_dir().join(format!("pioneer-gpu-room-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // One province, 4 prefectures, 10 counties on a ring under each.
    let mut units = String::from("id,name,level,parent,x,y,room\np,Province,0,,0.5,0.5,\n");
    let mut edges = String::from("a,b\n");
    for f in 0..4 {
        units.push_str(&format!("f{f},Pref{f},1,p,{},0.5,\n", f as f64 / 4.0));
        if f > 0 {
            edges.push_str(&format!("f{},f{f}\n", f - 1));
        }
        for c in 0..10 {
            let room = match c % 5 {
                0 => "0",
                1 => "0.5",
                _ => "",
            };
            units.push_str(&format!(
                "c{f}{c},County{f}-{c},2,f{f},{},{},{room}\n",
                f as f64 / 4.0,
                c as f64 / 10.0
            ));
            edges.push_str(&format!("c{f}{c},c{f}{}\nc{f}{c},c{f}{}\n", (c + 1) % 10, (c + 2) % 10));
        }
    }
    std::fs::write(dir.join("units.csv"), units).expect("units.csv");
    std::fs::write(dir.join("edges.csv"), edges).expect("edges.csv");
    let toml = r#"
name = "room"
seed = 8
[world]
kind = "file"
units = "units.csv"
edges = "edges.csv"
[[innovation]]
name = "x"
closed = 0.3
[[innovation]]
name = "y"
available = 12
rungs = 3
closed = 0.5
[[mandate]]
issuer = "unit:f1"
innovation = "x"
month = 60
deadline = 120
compliance = 1.0
[params]
term = 24
r_need = 0.6
recog_every = 6
recog_count = 3
"#;
    let sc = Scenario::parse(&dir.join("room.toml"), toml.to_string()).expect("scenario");
    let (m, prm) = sc.build().expect("build");
    let _ = std::fs::remove_dir_all(&dir);
    let zero = m.world.find("County2-5").expect("unit");
    assert_eq!((m.room[zero], m.room[zero + 1]), (0, pioneer::model::fixed::q16(0.5)));
    let ids: Vec<RunId> = (0..8).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let months = 120;
    let out = parity(&gpu, "room and closed units", &m, &[prm], &ids, months);
    let t = totals(&out);
    assert!(t.final_adopters.iter().all(|&a| a > 0), "{:?}", t.final_adopters);
    let (n, kn) = (out.state.units, out.state.innov);
    let mut closed_mandated = 0;
    for (r, id) in ids.iter().enumerate() {
        let draws = pioneer::model::rng::Draws::new(id.key, n);
        for k in 0..kn {
            for i in 0..n {
                let at = (r * kn + k) * n + i;
                let shut = m.room[i] == 0 || pioneer::model::rules::closed_to(&prm, &draws, i, k);
                if shut && out.state.adopt_month[at] != NEVER {
                    assert_eq!(out.state.route[at], route::MANDATED, "run {r}: unit {i} adopted {k} without room");
                    closed_mandated += 1;
                }
            }
        }
    }
    assert!(closed_mandated > 0, "the mandate reaches closed units");
}

/// 64 runs at once equal the same 64 as 8 batches of 8 and as chunks forced by a small buffer
/// limit, and equal the CPU.
#[test]
fn batching_and_chunking_do_not_change_results() {
    let Some(gpu) = gpu_or_skip() else { return };
    let sc = scenario("grid.toml", GRID);
    let (m, prm) = sc.build().expect("build");
    let ids: Vec<RunId> = (0..64).map(|r| RunId::new(9, 0, r)).collect();
    let months = 30;
    let whole = parity(&gpu, "64 runs at once", &m, &[prm], &ids, months);
    let batched = run_chunked(&gpu, &m, &[prm], &ids, months, 8, &|_| {}).expect("batches of 8");
    assert_same("64 runs vs 8 batches of 8", &whole, &batched);
    // A buffer limit that holds 8 runs' records (the largest per-run buffer here) forces 8 chunks.
    let rb = pioneer::backend::gpu::RunBytes::new(m.world.len(), prm.n_innov as usize, months);
    let small = Gpu::new(None).expect("second device").with_max_buffer_bytes(8 * rb.largest());
    assert_eq!(small.runs_per_chunk(m.world.len(), prm.n_innov as usize, months), 8);
    let chunked = small
        .run_batch(&m, &[prm], &ids, init_batch(&m, &[prm], &ids), months, &|_| {})
        .expect("chunked");
    assert_same("64 runs vs 8 forced chunks", &whole, &chunked);
    // A 2-D grid (at most 7 workgroups per dimension here) gives the same results.
    let grid2d = Gpu::new(None).expect("fourth device").with_max_workgroups_per_dimension(7);
    let out2d = grid2d
        .run_batch(&m, &[prm], &ids, init_batch(&m, &[prm], &ids), months, &|_| {})
        .expect("2-D grid");
    assert_same("64 runs vs a 2-D dispatch grid", &whole, &out2d);
    // A limit below one run's needs is a clear error, not a panic.
    let tiny = Gpu::new(None).expect("third device").with_max_buffer_bytes(64);
    let err = tiny
        .run_batch(&m, &[prm], &ids[..2], init_batch(&m, &[prm], &ids[..2]), months, &|_| {})
        .unwrap_err();
    assert!(err.to_string().contains("bytes"), "{err}");
}

#[test]
fn backend_selection_errors_are_clear() {
    use pioneer::app::run::backend;
    let err = backend("bogus", None).err().expect("bogus backend");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("`cpu`, `gpu` or `auto`"), "{err}");
    assert!(backend("cpu", None).is_ok());
    // auto always works: a GPU, or the CPU with a note on stderr.
    assert!(backend("auto", None).is_ok());
    let Some(_gpu) = gpu_or_skip() else { return };
    let err = Gpu::new(Some("no-such-adapter-here")).expect_err("unknown adapter");
    assert!(err.to_string().contains("no GPU adapter matches `no-such-adapter-here`"), "{err}");
    assert!(backend("gpu", None).is_ok());
}

/// Every bundled scenario (a few runs and months of each, enough for its levers to act) gives the
/// same bits on the GPU as on the CPU.
#[test]
fn parity_every_bundled_scenario() {
    let Some(gpu) = gpu_or_skip() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    // (file, runs, months): mandate.toml's mandate starts in month 48.
    for (file, runs, months) in [
        ("baseline.toml", 3, 36),
        ("jdistrict.toml", 8, 72),
        ("mandate.toml", 2, 60),
        ("championship.toml", 2, 60),
        ("classroom.toml", 8, 240),
        ("two-reforms.toml", 2, 144),
        ("remote.toml", 2, 60),
        ("us-states.toml", 4, 240),
    ] {
        let sc = Scenario::load(&dir.join(file)).expect("bundled scenario loads");
        let (m, prm) = sc.build().expect("builds");
        let ids: Vec<RunId> = (0..runs).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
        let out = parity(&gpu, file, &m, &[prm], &ids, months);
        let t = totals(&out);
        assert!(
            t.final_adopters.iter().sum::<u64>() > 0,
            "{file}: something was adopted, so the parity is not vacuous"
        );
        if file == "mandate.toml" {
            assert!(t.adoptions[route::MANDATED as usize] > 0, "mandated adoptions happened");
        }
    }
}

/// Any run of a GPU batch can be replayed alone on the CPU with the event log, to the bit.
#[test]
fn trace_replays_a_run_of_a_gpu_batch() {
    let Some(gpu) = gpu_or_skip() else { return };
    let sc = Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/jdistrict.toml")).expect("loads");
    let (m, prm) = sc.build().expect("builds");
    let ids: Vec<RunId> = (0..8).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let months = sc.spec.months;
    let batch = gpu
        .run_batch(&m, &[prm], &ids, init_batch(&m, &[prm], &ids), months, &|_| {})
        .expect("gpu batch");
    let res = pioneer::app::trace::trace(&pioneer::app::trace::TraceArgs {
        scenario: Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/jdistrict.toml"),
        run: 5,
        unit: "J".into(),
        out: Some(std::env::temp_dir().join(format!("pioneer-gpu-trace-{}", std::process::id()))),
        ..Default::default()
    })
    .expect("trace");
    let per = months as usize * batch.record_len;
    assert_eq!(
        &batch.agg[5 * per..6 * per],
        &res.output.agg[..],
        "the replay's months equal run 5 of the GPU batch"
    );
    let n = m.world.len();
    assert_eq!(&batch.state.p[5 * n..6 * n], &res.output.state.p[..], "end P equal");
    assert_eq!(
        &batch.state.adopt_month[5 * n..6 * n],
        &res.output.state.adopt_month[..],
        "adoptions equal"
    );
    assert!(
        res.events.iter().any(|e| e.what.starts_with("adopted")),
        "the replay logged adoptions"
    );
}

/// `--backend auto` falls back to the CPU, with the same results, when the GPU fails on a batch.
#[test]
fn auto_falls_back_to_the_cpu_when_the_gpu_fails() {
    let Some(_gpu) = gpu_or_skip() else { return };
    let sc = scenario("grid.toml", GRID);
    let (m, prm) = sc.build().expect("build");
    let ids: Vec<RunId> = (0..4).map(|r| RunId::new(9, 0, r)).collect();
    // A buffer limit below one run's needs makes every GPU batch fail.
    let broken = Gpu::new(None).expect("device").with_max_buffer_bytes(64);
    let auto = pioneer::backend::auto::Auto::new(broken, Cpu::default());
    let out = auto
        .run_batch(&m, &[prm], &ids, init_batch(&m, &[prm], &ids), 24, &|_| {})
        .expect("falls back");
    assert!(
        auto.fell_back() && auto.describe().contains("after the GPU failed"),
        "{}",
        auto.describe()
    );
    let cpu = Cpu::default()
        .run_batch(&m, &[prm], &ids, init_batch(&m, &[prm], &ids), 24, &|_| {})
        .expect("cpu");
    assert_same("auto after a GPU failure vs the CPU", &cpu, &out);
}

/// Through the real binary: steps.csv, summary.csv and units.csv are byte-identical between
/// `--backend cpu` and `--backend gpu` (a grid world and a file world).
#[test]
fn cli_outputs_are_byte_identical_between_backends() {
    let Some(_gpu) = gpu_or_skip() else { return };
    let dir = std::env::temp_dir().join(format!("pioneer-gpu-cli-{}", std::process::id()));
    for file in ["classroom.toml", "jdistrict.toml"] {
        for be in ["cpu", "gpu"] {
            let out = dir.join(format!("{file}-{be}"));
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
                .args(["run", &format!("scenarios/{file}"), "--units", "--backend", be, "--out"])
                .arg(&out)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .expect("binary runs");
            assert!(o.status.success(), "{file} on {be}: {}", String::from_utf8_lossy(&o.stderr));
        }
        for f in ["steps.csv", "summary.csv", "units.csv"] {
            let read = |be: &str| std::fs::read(dir.join(format!("{file}-{be}")).join(f)).expect("output");
            assert!(read("cpu") == read("gpu"), "{file}: {f} differs between cpu and gpu");
        }
        let manifest = std::fs::read_to_string(dir.join(format!("{file}-gpu")).join("manifest.json")).expect("manifest");
        assert!(
            manifest.contains("\"backend\": \"gpu"),
            "the manifest names the GPU backend: {manifest}"
        );
    }
}

/// A sweep (parameter points mixed in one GPU dispatch, several blocks) writes the same tables,
/// CSV and Parquet, on the GPU as on the CPU.
#[test]
fn sweep_tables_are_byte_identical_between_backends() {
    let Some(_gpu) = gpu_or_skip() else { return };
    let dir = std::env::temp_dir().join(format!("pioneer-gpu-sweep-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for be in ["cpu", "gpu"] {
        let out = dir.join(be);
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
            .args([
                "sweep",
                "scenarios/sweeps/incentive-space.toml",
                "--replicates",
                "48",
                "--months",
                "36",
                "--backend",
                be,
                "--out",
            ])
            .arg(&out)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("binary runs");
        assert!(o.status.success(), "sweep on {be}: {}", String::from_utf8_lossy(&o.stderr));
    }
    for t in ["points", "runs", "stats", "steps"] {
        for ext in ["csv", "parquet"] {
            let f = format!("{t}.{ext}");
            let read = |be: &str| std::fs::read(dir.join(be).join(&f)).expect("table");
            assert!(read("cpu") == read("gpu"), "{f} differs between cpu and gpu");
        }
    }
    let manifest = std::fs::read_to_string(dir.join("gpu").join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"backend\": \"gpu"), "{manifest}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A calibration (proposals of two generations batched on the device, and the predictive
/// draws) gives the same particles, posterior and predictive band on the GPU as on the CPU.
#[test]
fn calibration_particles_are_identical_between_backends() {
    let Some(_gpu) = gpu_or_skip() else { return };
    let dir = std::env::temp_dir().join(format!("pioneer-gpu-calibrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let obs = dir.join("observed.csv");
    std::fs::write(&obs, "year,count\n2006,0\n2008,2\n2010,6\n2012,12\n2014,20\n").expect("write");
    for be in ["cpu", "gpu"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_pioneer"))
            .args(["calibrate", "scenarios/classroom.toml", "--observed"])
            .arg(&obs)
            .args([
                "--vary",
                "params.gamma_g=1..30",
                "--vary",
                "innovation.0.signal=0.05..0.9",
                "--months",
                "120",
                "--particles",
                "48",
                "--generations",
                "2",
                "--predictive",
                "16",
                "--backend",
                be,
                "--out",
            ])
            .arg(dir.join(be))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("binary runs");
        assert!(o.status.success(), "calibrate on {be}: {}", String::from_utf8_lossy(&o.stderr));
    }
    for f in [
        "particles.csv",
        "particles.parquet",
        "generations.csv",
        "posterior.csv",
        "predictive.csv",
    ] {
        let read = |be: &str| std::fs::read(dir.join(be).join(f)).expect("table");
        assert!(read("cpu") == read("gpu"), "{f} differs between cpu and gpu");
    }
    let manifest = std::fs::read_to_string(dir.join("gpu").join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"backend\": \"gpu"), "{manifest}");
    let _ = std::fs::remove_dir_all(&dir);
}
