//! `--backend auto`: the GPU when a hardware adapter is there, the CPU otherwise — and the CPU,
//! with a warning, when the GPU fails on a batch (out of memory, device lost).

use super::cpu::Cpu;
use super::gpu::Gpu;
use super::{Backend, BatchOutput, Progress};
use crate::error::Result;
use crate::model::params::Params;
use crate::model::{Model, RunId};
use crate::state::BatchState;
use std::sync::atomic::{AtomicBool, Ordering};

/// The GPU, with the CPU behind it. Both give the same bits, so a fallback changes only speed.
pub struct Auto {
    pub gpu: Gpu,
    pub cpu: Cpu,
    fell_back: AtomicBool,
}

impl Auto {
    pub fn new(gpu: Gpu, cpu: Cpu) -> Self {
        Auto {
            gpu,
            cpu,
            fell_back: AtomicBool::new(false),
        }
    }
    /// True once a batch has been run on the CPU after the GPU failed.
    pub fn fell_back(&self) -> bool {
        self.fell_back.load(Ordering::Relaxed)
    }
}

impl Backend for Auto {
    fn describe(&self) -> String {
        if self.fell_back() {
            format!("{} (after the GPU failed: {})", self.cpu.describe(), self.gpu.describe())
        } else {
            self.gpu.describe()
        }
    }

    fn run_batch(
        &self,
        m: &Model,
        params: &[Params],
        runs: &[RunId],
        init: BatchState,
        months: u32,
        progress: Progress,
    ) -> Result<BatchOutput> {
        if !self.fell_back() {
            match self.gpu.run_batch(m, params, runs, init.clone(), months, progress) {
                Ok(out) => return Ok(out),
                Err(e) => {
                    eprintln!("pioneer: warning: {e}; running on the CPU instead");
                    self.fell_back.store(true, Ordering::Relaxed);
                }
            }
        }
        self.cpu.run_batch(m, params, runs, init, months, progress)
    }
}
