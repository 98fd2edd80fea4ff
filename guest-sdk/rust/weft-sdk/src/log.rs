//! Logging over the host's `log` import: `weft_sdk::log::info!("...")` anywhere, or
//! `ctx.log().info("...")` in an op. Lines become events of the run (or of the tick).
//! Outside WebAssembly (unit tests) lines go to stderr.

use crate::bindings::weft::plugin::log as host;

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal progress.
    Info,
    /// Something looks wrong.
    Warning,
    /// Something failed.
    Error,
}

/// Writes one log line with structured `fields`.
pub fn write(level: Level, message: &str, fields: &[(String, String)]) {
    #[cfg(target_arch = "wasm32")]
    {
        let level = match level {
            Level::Trace => host::Level::Trace,
            Level::Debug => host::Level::Debug,
            Level::Info => host::Level::Info,
            Level::Warning => host::Level::Warning,
            Level::Error => host::Level::Error,
        };
        host::log(level, message, fields);
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = host::Level::Info;
        eprintln!("[{level:?}] {message} {fields:?}");
    }
}

/// A handle to the log, as `ctx.log()` returns it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Logger;

impl Logger {
    /// Writes a `trace` line.
    pub fn trace(&self, message: impl AsRef<str>) {
        write(Level::Trace, message.as_ref(), &[]);
    }
    /// Writes a `debug` line.
    pub fn debug(&self, message: impl AsRef<str>) {
        write(Level::Debug, message.as_ref(), &[]);
    }
    /// Writes an `info` line.
    pub fn info(&self, message: impl AsRef<str>) {
        write(Level::Info, message.as_ref(), &[]);
    }
    /// Writes a `warning` line.
    pub fn warning(&self, message: impl AsRef<str>) {
        write(Level::Warning, message.as_ref(), &[]);
    }
    /// Writes an `error` line.
    pub fn error(&self, message: impl AsRef<str>) {
        write(Level::Error, message.as_ref(), &[]);
    }
    /// Writes a line with structured key/value fields.
    pub fn with_fields(&self, level: Level, message: impl AsRef<str>, fields: &[(String, String)]) {
        write(level, message.as_ref(), fields);
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __weft_log {
    ($level:ident, $($arg:tt)+) => {
        $crate::log::write($crate::log::Level::$level, &::std::format!($($arg)+), &[])
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __weft_log_trace { ($($arg:tt)+) => { $crate::__weft_log!(Trace, $($arg)+) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __weft_log_debug { ($($arg:tt)+) => { $crate::__weft_log!(Debug, $($arg)+) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __weft_log_info { ($($arg:tt)+) => { $crate::__weft_log!(Info, $($arg)+) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __weft_log_warning { ($($arg:tt)+) => { $crate::__weft_log!(Warning, $($arg)+) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __weft_log_error { ($($arg:tt)+) => { $crate::__weft_log!(Error, $($arg)+) }; }

pub use crate::__weft_log_debug as debug;
pub use crate::__weft_log_error as error;
pub use crate::__weft_log_info as info;
pub use crate::__weft_log_trace as trace;
pub use crate::__weft_log_warning as warning;
