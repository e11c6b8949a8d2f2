//! [`TrainError`]: what can go wrong on the host side (files, checkpoints,
//! numerical blow-ups). The no_std core's [`crate::Error`] is separate.

use std::fmt;
use std::path::PathBuf;

/// Errors of the host training stack.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainError {
    /// Reading or writing a file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A data file is malformed.
    Parse {
        /// The file.
        path: PathBuf,
        /// Where (line or record, 1-based; 0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A checkpoint does not match the model or optimizer it is loaded into.
    CheckpointMismatch {
        /// Names the model expects that the file lacks.
        missing: Vec<String>,
        /// Names in the file the model does not have.
        unexpected: Vec<String>,
        /// `(name, expected shape, shape in file)` for shape mismatches.
        wrong_shape: Vec<(String, Vec<usize>, Vec<usize>)>,
    },
    /// A checkpoint file is not valid safetensors, or holds a dtype other than f32.
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Drawing or writing a plot failed.
    Plot {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The loss became NaN or infinite.
    NonFiniteLoss {
        /// Epoch (0-based).
        epoch: usize,
        /// Optimizer step (0-based, counted over the whole run).
        step: usize,
        /// The value.
        value: f32,
    },
    /// A gradient became NaN or infinite.
    NonFiniteGradient {
        /// Epoch (0-based).
        epoch: usize,
        /// Optimizer step (0-based).
        step: usize,
        /// The parameter's name.
        parameter: String,
    },
    /// An argument is out of its domain (batch size 0, empty dataset, …).
    InvalidArgument(String),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            TrainError::Parse {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            TrainError::CheckpointMismatch {
                missing,
                unexpected,
                wrong_shape,
            } => {
                write!(f, "checkpoint does not match the model")?;
                if !missing.is_empty() {
                    write!(f, "; missing: {}", missing.join(", "))?;
                }
                if !unexpected.is_empty() {
                    write!(f, "; unexpected: {}", unexpected.join(", "))?;
                }
                for (n, e, g) in wrong_shape {
                    write!(f, "; {n}: expected shape {e:?}, file has {g:?}")?;
                }
                Ok(())
            }
            TrainError::Checkpoint { path, message } => write!(f, "{}: {message}", path.display()),
            TrainError::Plot { path, message } => write!(f, "{}: plot: {message}", path.display()),
            TrainError::NonFiniteLoss { epoch, step, value } => {
                write!(f, "loss is {value} at epoch {epoch}, step {step} (lower the learning rate or clip gradients)")
            }
            TrainError::NonFiniteGradient {
                epoch,
                step,
                parameter,
            } => {
                write!(f, "gradient of parameter `{parameter}` is not finite at epoch {epoch}, step {step}")
            }
            TrainError::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
        }
    }
}

impl std::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrainError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            source,
        }
    }
}
