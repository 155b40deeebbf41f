//! `pioneer devices`: the GPU adapters wgpu finds, one block each, best first.
//! With none, says so and how to get one (a Vulkan driver, or lavapipe in software).

use crate::backend::gpu::{list_adapters, AdapterInfoRow, NO_ADAPTER_HELP};

/// The text `pioneer devices` prints.
pub fn describe(rows: &[AdapterInfoRow]) -> String {
    use std::fmt::Write as _;
    if rows.is_empty() {
        return format!("no adapters found\n{NO_ADAPTER_HELP}\n");
    }
    let mut s = String::new();
    for (i, a) in rows.iter().enumerate() {
        let _ = writeln!(s, "adapter {}: {}", i + 1, a.name);
        let _ = writeln!(s, "  backend: {}", a.backend);
        let _ = writeln!(s, "  device type: {}", a.device_type);
        let _ = writeln!(s, "  driver: {} ({})", a.driver, a.driver_info);
        let _ = writeln!(s, "  max storage buffer binding: {} bytes", a.max_storage_buffer_binding_size);
        let _ = writeln!(s, "  max buffer size: {} bytes", a.max_buffer_size);
        let _ = writeln!(s, "  max workgroups per dimension: {}", a.max_compute_workgroups_per_dimension);
    }
    s
}

/// `pioneer devices`.
pub fn devices() -> String {
    describe(&list_adapters())
}
