//! GPU backend tests: the shader validates with naga (always), and on an adapter the GPU
//! reproduces the CPU backend bit for bit (skipped, loudly, without one).

use pioneer::backend::gpu::{Gpu, SHADER_SOURCE};

#[test]
fn shader_validates_with_naga() {
    let module = match naga::front::wgsl::parse_str(SHADER_SOURCE) {
        Ok(m) => m,
        Err(e) => panic!("WGSL does not parse:\n{}", e.emit_to_string(SHADER_SOURCE)),
    };
    let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::empty());
    if let Err(e) = v.validate(&module) {
        panic!("WGSL does not validate:\n{}", e.emit_to_string(SHADER_SOURCE));
    }
}

#[allow(dead_code)]
fn gpu_or_skip() -> Option<Gpu> {
    None
}

#[test]
fn quick_parity() {
    use pioneer::backend::{cpu::Cpu, Backend};
    use pioneer::model::{init_batch, RunId};
    use pioneer::scenario::Scenario;
    let g = Gpu::new(None).expect("gpu");
    eprintln!("{:?}", g.info());
    let src = std::fs::read_to_string("scenarios/baseline.toml").unwrap();
    let sc = Scenario::parse(std::path::Path::new("baseline.toml"), src).unwrap();
    let (m, prm) = sc.build().unwrap();
    let ids: Vec<RunId> = (0..2).map(|r| RunId::new(1, 0, r)).collect();
    let init = init_batch(&m, &[prm], &ids);
    let t = std::time::Instant::now();
    let a = Cpu::default().run_batch(&m, &[prm], &ids, init.clone(), 30, &|_| {}).unwrap();
    eprintln!("cpu {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let b = g.run_batch(&m, &[prm], &ids, init, 30, &|_| {}).unwrap();
    eprintln!("gpu {:?}", t.elapsed());
    for ((name, x), (_, y)) in a.state.columns().into_iter().zip(b.state.columns()) {
        if let Some(i) = x.iter().zip(y).position(|(p, q)| p != q) {
            eprintln!("column {name} differs first at {i}: cpu {} gpu {}", x[i], y[i]);
        }
    }
    if let Some(i) = a.agg.iter().zip(&b.agg).position(|(p, q)| p != q) {
        eprintln!(
            "agg differs first at {i} (month {}, word {}): cpu {} gpu {}",
            i / a.record_len + 1,
            i % a.record_len,
            a.agg[i],
            b.agg[i]
        );
    }
    assert!(a == b);
}
