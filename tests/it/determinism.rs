//! Same inputs, same bits: any thread count, a run alone or inside a batch, any chunking, and
//! the traced replay of a run.

use crate::common::*;
use pioneer::app::run::run_chunked;
use pioneer::backend::cpu::{Cpu, Isa};
use pioneer::backend::{Backend, BatchOutput};
use pioneer::model::{init_batch, RunId};

fn baseline(months: u32, replicates: u32) -> pioneer::scenario::Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let mut sc = pioneer::scenario::Scenario::load(&path).expect("baseline loads");
    sc.spec.months = months;
    sc.spec.replicates = replicates;
    sc
}

/// Run r of a batch output, as its own one-run output.
fn slice(out: &BatchOutput, r: usize) -> (Vec<u32>, Vec<(String, Vec<u32>)>) {
    let per = out.months as usize * out.record_len;
    let st = &out.state;
    let cols = st
        .columns()
        .into_iter()
        .map(|(name, col)| {
            let len = col.len() / st.runs;
            (name.to_string(), col[r * len..(r + 1) * len].to_vec())
        })
        .collect();
    (out.agg[r * per..(r + 1) * per].to_vec(), cols)
}

#[test]
fn thread_count_does_not_matter() {
    let sc = baseline(60, 4);
    let (model, prm) = sc.build().expect("builds");
    let ids: Vec<RunId> = (0..4).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let go = |threads| {
        let init = init_batch(&model, &[prm], &ids);
        Cpu {
            threads: Some(threads),
            isa: None,
        }
        .run_batch(&model, &[prm], &ids, init, 60, &|_| {})
        .expect("runs")
    };
    let one = go(1);
    assert!(
        one.state.adopt_month.iter().any(|&m| m != u32::MAX),
        "something happens in 60 months"
    );
    assert_eq!(one, go(2), "1 vs 2 threads");
    assert_eq!(one, go(3), "1 vs 3 threads");
}

#[test]
fn the_avx2_build_gives_the_portable_bits() {
    if Isa::detect() != Isa::Avx2 {
        skip_unless_required(
            "PIONEER_REQUIRE_AVX2",
            "this CPU has no AVX2, so the CPU backend runs its portable build only",
        );
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for name in [
        "baseline",
        "jdistrict",
        "mandate",
        "two-reforms",
        "championship",
        "classroom",
        "remote",
        "baseline-real",
    ] {
        let mut sc = pioneer::scenario::Scenario::load(&dir.join(format!("{name}.toml"))).expect("loads");
        sc.spec.months = sc.spec.months.min(120);
        let (model, prm) = sc.build().expect("builds");
        let ids: Vec<RunId> = (0..3).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
        let go = |isa| {
            let init = init_batch(&model, &[prm], &ids);
            Cpu {
                threads: None,
                isa: Some(isa),
            }
            .run_batch(&model, &[prm], &ids, init, sc.spec.months, &|_| {})
            .expect("runs")
        };
        let portable = go(Isa::Portable);
        assert!(
            portable.state.adopt_month.iter().any(|&m| m != u32::MAX),
            "{name}: something happens"
        );
        let avx2 = go(Isa::Avx2);
        if let Some(diff) = first_difference(&portable, &avx2) {
            panic!("{name}: the portable and AVX2 builds differ: {diff}");
        }
        assert_eq!(portable, avx2);
    }
}

/// Where two batch outputs first differ (the record word or the state column and index), if they do.
fn first_difference(a: &BatchOutput, b: &BatchOutput) -> Option<String> {
    let at = |x: &[u32], y: &[u32]| (0..x.len().max(y.len())).find(|&i| x.get(i) != y.get(i));
    if let Some(i) = at(&a.agg, &b.agg) {
        return Some(format!("record word {i}: {:?} vs {:?}", a.agg.get(i), b.agg.get(i)));
    }
    for ((name, x), (_, y)) in a.state.columns().into_iter().zip(b.state.columns()) {
        if let Some(i) = at(x, y) {
            return Some(format!("state {name}[{i}]: {:?} vs {:?}", x.get(i), y.get(i)));
        }
    }
    None
}

#[test]
fn a_run_alone_equals_the_same_run_inside_a_batch_and_any_chunking() {
    let sc = baseline(48, 16);
    let (model, prm) = sc.build().expect("builds");
    let ids: Vec<RunId> = (0..16).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let cpu = Cpu::default();
    let whole = run_chunked(&cpu, &model, &[prm], &ids, 48, 16, &|_| {}).expect("runs");
    for batch in [1, 3, 8] {
        assert_eq!(
            whole,
            run_chunked(&cpu, &model, &[prm], &ids, 48, batch, &|_| {}).expect("runs"),
            "batches of {batch}"
        );
    }
    for r in [0usize, 5, 15] {
        let alone = run_chunked(&cpu, &model, &[prm], &ids[r..r + 1], 48, 1, &|_| {}).expect("runs");
        assert_eq!(slice(&alone, 0), slice(&whole, r), "run {r} alone vs inside the batch of 16");
    }
    // Different replicates differ (the key really separates runs).
    assert_ne!(slice(&whole, 0).0, slice(&whole, 1).0);
}

#[test]
fn the_traced_replay_equals_the_run_inside_a_batch() {
    let sc = baseline(60, 8);
    let ran = run(&sc);
    for r in [2usize, 7] {
        let mut state = init_batch(&ran.model, &[ran.params], &ran.ids[r..r + 1]);
        let rl = ran.out.record_len;
        let mut aggs = vec![0u32; 60 * rl];
        let mut log = pioneer::model::trace::EventLog::default();
        pioneer::backend::cpu::run_months(
            &ran.model,
            &ran.params,
            ran.ids[r].key,
            &mut state.runs_mut()[0],
            &mut aggs,
            1,
            60,
            &mut log,
            &|_| {},
        );
        let replay = BatchOutput {
            agg: aggs,
            record_len: rl,
            months: 60,
            state,
        };
        assert_eq!(slice(&replay, 0), slice(&ran.out, r), "replay of run {r}");
        // The log accounts for every adoption of the run.
        let adopted = log.events.iter().filter(|e| e.what.starts_with("adopted")).count();
        let expected = ran.out.record(r, 60)[pioneer::model::agg::ADOPTERS] as usize;
        assert!(expected > 0);
        assert_eq!(adopted, expected, "one `adopted` event per adopter");
    }
}
