//! Same inputs, same bits: any thread count, a run alone or inside a batch, any chunking, and
//! the traced replay of a run.

use crate::common::*;
use pioneer::app::run::run_chunked;
use pioneer::backend::cpu::Cpu;
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
        Cpu { threads: Some(threads) }
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
