//! [`Failure`]: why an op, a sensor or a schedule failed, and whether trying again may help.

use std::any::Any;
use std::error::Error;
use std::fmt;

/// Why a step, a sensor or a schedule evaluation failed.
///
/// An op that returns `Err(e)` fails with `e.to_string()` and is **retryable** (as Dagster
/// retries any exception under a retry policy), unless `e` is a `Failure` made with
/// [`Failure::fatal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    message: String,
    retryable: bool,
}

impl Failure {
    /// A failure that a retry may fix (the default for errors an op returns).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that no retry can fix: the step fails at once, whatever its retry policy.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Turns any error an op returned into a failure, keeping a `Failure`'s own flag
    /// (also when it was boxed into a `Box<dyn Error>`).
    pub(crate) fn from_error<E: fmt::Display + 'static>(error: E) -> Self {
        let any: &dyn Any = &error;
        if let Some(failure) = any.downcast_ref::<Failure>() {
            return failure.clone();
        }
        let boxed = any
            .downcast_ref::<Box<dyn Error + Send + Sync>>()
            .map(|b| &**b as &(dyn Error + 'static))
            .or_else(|| any.downcast_ref::<Box<dyn Error>>().map(|b| &**b));
        if let Some(failure) = boxed.and_then(|b| b.downcast_ref::<Failure>()) {
            return failure.clone();
        }
        Self::retryable(error.to_string())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_retryable_unless_fatal() {
        assert!(Failure::from_error("disk full").is_retryable());
        assert!(!Failure::from_error(Failure::fatal("bad input")).is_retryable());
        let boxed: Box<dyn Error + Send + Sync> = Box::new(Failure::fatal("boxed"));
        let failure = Failure::from_error(boxed);
        assert_eq!(
            (failure.message(), failure.is_retryable()),
            ("boxed", false)
        );
    }
}
