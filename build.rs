//! Names the commit a binary was built from (PIONEER_GIT_HASH; "unknown" without git), for
//! `--version`, manifest.json and the benchmark records.

use std::process::Command;

fn main() {
    let hash = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| !o.stdout.is_empty());
    let value = match hash {
        Some(h) if dirty => format!("{h}-dirty"),
        Some(h) => h,
        None => {
            println!("cargo:warning=git is not available: the build does not name its commit");
            "unknown".to_string()
        }
    };
    println!("cargo:rustc-env=PIONEER_GIT_HASH={value}");
    for f in [".git/HEAD", ".git/index"] {
        println!("cargo:rerun-if-changed={f}");
    }
}
