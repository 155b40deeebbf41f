//! `pioneer devices`: the GPU adapters wgpu finds, one block each, best first, with the largest
//! batch of a scenario each can take, and the host's; with no adapter, how to get one.

use super::budget::{self, Footprint};
use crate::backend::gpu::{list_adapters, AdapterInfoRow, NO_ADAPTER_HELP};
use crate::backend::gpu::{runs_per_chunk, RunBytes};
use crate::error::{InputError, Result};
use crate::scenario::Scenario;
use std::path::PathBuf;

/// The batch whose fit `pioneer devices` reckons: a scenario's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub name: String,
    pub units: u64,
    pub innov: u64,
    pub months: u32,
    /// Bytes a run holds on the host while a batch runs (`Footprint::batch_run_bytes`).
    pub host_bytes_per_run: u64,
}

impl Shape {
    pub fn of(sc: &Scenario) -> Result<Shape> {
        let fp = Footprint::of(sc)?;
        Ok(Shape {
            name: sc.name(),
            units: fp.world.units,
            innov: fp.innov,
            months: sc.spec.months,
            host_bytes_per_run: fp.batch_run_bytes(),
        })
    }

    /// The GPU buffers of one run: state, scratch, records and recognition work space.
    pub fn gpu_bytes(&self) -> RunBytes {
        RunBytes::new(self.units as usize, self.innov as usize, self.months)
    }
}

fn mib(b: u64) -> f64 {
    b as f64 / (1u64 << 20) as f64
}

/// The text `pioneer devices` prints: each adapter, the most runs of `shape` one chunk can hold
/// there (its largest per-run buffer against the adapter's binding limit) and, with
/// `device_memory` bytes, how many fit in that memory; then the host's fit.
pub fn describe(rows: &[AdapterInfoRow], shape: &Shape, device_memory: Option<u64>, host_allowed: u64) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    if rows.is_empty() {
        let _ = writeln!(s, "no adapters found\n{NO_ADAPTER_HELP}");
    }
    let rb = shape.gpu_bytes();
    let per_run = rb.state + rb.scratch + rb.agg + rb.recog;
    let what = format!("{} ({} units, {} months)", shape.name, shape.units, shape.months);
    for (i, a) in rows.iter().enumerate() {
        let _ = writeln!(s, "adapter {}: {}", i + 1, a.name);
        let _ = writeln!(s, "  backend: {}", a.backend);
        let _ = writeln!(s, "  device type: {}", a.device_type);
        let _ = writeln!(s, "  driver: {} ({})", a.driver, a.driver_info);
        let _ = writeln!(s, "  max storage buffer binding: {} bytes", a.max_storage_buffer_binding_size);
        let _ = writeln!(s, "  max buffer size: {} bytes", a.max_buffer_size);
        let _ = writeln!(s, "  max workgroups per dimension: {}", a.max_compute_workgroups_per_dimension);
        let limit = a.max_storage_buffer_binding_size.min(a.max_buffer_size);
        let _ = writeln!(
            s,
            "  largest chunk of {what}: {} runs (a run's largest buffer is {:.2} MiB; all its buffers {:.2} MiB; larger batches run in chunks)",
            runs_per_chunk(rb, limit),
            mib(rb.largest()),
            mib(per_run)
        );
        if let Some(mem) = device_memory {
            let _ = writeln!(
                s,
                "  in {:.1} GiB of device memory: {} runs at once",
                budget::gib(mem),
                mem / per_run.max(1)
            );
        }
    }
    let _ = writeln!(
        s,
        "host: {:.1} GiB allowed (three quarters of its memory): {} runs of {what} at once (a run holds {:.2} MiB: its state and records, at the batch's start and end)",
        budget::gib(host_allowed),
        host_allowed / shape.host_bytes_per_run.max(1),
        mib(shape.host_bytes_per_run)
    );
    s
}

/// `pioneer devices`: for `scenario` (default: the bundled china baseline).
pub fn devices(scenario: Option<&PathBuf>, memory_gib: Option<f64>) -> Result<String> {
    let sc = super::bench::scenario_or_baseline(scenario.map(PathBuf::as_path))?;
    let memory = match memory_gib {
        Some(g) if g.is_finite() && g > 0.0 => Some((g * (1u64 << 30) as f64) as u64),
        Some(g) => {
            return Err(InputError::new(format!("{g}: give the device's memory in GiB, a positive number"))
                .field("--memory-gib")
                .into())
        }
        None => None,
    };
    Ok(describe(&list_adapters(), &Shape::of(&sc)?, memory, budget::allowed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(binding: u64) -> AdapterInfoRow {
        AdapterInfoRow {
            name: "test adapter".into(),
            backend: "vulkan".into(),
            device_type: "Cpu".into(),
            driver: "d".into(),
            driver_info: "i".into(),
            max_storage_buffer_binding_size: binding,
            max_buffer_size: u64::MAX,
            max_compute_workgroups_per_dimension: 65535,
        }
    }

    #[test]
    fn the_fit_follows_the_buffers_and_the_memory() {
        let shape = Shape {
            name: "w".into(),
            units: 1000,
            innov: 1,
            months: 12,
            host_bytes_per_run: 1 << 20,
        };
        let rb = shape.gpu_bytes();
        let per_run = rb.state + rb.scratch + rb.agg + rb.recog;
        let t = describe(&[row(rb.largest() * 10 + 1)], &shape, Some(per_run * 7 + 3), 5 << 20);
        assert!(t.contains("largest chunk of w (1000 units, 12 months): 10 runs"), "{t}");
        assert!(t.contains("device memory: 7 runs at once"), "{t}");
        assert!(t.contains("host: 0.0 GiB allowed (three quarters of its memory): 5 runs"), "{t}");
        let none = describe(&[], &shape, None, 5 << 20);
        assert!(none.contains("no adapters found") && none.contains("5 runs"), "{none}");
    }
}
