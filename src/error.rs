//! Errors of the library: bad user input (exit code 2) versus failures of the machine.
//! Every input error names the file, and where known the line and the field, and what is allowed.

pub mod csv_input;

pub use csv_input::CsvInput;

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem with something the user gave us (a scenario, a world file, a flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file at fault, or `None` for a command-line flag.
    pub file: Option<PathBuf>,
    /// 1-based line in that file, when known.
    pub line: Option<usize>,
    /// The field (TOML key path, CSV column, or flag) at fault, when known.
    pub field: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl InputError {
    pub fn new(message: impl Into<String>) -> Self {
        InputError {
            file: None,
            line: None,
            field: None,
            message: message.into(),
        }
    }
    pub fn file(mut self, file: impl AsRef<Path>) -> Self {
        self.file = Some(file.as_ref().to_path_buf());
        self
    }
    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(p), Some(l)) => write!(f, "{}:{}: ", p.display(), l)?,
            (Some(p), None) => write!(f, "{}: ", p.display())?,
            (None, _) => {}
        }
        if let Some(field) = &self.field {
            write!(f, "field `{}`: ", field)?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for InputError {}

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: the binary exits with code 2.
    #[error("{0}")]
    Input(#[from] InputError),
    /// Reading or writing files failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A backend (GPU) failed for reasons that are not the user's input.
    #[error("{0}")]
    Backend(String),
    /// Stopped by a signal (Ctrl-C, SIGTERM) after leaving every finished piece of work on disk;
    /// the binary exits with 128 + the signal number.
    #[error("{message}")]
    Interrupted { signal: i32, message: String },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
    /// Exit code for the binary: 2 for bad input, 128 + the signal when interrupted, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Interrupted { signal, .. } => 128 + signal,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
