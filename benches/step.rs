//! Criterion bench: stepping the china baseline, a batch of 64 runs, on the CPU backend.
//! Throughput is in agent-months (units × runs × months); `pioneer bench` reports the same figure.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use pioneer::app::bench::BASELINE;
use pioneer::backend::cpu::Cpu;
use pioneer::backend::Backend;
use pioneer::model::{init_batch, RunId};
use pioneer::scenario::Scenario;
use std::path::Path;

fn baseline(c: &mut Criterion) {
    let sc = Scenario::parse(Path::new("scenarios/baseline.toml"), BASELINE.to_string()).expect("baseline parses");
    let (model, prm) = sc.build().expect("baseline builds");
    let ids: Vec<RunId> = (0..64).map(|r| RunId::new(sc.spec.seed, 0, r)).collect();
    let months = 60;
    let mut g = c.benchmark_group("china-baseline");
    g.sample_size(10);
    g.throughput(Throughput::Elements(model.world.len() as u64 * ids.len() as u64 * months as u64));
    g.bench_function("cpu 64 runs x 60 months", |b| {
        b.iter_batched(
            || init_batch(&model, &[prm], &ids),
            |init| Cpu::default().run_batch(&model, &[prm], &ids, init, months, &|_| {}).expect("runs"),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, baseline);
criterion_main!(benches);
