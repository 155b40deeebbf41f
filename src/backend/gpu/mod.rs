//! The wgpu backend: every phase of the month as a WGSL compute kernel over all runs of a chunk,
//! bit-identical to `backend::cpu` (integer arithmetic, counter-based draws, integer atomics).

mod layout;

pub use layout::{bytes_per_agent_month, runs_per_chunk, GpuLayout, RunBytes};

use super::{Backend, BatchOutput, Progress};
use crate::error::{Error, Result};
use crate::model::agg;
use crate::model::params::Params;
use crate::model::{Model, RunId};
use crate::state::BatchState;
use layout::{pack_state, pack_world, shapes_agree, unpack_state};
use std::sync::{Arc, Mutex};
use wgpu::util::DeviceExt;

/// The whole shader: the WGSL files concatenated (WGSL has no includes), helpers first.
pub const SHADER_SOURCE: &str = concat!(
    include_str!("../../../shaders/fixed.wgsl"),
    "\n",
    include_str!("../../../shaders/rng.wgsl"),
    "\n",
    include_str!("../../../shaders/params.wgsl"),
    "\n",
    include_str!("../../../shaders/step.wgsl"),
);

/// Invocations per workgroup (`WG` in step.wgsl).
pub const WORKGROUP: u32 = 64;
/// Months encoded per command buffer; the host waits for a block only after queueing the next.
const MONTHS_PER_SUBMIT: u32 = 12;
/// The kernels: those of a month in the order they run (phases 0, A, B, C1, C2, D1–D3), then
/// the record's counts at a chunk's start and end.
pub const ENTRY_POINTS: [&str; 10] = [
    "k_prelude",
    "k_neighbour",
    "k_step",
    "k_rank",
    "k_tournament",
    "k_recog_collect",
    "k_recog_rank",
    "k_recognise",
    "k_tally_start",
    "k_levels",
];
/// Indices in `ENTRY_POINTS`: the first of recognition's three phases, and the two record kernels.
const RECOG_FIRST: usize = 5;
const TALLY_START: usize = 8;
const LEVELS: usize = 9;

/// What to do when there is no adapter.
pub const NO_ADAPTER_HELP: &str = "no GPU adapter found: install the Vulkan driver of your GPU, or the software \
     Vulkan driver lavapipe (`apt-get install mesa-vulkan-drivers libvulkan1`), or use `--backend cpu`";

/// One adapter as `pioneer devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AdapterInfoRow {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
}

fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::all();
    // No validation layers unless asked for (WGPU_VALIDATION=1): they slow every dispatch.
    desc.flags = wgpu::InstanceFlags::empty().with_env();
    wgpu::Instance::new(desc)
}

/// Vulkan first, then discrete, integrated, virtual, other and CPU (software) adapters.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    };
    ((info.backend != wgpu::Backend::Vulkan) as u8, kind)
}

fn adapters() -> Vec<wgpu::Adapter> {
    let mut list = pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()));
    list.sort_by_key(|a| rank(&a.get_info()));
    list
}

fn row(a: &wgpu::Adapter) -> AdapterInfoRow {
    let info = a.get_info();
    let lim = a.limits();
    AdapterInfoRow {
        name: info.name,
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver,
        driver_info: info.driver_info,
        max_storage_buffer_binding_size: lim.max_storage_buffer_binding_size,
        max_buffer_size: lim.max_buffer_size,
        max_compute_workgroups_per_dimension: lim.max_compute_workgroups_per_dimension,
    }
}

/// Every adapter wgpu finds, best first (for `pioneer devices`).
pub fn list_adapters() -> Vec<AdapterInfoRow> {
    adapters().iter().map(row).collect()
}

/// The GPU backend: one device, its pipelines, built once and reused for every batch.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    bind_layout: wgpu::BindGroupLayout,
    pipelines: Vec<wgpu::ComputePipeline>,
    /// Errors that no error scope caught (recorded instead of wgpu's default panic).
    errors: Arc<Mutex<Vec<String>>>,
    /// Test hook: a smaller per-buffer limit than the device's, to force chunking.
    max_buffer_bytes: Option<u64>,
    /// Test hook: fewer workgroups per dispatch dimension than the device's, to force 2-D grids.
    max_groups_per_dim: Option<u32>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu").field("adapter", &self.info.name).finish()
    }
}

impl Gpu {
    /// Open the best adapter (software ones included), or the first whose name contains
    /// `adapter_substring` (case-insensitive); without one, `PIONEER_ADAPTER` is used.
    pub fn new(adapter_substring: Option<&str>) -> Result<Gpu> {
        let want = adapter_substring
            .map(str::to_string)
            .or_else(|| std::env::var("PIONEER_ADAPTER").ok().filter(|s| !s.is_empty()));
        Self::open(want.as_deref(), true)
    }

    /// For `--backend auto`: a hardware adapter only (a software one such as llvmpipe is slower
    /// than the CPU backend), unless `PIONEER_ADAPTER` names one. `Err` says why there is none,
    /// in words for the one-line note that the CPU is used instead.
    pub fn new_auto() -> std::result::Result<Gpu, String> {
        let want = std::env::var("PIONEER_ADAPTER").ok().filter(|s| !s.is_empty());
        let allow_cpu = want.is_some();
        Self::open(want.as_deref(), allow_cpu).map_err(|e| match e {
            Error::Backend(m) if m.starts_with(NO_ADAPTER_HELP) && m.len() > NO_ADAPTER_HELP.len() => {
                let names: Vec<String> = list_adapters().into_iter().map(|a| a.name).collect();
                format!(
                    "no hardware GPU adapter found (software adapter {} skipped; `--backend gpu` uses it)",
                    names.join(", ")
                )
            }
            Error::Backend(m) if m.starts_with(NO_ADAPTER_HELP) => "no GPU adapter found".to_string(),
            other => format!("the GPU backend could not start ({other})"),
        })
    }

    fn open(want: Option<&str>, allow_cpu: bool) -> Result<Gpu> {
        let all = adapters();
        if all.is_empty() {
            return Err(Error::Backend(NO_ADAPTER_HELP.to_string()));
        }
        let names: Vec<String> = all.iter().map(|a| a.get_info().name).collect();
        let pick = all.into_iter().find(|a| {
            let info = a.get_info();
            let named = want.is_none_or(|w| info.name.to_lowercase().contains(&w.to_lowercase()));
            named && (allow_cpu || info.device_type != wgpu::DeviceType::Cpu)
        });
        let Some(adapter) = pick else {
            return Err(Error::Backend(match want {
                Some(w) => format!(
                    "no GPU adapter matches `{w}` (PIONEER_ADAPTER or --backend); found: {}",
                    names.join(", ")
                ),
                None => format!("{NO_ADAPTER_HELP} (found only software adapters: {})", names.join(", ")),
            }));
        };
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("pioneer"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::Backend(format!("cannot open GPU adapter {}: {e}", info.name)))?;
        let errors = Arc::new(Mutex::new(Vec::new()));
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let lost = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut v) = lost.lock() {
                v.push(format!("device lost ({reason:?}): {msg}"));
            }
        });
        let scopes = Scopes::push(&device);
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some("pioneer step"),
            source: wgpu::ShaderSource::Wgsl(SHADER_SOURCE.into()),
        };
        let module = device.create_shader_module(desc);
        let storage = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let bind_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("pioneer bindings"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: true,
                        min_binding_size: wgpu::BufferSize::new(std::mem::size_of::<GpuLayout>() as u64),
                    },
                    count: None,
                },
                storage(1, false),
                storage(2, true),
                storage(3, true),
                storage(4, true),
                storage(5, false),
                storage(6, false),
                storage(7, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("pioneer pipeline layout"),
            bind_group_layouts: &[Some(&bind_layout)],
            immediate_size: 0,
        });
        let pipelines = ENTRY_POINTS
            .iter()
            .map(|ep| {
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(ep),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(ep),
                    compilation_options: Default::default(),
                    cache: None,
                })
            })
            .collect();
        if let Some(e) = scopes.pop() {
            return Err(Error::Backend(format!("cannot build the GPU kernels on {}: {e}", info.name)));
        }
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            bind_layout,
            pipelines,
            errors,
            max_buffer_bytes: None,
            max_groups_per_dim: None,
        })
    }

    /// Test hook: pretend no buffer may exceed `n` bytes, so that batches are split into chunks.
    pub fn with_max_buffer_bytes(mut self, n: u64) -> Self {
        self.max_buffer_bytes = Some(n);
        self
    }

    /// Test hook: pretend a dispatch may have at most `n` workgroups per dimension, so that
    /// small batches already use the 2-D grid that large ones need.
    pub fn with_max_workgroups_per_dimension(mut self, n: u32) -> Self {
        self.max_groups_per_dim = Some(n.max(1));
        self
    }

    fn groups_per_dim(&self) -> u64 {
        let d = self.limits.max_compute_workgroups_per_dimension.max(1);
        self.max_groups_per_dim.map_or(d, |m| m.min(d)) as u64
    }

    /// The adapter's name (e.g. `llvmpipe (LLVM 15.0.7, 256 bits)`).
    pub fn adapter_name(&self) -> &str {
        &self.info.name
    }

    /// The graphics API in use (e.g. `Vulkan`).
    pub fn api(&self) -> String {
        format!("{:?}", self.info.backend)
    }

    /// The adapter's description as `pioneer devices` prints it.
    pub fn info(&self) -> AdapterInfoRow {
        AdapterInfoRow {
            name: self.info.name.clone(),
            backend: self.api(),
            device_type: format!("{:?}", self.info.device_type),
            driver: self.info.driver.clone(),
            driver_info: self.info.driver_info.clone(),
            max_storage_buffer_binding_size: self.limits.max_storage_buffer_binding_size,
            max_buffer_size: self.limits.max_buffer_size,
            max_compute_workgroups_per_dimension: self.limits.max_compute_workgroups_per_dimension,
        }
    }

    /// Largest buffer the kernels may bind: the device's limits (and the test hook), kept
    /// below 4 GiB so every word index fits in a u32.
    pub fn buffer_limit(&self) -> u64 {
        let lim = self
            .limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
            .min(u32::MAX as u64 - 3);
        let lim = self.max_buffer_bytes.map_or(lim, |m| lim.min(m));
        lim & !3
    }

    /// Most runs of this shape that fit in one chunk.
    pub fn runs_per_chunk(&self, units: usize, innov: usize, months: u32) -> usize {
        let by_bytes = runs_per_chunk(RunBytes::new(units, innov, months), self.buffer_limit());
        // Keep the 2-D dispatch within the device's grid.
        let d = self.groups_per_dim();
        let by_grid = (d * d * WORKGROUP as u64 / units.max(1) as u64) as usize;
        by_bytes.min(by_grid)
    }

    fn take_errors(&self) -> Option<String> {
        let mut v = self.errors.lock().ok()?;
        if v.is_empty() {
            None
        } else {
            let msg = v.join("; ");
            v.clear();
            Some(msg)
        }
    }

    /// Workgroups for `count` invocations: (x, y) with x at most the per-dimension limit.
    fn groups(&self, count: u64) -> (u32, u32) {
        let g = count.div_ceil(WORKGROUP as u64).max(1);
        let d = self.groups_per_dim();
        let x = g.min(d);
        (x as u32, g.div_ceil(x) as u32)
    }

    fn wait(&self, idx: wgpu::SubmissionIndex) -> Result<()> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(idx),
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| Error::Backend(format!("GPU wait failed: {e}")))
    }

    fn read_words(&self, buf: &wgpu::Buffer) -> Result<Vec<u32>> {
        let slice = buf.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Backend(format!("GPU wait failed: {e}")))?;
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::Backend(format!("cannot read back GPU results: {e}"))),
            Err(_) => return Err(Error::Backend("cannot read back GPU results: mapping never finished".into())),
        }
        let words = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| Error::Backend(format!("cannot read back GPU results: {e:?}")))?;
            match bytemuck::try_cast_slice::<u8, u32>(&view) {
                Ok(w) => w.to_vec(),
                Err(_) => view.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            }
        };
        buf.unmap();
        Ok(words)
    }

    /// Run one chunk (all its runs fit in the buffers) for `months`; returns its records and state.
    #[allow(clippy::too_many_arguments)]
    fn run_chunk(
        &self,
        world: &wgpu::Buffer,
        world_offs: [u32; layout::WORLD_SEGMENTS],
        params_buf: &wgpu::Buffer,
        params: &[Params],
        runs: &[RunId],
        mut st: BatchState,
        months: u32,
        progress: Progress,
    ) -> Result<(Vec<u32>, BatchState)> {
        let (r, n, k) = (runs.len(), st.units, st.innov);
        let rl = agg::record_len(k);
        let (words, cols) = pack_state(&st);
        let rb = RunBytes::new(n, k, months);
        let fail = |what: &str, e: String| {
            Error::Backend(format!(
                "the GPU ({}) failed {what} a batch of {r} runs × {n} units × {months} months \
                 ({} MB of state, {} MB of records): {e}; try fewer runs per batch (`--batch`)",
                self.info.name,
                rb.state * r as u64 / 1_000_000,
                rb.agg * r as u64 / 1_000_000
            ))
        };
        let stride = {
            let a = self.limits.min_uniform_buffer_offset_alignment.max(16) as usize;
            std::mem::size_of::<GpuLayout>().div_ceil(a) * a
        };
        let mut lay = GpuLayout {
            runs: r as u32,
            units: n as u32,
            innov: k as u32,
            month: 0,
            rec_len: rl as u32,
            months,
            cols,
            world: world_offs,
            s_nbr_p: 0,
            s_prelude: (r * n) as u32,
            _pad: [0; 2],
        };
        let mut uniform = vec![0u8; stride * months as usize];
        for t in 1..=months {
            lay.month = t;
            let at = (t - 1) as usize * stride;
            uniform[at..at + std::mem::size_of::<GpuLayout>()].copy_from_slice(bytemuck::bytes_of(&lay));
        }
        let run_words: Vec<u32> = runs.iter().flat_map(|id| [id.point, id.key]).collect();
        let state_bytes = words.len() as u64 * 4;
        let agg_bytes = (r * months as usize * rl) as u64 * 4;
        let scratch_bytes = rb.scratch * r as u64;
        let recog_bytes = rb.recog * r as u64;

        let scopes = Scopes::push(&self.device);
        let d = &self.device;
        let init = |label: &str, bytes: &[u8], usage| {
            d.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytes,
                usage,
            })
        };
        let empty = |label: &str, size: u64, usage| {
            d.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(4),
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let state_buf = init("state", bytemuck::cast_slice(&words), U::STORAGE | U::COPY_SRC);
        drop(words);
        let runs_buf = init("runs", bytemuck::cast_slice(&run_words), U::STORAGE);
        let uniform_buf = init("layout", &uniform, U::UNIFORM);
        let scratch_buf = empty("scratch", scratch_bytes, U::STORAGE);
        let agg_buf = empty("agg", agg_bytes, U::STORAGE | U::COPY_SRC);
        let recog_buf = empty("recognition", recog_bytes, U::STORAGE);
        let state_read = empty("state readback", state_bytes, U::MAP_READ | U::COPY_DST);
        let agg_read = empty("agg readback", agg_bytes, U::MAP_READ | U::COPY_DST);
        let bind = d.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("pioneer chunk"),
            layout: &self.bind_layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &uniform_buf,
                        offset: 0,
                        size: wgpu::BufferSize::new(std::mem::size_of::<GpuLayout>() as u64),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: state_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: world.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 3,
                    resource: params_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 4,
                    resource: runs_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 5,
                    resource: scratch_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 6,
                    resource: agg_buf.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 7,
                    resource: recog_buf.as_entire_binding(),
                },
            ],
        });
        if let Some(e) = scopes.pop().or_else(|| self.take_errors()) {
            return Err(fail("to allocate", e));
        }

        // Months where some parameter point recognises (the kernel checks each run's own).
        let recognises = |t: u32| params.iter().any(|p| p.recog_every != 0 && t.is_multiple_of(p.recog_every));
        let per_run = self.groups(r as u64);
        let per_unit = self.groups((r * n) as u64);
        let per_slot = self.groups((r * n * k) as u64);
        let per_word = self.groups((r * rl) as u64);
        let scopes = Scopes::push(&self.device);
        let mut pending: Option<(wgpu::SubmissionIndex, u32)> = None;
        let mut first = 1;
        while first <= months {
            let last = (first + MONTHS_PER_SUBMIT - 1).min(months);
            let mut enc = d.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("months") });
            {
                let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("months"),
                    timestamp_writes: None,
                });
                let pipes = &self.pipelines;
                let dispatch = |pass: &mut wgpu::ComputePass, p: usize, (x, y): (u32, u32)| {
                    pass.set_pipeline(&pipes[p]);
                    pass.dispatch_workgroups(x, y, 1);
                };
                for t in first..=last {
                    pass.set_bind_group(0, &bind, &[(t - 1) * stride as u32]);
                    if t == 1 {
                        dispatch(&mut pass, TALLY_START, per_unit);
                    }
                    let phases = [per_run, per_unit, per_unit, per_unit, per_unit, per_unit, per_slot, per_run];
                    for (p, groups) in phases.into_iter().enumerate() {
                        if p >= RECOG_FIRST && !recognises(t) {
                            continue;
                        }
                        dispatch(&mut pass, p, groups);
                    }
                }
                if last == months {
                    dispatch(&mut pass, LEVELS, per_word);
                }
            }
            if last == months {
                enc.copy_buffer_to_buffer(&state_buf, 0, &state_read, 0, state_bytes);
                enc.copy_buffer_to_buffer(&agg_buf, 0, &agg_read, 0, agg_bytes);
            }
            let idx = self.queue.submit([enc.finish()]);
            if let Some((prev, done)) = pending.take() {
                self.wait(prev)?;
                progress(done as u64 * r as u64);
            }
            pending = Some((idx, last - first + 1));
            first = last + 1;
        }
        if let Some((prev, done)) = pending.take() {
            self.wait(prev)?;
            progress(done as u64 * r as u64);
        }
        if let Some(e) = scopes.pop().or_else(|| self.take_errors()) {
            return Err(fail("while running", e));
        }
        let state_words = self.read_words(&state_read)?;
        let aggs = if agg_bytes == 0 { Vec::new() } else { self.read_words(&agg_read)? };
        if let Some(e) = self.take_errors() {
            return Err(fail("while reading back", e));
        }
        unpack_state(&state_words[..state_bytes as usize / 4], &mut st);
        Ok((aggs, st))
    }
}

/// Runs `start..start + count` of `st` as a batch of their own.
fn slice_runs(st: &BatchState, start: usize, count: usize) -> BatchState {
    let mut out = BatchState::zeroed(count, st.units, st.innov);
    for j in 0..count {
        out.copy_run_from(j, st, start + j);
    }
    out
}

/// Error scopes for out-of-memory, validation and internal errors, popped together.
struct Scopes(Vec<wgpu::ErrorScopeGuard>);

impl Scopes {
    fn push(d: &wgpu::Device) -> Self {
        Scopes(vec![
            d.push_error_scope(wgpu::ErrorFilter::OutOfMemory),
            d.push_error_scope(wgpu::ErrorFilter::Validation),
            d.push_error_scope(wgpu::ErrorFilter::Internal),
        ])
    }
    /// The first error any scope caught.
    fn pop(mut self) -> Option<String> {
        let mut first = None;
        while let Some(g) = self.0.pop() {
            if let Some(e) = pollster::block_on(g.pop()) {
                first.get_or_insert_with(|| e.to_string());
            }
        }
        first
    }
}

impl Backend for Gpu {
    fn describe(&self) -> String {
        format!("gpu ({} via {})", self.info.name, self.api())
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
        let (n, k) = (init.units, init.innov);
        let rl = agg::record_len(k);
        let bad = |m: &str| Err(Error::Backend(format!("gpu backend: {m}")));
        if init.runs != runs.len() {
            return bad("the initial state does not have one slot per run");
        }
        if n != m.world.len() || !shapes_agree(params, n, k) {
            return bad("the parameter points, the world and the initial state disagree on units or innovations");
        }
        if runs.iter().any(|id| id.point as usize >= params.len()) {
            return bad("a run names a parameter point that does not exist");
        }
        if runs.is_empty() || months == 0 {
            return Ok(BatchOutput {
                agg: Vec::new(),
                record_len: rl,
                months,
                state: init,
            });
        }
        let limit = self.buffer_limit();
        let per = self.runs_per_chunk(n, k, months);
        if per == 0 {
            return Err(Error::Backend(format!(
                "one run of {n} units × {k} innovations × {months} months needs {} bytes in one buffer; \
                 the GPU adapter {} allows {limit} bytes per buffer (use fewer months or `--backend cpu`)",
                RunBytes::new(n, k, months).largest(),
                self.info.name
            )));
        }
        let (world_words, world_offs) = pack_world(m);
        if world_words.len() as u64 * 4 > limit {
            return Err(Error::Backend(format!(
                "the world ({} bytes) does not fit in one buffer of the GPU adapter {} ({limit} bytes)",
                world_words.len() * 4,
                self.info.name
            )));
        }
        let scopes = Scopes::push(&self.device);
        let world_buf = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("world"),
            contents: bytemuck::cast_slice(&world_words),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let params_buf = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: bytemuck::cast_slice(params),
            usage: wgpu::BufferUsages::STORAGE,
        });
        if let Some(e) = scopes.pop().or_else(|| self.take_errors()) {
            return Err(Error::Backend(format!("the GPU ({}) cannot hold the world: {e}", self.info.name)));
        }
        let mut aggs = Vec::with_capacity(runs.len() * months as usize * rl);
        let mut states = Vec::new();
        let mut whole = Some(init);
        for (ci, chunk) in runs.chunks(per).enumerate() {
            let st = match whole.take() {
                Some(all) if per >= runs.len() => all,
                Some(all) => {
                    let part = slice_runs(&all, ci * per, chunk.len());
                    whole = Some(all);
                    part
                }
                None => return bad("internal: the initial state was used up"),
            };
            let (a, s) = self.run_chunk(&world_buf, world_offs, &params_buf, params, chunk, st, months, progress)?;
            aggs.extend_from_slice(&a);
            states.push(s);
        }
        Ok(BatchOutput {
            agg: aggs,
            record_len: rl,
            months,
            state: BatchState::concat(states),
        })
    }
}
