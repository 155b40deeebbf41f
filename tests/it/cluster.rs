//! The cluster test: a sweep submitted to a real single-node Slurm as a job array and a dependent
//! merge job (`tests/cluster/slurm.sh`). Without Slurm (or root, to start its daemons) it is
//! skipped, loudly; with `PIONEER_REQUIRE_SLURM=1` (CI) that is a failure.

use std::process::Command;

#[test]
fn a_sweep_on_slurm_merges_to_the_unsharded_bytes() {
    let has = |c: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {c}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let missing: Vec<&str> = ["slurmctld", "slurmd", "sbatch", "munged"]
        .into_iter()
        .filter(|c| !has(c))
        .collect();
    if !missing.is_empty() || !root {
        let why = if root {
            format!("{} not installed (apt-get install slurm-wlm munge)", missing.join(", "))
        } else {
            "not root, so the Slurm daemons cannot start".to_string()
        };
        crate::common::skip_unless_required("PIONEER_REQUIRE_SLURM", &format!("the Slurm cluster test cannot run: {why}"));
        return;
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cluster/slurm.sh");
    let o = Command::new("bash")
        .arg(&script)
        .env("PIONEER_BIN", env!("CARGO_BIN_EXE_pioneer"))
        .output()
        .expect("the cluster script runs");
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "the cluster test failed:\n{text}");
    assert!(text.contains("equal the unsharded sweep byte for byte"), "{text}");
}
