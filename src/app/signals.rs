//! Ctrl-C and SIGTERM for the long commands (`run`, `sweep`, `calibrate`): the first asks the
//! command to stop at its next safe point; a second ends the process at once, staging removed.
//!
//! Only the binary's commands listen (the library's callers, a notebook's kernel among them, keep
//! their own handling): the first call of `Signals::listen` installs the handlers for the process.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// The signal that asked to stop (0: none yet).
static RAISED: AtomicI32 = AtomicI32::new(0);
static LISTENING: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// A command's view of the signals.
#[derive(Debug, Clone, Copy)]
pub struct Signals;

impl Signals {
    /// Listen for SIGINT and SIGTERM (once per process; later calls share the listener). The
    /// first signal is recorded for `raised`; a second removes this process's staging folders
    /// and exits with 128 + its number (130 for Ctrl-C, 143 for SIGTERM), as a shell expects.
    pub fn listen() -> Result<Signals> {
        let started = LISTENING.get_or_init(|| {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|e| e.to_string())?;
            std::thread::Builder::new()
                .name("pioneer-signals".into())
                .spawn(move || {
                    for sig in signals.forever() {
                        if RAISED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_err() {
                            // The second: nothing more is written; what is staged goes.
                            let _held = crate::output::folder::remove_live_stages();
                            std::process::exit(128 + sig);
                        }
                    }
                })
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
        match started {
            Ok(()) => Ok(Signals),
            Err(e) => Err(Error::io("cannot listen for signals", std::io::Error::other(e.clone()))),
        }
    }

    /// True once a signal asked to stop.
    pub fn raised(&self) -> bool {
        RAISED.load(Ordering::SeqCst) != 0
    }

    /// The signal that asked to stop (SIGINT when none has, for messages).
    pub fn signal(&self) -> i32 {
        match RAISED.load(Ordering::SeqCst) {
            0 => signal_hook::consts::SIGINT,
            s => s,
        }
    }

    /// The error a command stopped by a signal returns: exit code 128 + the signal.
    pub fn stopped(&self, message: impl Into<String>) -> Error {
        Error::Interrupted {
            signal: self.signal(),
            message: message.into(),
        }
    }

    /// `Err(stopped(message()))` if a signal asked to stop.
    pub fn check(&self, message: impl FnOnce() -> String) -> Result<()> {
        if self.raised() {
            Err(self.stopped(message()))
        } else {
            Ok(())
        }
    }
}
