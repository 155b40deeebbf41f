//! Output folders as a transaction: every file is written into a hidden staging folder beside the
//! target, which is swapped in whole, so a kill leaves the old complete set or the new one.

use crate::error::{Error, InputError, Result};
use std::path::{Path, PathBuf};

/// The staging folders of this process not yet committed or dropped: a second Ctrl-C, which
/// ends the process at once, removes them first (`remove_live_stages`). A commit holds the lock
/// while it swaps its folder in, so a removal never meets a half-made swap.
static LIVE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove every live staging folder and keep the lock, so that none is made or swapped in
/// before the process ends (what a second signal does just before it exits).
pub fn remove_live_stages() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    let mut g = live();
    for s in g.drain(..) {
        let _ = std::fs::remove_dir_all(s);
    }
    g
}

/// A staging folder for `target`; `commit` swaps it in, dropping it uncommitted removes it.
pub struct Staged {
    target: PathBuf,
    stage: PathBuf,
    done: bool,
}

/// The hidden staging folders of `target` (`.NAME.staging-PID` beside it).
fn stage_prefix(target: &Path) -> (PathBuf, String) {
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    (parent.to_path_buf(), format!(".{name}.staging-"))
}

/// What a folder holds, for deciding whether pioneer may replace it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holds {
    /// Nothing there, or an empty folder.
    Nothing,
    /// A pioneer output (`manifest.json` naming pioneer, or a sweep's `sweep.json`).
    Pioneer { sweep: bool },
    /// Something else: these entries (a few of them).
    Other(Vec<String>),
}

/// What `dir`, the output folder named by `flag`, holds.
pub fn holds(dir: &Path, flag: &str) -> Result<Holds> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Holds::Nothing),
        Err(e) => {
            return Err(InputError::new(format!(
                "cannot use {} as the output folder: {e}; give a folder you can write",
                dir.display()
            ))
            .field(flag)
            .into())
        }
    };
    let names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if names.is_empty() {
        return Ok(Holds::Nothing);
    }
    if names.iter().any(|n| n == "sweep.json") {
        return Ok(Holds::Pioneer { sweep: true });
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).ok();
    let ours = manifest
        .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
        .is_some_and(|m| m.get("pioneer").is_some());
    if ours {
        return Ok(Holds::Pioneer { sweep: false });
    }
    Ok(Holds::Other(names.into_iter().take(5).collect()))
}

/// Create folder `dir` (and its parents) for the output named by `flag`: a folder that cannot
/// be made is the flag's problem, said before any work.
pub fn create(dir: &Path, flag: &str) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        InputError::new(format!(
            "cannot create the folder {}: {e}; give a folder you can write",
            dir.display()
        ))
        .field(flag)
        .into()
    })
}

impl Staged {
    /// Begin replacing `target`, which must be new, empty, or a pioneer output (never anything
    /// else: a mistaken `--out ~` must not lose a file). Stale staging folders of an interrupted
    /// earlier run are removed.
    pub fn begin(target: &Path, flag: &str) -> Result<Staged> {
        if let Holds::Other(names) = holds(target, flag)? {
            return Err(InputError::new(format!(
                "{} holds files that are not a pioneer output ({}); give a new or empty folder",
                target.display(),
                names.join(", ")
            ))
            .field(flag)
            .into());
        }
        let (parent, prefix) = stage_prefix(target);
        create(&parent, flag)?;
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for e in entries.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let stage = parent.join(format!("{prefix}{}", std::process::id()));
        let mut registry = live();
        std::fs::create_dir(&stage).map_err(|e| {
            InputError::new(format!(
                "cannot write {} (a staging folder in {} failed: {e}); give a folder you can write",
                target.display(),
                parent.display()
            ))
            .field(flag)
        })?;
        registry.push(stage.clone());
        drop(registry);
        Ok(Staged {
            target: target.to_path_buf(),
            stage,
            done: false,
        })
    }

    /// Where to write the files.
    pub fn path(&self) -> &Path {
        &self.stage
    }

    /// Swap the staging folder in for the target (atomically where the file system can exchange
    /// two names, as Linux's local file systems do), then remove the old set.
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        let mut registry = live();
        registry.retain(|s| *s != self.stage);
        swap_in(&self.stage, &self.target)?;
        super::put_in_place();
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let mut registry = live();
            registry.retain(|s| *s != self.stage);
            let _ = std::fs::remove_dir_all(&self.stage);
        }
    }
}

/// Put folder `new` in place of `target`; what was at `target` is removed.
pub fn swap_in(new: &Path, target: &Path) -> Result<()> {
    let fail = |what: &str, e: std::io::Error| Error::io(format!("cannot {what} {}", target.display()), e);
    if std::fs::symlink_metadata(target).is_err() {
        return std::fs::rename(new, target).map_err(|e| fail("move the results into", e));
    }
    match exchange(new, target) {
        Ok(()) => {
            // `new` now holds the old set.
            std::fs::remove_dir_all(new).map_err(|e| fail("remove the previous results of", e))
        }
        Err(_) => {
            // No atomic exchange here: the old set goes aside first, so a kill in between leaves
            // it beside the target rather than mixed with the new files.
            let aside = new.with_extension("old");
            let _ = std::fs::remove_dir_all(&aside);
            std::fs::rename(target, &aside).map_err(|e| fail("move aside the previous results of", e))?;
            std::fs::rename(new, target).map_err(|e| fail("move the results into", e))?;
            std::fs::remove_dir_all(&aside).map_err(|e| fail("remove the previous results of", e))
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "no atomic exchange"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_stage_replaces_the_folder_and_an_abandoned_one_vanishes() {
        let root = std::env::temp_dir().join(format!("pioneer-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("out");
        for round in 0..3 {
            let s = Staged::begin(&dir, "--out").expect("begin");
            std::fs::write(s.path().join("manifest.json"), format!("{{\"pioneer\": \"{round}\"}}")).expect("write");
            std::fs::write(s.path().join("steps.csv"), format!("round {round}")).expect("write");
            s.commit().expect("commit");
            assert_eq!(
                std::fs::read_to_string(dir.join("steps.csv")).expect("read"),
                format!("round {round}")
            );
        }
        {
            let s = Staged::begin(&dir, "--out").expect("begin");
            std::fs::write(s.path().join("steps.csv"), "abandoned").expect("write");
        }
        assert_eq!(std::fs::read_to_string(dir.join("steps.csv")).expect("read"), "round 2");
        let left: Vec<_> = std::fs::read_dir(&root)
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out")], "no staging folder left");
        // A folder of someone else's files is never replaced.
        let other = root.join("home");
        std::fs::create_dir_all(&other).expect("mkdir");
        std::fs::write(other.join("thesis.tex"), "x").expect("write");
        let err = Staged::begin(&other, "--out").err().expect("refused");
        assert!(err.to_string().contains("thesis.tex"), "{err}");
        let _ = std::fs::remove_dir_all(&root);
    }
}
