//! [`Error`]: how the control plane fails, by kind, with a message for the person who
//! asked. The HTTP API turns it into a status in one place (`api.rs`); the `weft` binary
//! into an exit code.

/// What kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request or the instance's configuration is malformed or impossible.
    BadRequest,
    /// No such location, version, run, step, schedule or sensor.
    NotFound,
    /// The request conflicts with the current state (re-executing a run under way).
    Conflict,
    /// Well-formed but unusable: not a component, invalid definitions, run config that
    /// does not fit the job.
    Unprocessable,
    /// The database or another dependency is unavailable; try again.
    Unavailable,
    /// A fault of the instance itself.
    Internal,
}

/// A failed request or command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unprocessable, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Whether the one who asked is at fault (bad input), rather than the instance.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::BadRequest
                | ErrorKind::NotFound
                | ErrorKind::Conflict
                | ErrorKind::Unprocessable
        )
    }
}

impl From<weft_store::StoreError> for Error {
    /// A storage failure: unavailable when the database is, else the instance's fault.
    fn from(e: weft_store::StoreError) -> Self {
        let kind = match e.kind() {
            weft_store::ErrorKind::Unavailable => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        Error::new(kind, e.to_string())
    }
}

impl From<weft_core::ports::LoadError> for Error {
    /// A component that is not a usable code location is the uploader's problem; a cache
    /// or engine failure is the instance's.
    fn from(e: weft_core::ports::LoadError) -> Self {
        match e {
            weft_core::ports::LoadError::Host(m) => Error::internal(m),
            weft_core::ports::LoadError::Component(m) => Error::unprocessable(m),
        }
    }
}
