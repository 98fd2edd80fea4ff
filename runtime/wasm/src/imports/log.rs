//! The host side of the `log` import: the guest's levelled, structured log lines, kept
//! with the call (a step's become `LOG` events), each message cut at 64 KiB.

use weft_core::events::LogLevel;
use weft_core::ports::LogLine;

use crate::bindings::log;
use crate::convert::tags;
use crate::sandbox::CallState;

/// Longest log message kept; the rest is cut (the WIT promises 64 KiB).
const MAX_LOG: usize = 64 << 10;

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, mut message: String, fields: Vec<(String, String)>) {
        if message.len() > MAX_LOG {
            let mut end = MAX_LOG;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warning => LogLevel::Warning,
            log::Level::Error => LogLevel::Error,
        };
        self.logs.push(LogLine {
            timestamp_ms: weft_core::now_ms(),
            level,
            message,
            fields: tags(fields),
        });
    }
}
