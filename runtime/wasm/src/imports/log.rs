//! The host side of the `log` import: the guest's levelled, structured log lines, kept
//! with the call (a step's become `LOG` events), within the call's budgets: a line longer
//! than its budget (message and fields together) is cut, with a `weft.cut` field saying by
//! how much; lines past the call's count or bytes are dropped and counted, and one last
//! line says what was dropped. What the host keeps stays bounded however much the guest
//! writes.

use weft_core::Tags;
use weft_core::events::LogLevel;
use weft_core::grants::Budgets;
use weft_core::ports::LogLine;

use crate::bindings::log;
use crate::sandbox::CallState;

/// The field that says a line was cut.
const CUT_FIELD: &str = "weft.cut";

/// The log lines of one call, within its budgets.
pub(crate) struct LogState {
    budgets: Budgets,
    lines: Vec<LogLine>,
    /// Bytes kept so far (messages, field names and values).
    bytes: usize,
    /// Bytes the guest handed over, kept or not.
    written: u64,
    dropped_lines: u64,
    dropped_bytes: u64,
}

impl LogState {
    pub(crate) fn new(budgets: Budgets) -> Self {
        LogState {
            budgets,
            lines: Vec::new(),
            bytes: 0,
            written: 0,
            dropped_lines: 0,
            dropped_bytes: 0,
        }
    }

    /// Keeps a line the host writes on the guest's behalf (a Kubernetes Job's end): never
    /// dropped, these are few.
    pub(crate) fn host_line(&mut self, level: LogLevel, message: String, fields: Tags) {
        self.bytes += line_bytes(&message, &fields);
        self.lines.push(LogLine {
            timestamp_ms: weft_core::now_ms(),
            level,
            message,
            fields,
        });
    }

    /// Bytes the guest wrote to its log, kept or not.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The call's lines, and a last one saying what was dropped if anything was.
    pub(crate) fn into_lines(mut self) -> Vec<LogLine> {
        if self.dropped_lines > 0 {
            let message = format!(
                "{} log lines ({} bytes) were dropped: over the step's log budget of {} lines \
                 and {} MiB (limits log_lines and log_mb)",
                self.dropped_lines,
                self.dropped_bytes,
                self.budgets.log_lines,
                self.budgets.log_bytes >> 20
            );
            let fields = Tags::from([
                ("weft.dropped_lines".into(), self.dropped_lines.to_string()),
                ("weft.dropped_bytes".into(), self.dropped_bytes.to_string()),
            ]);
            self.host_line(LogLevel::Warning, message, fields);
        }
        self.lines
    }

    fn write(&mut self, level: LogLevel, mut message: String, fields: Vec<(String, String)>) {
        let size: usize =
            message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        self.written += size as u64;
        if self.lines.len() >= self.budgets.log_lines || self.bytes >= self.budgets.log_bytes {
            self.dropped_lines += 1;
            self.dropped_bytes += size as u64;
            return;
        }
        let room = self
            .budgets
            .log_line_bytes
            .min(self.budgets.log_bytes - self.bytes);
        let mut kept = Tags::new();
        if size > room {
            truncate(&mut message, room);
            let mut left = room - message.len();
            for (name, mut value) in fields {
                if name.len() > left {
                    break;
                }
                left -= name.len();
                truncate(&mut value, left);
                left -= value.len();
                kept.insert(name, value);
            }
            let cut = size - line_bytes(&message, &kept);
            kept.insert(CUT_FIELD.into(), format!("{cut} bytes"));
        } else {
            kept.extend(fields);
        }
        self.host_line(level, message, kept);
    }
}

fn line_bytes(message: &str, fields: &Tags) -> usize {
    message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
}

/// Cuts `text` to at most `max` bytes, on a character boundary, and gives back what it no
/// longer needs (a cut line must not keep the guest's megabytes).
fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.shrink_to_fit();
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, message: String, fields: Vec<(String, String)>) {
        let level = match level {
            log::Level::Trace => LogLevel::Trace,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warning => LogLevel::Warning,
            log::Level::Error => LogLevel::Error,
        };
        self.log.write(level, message, fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets() -> Budgets {
        Budgets {
            log_line_bytes: 10,
            log_lines: 3,
            log_bytes: 25,
            ..Budgets::default()
        }
    }

    #[test]
    fn a_long_line_is_cut_and_says_so() {
        let mut log = LogState::new(budgets());
        log.write(
            LogLevel::Info,
            "hello".into(),
            vec![("k".into(), "a value far too long".into())],
        );
        let lines = log.into_lines();
        assert_eq!(lines[0].message, "hello");
        assert_eq!(lines[0].fields["k"], "a va");
        assert_eq!(lines[0].fields[CUT_FIELD], "16 bytes");
    }

    #[test]
    fn lines_past_the_budget_are_dropped_and_counted() {
        let mut log = LogState::new(budgets());
        for i in 0..1000 {
            log.write(LogLevel::Info, format!("line {i}"), Vec::new());
        }
        assert_eq!(log.written(), 6 * 10 + 7 * 90 + 8 * 900);
        let lines = log.into_lines();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2].message, "line 2");
        assert!(
            lines[3]
                .message
                .starts_with("997 log lines (7872 bytes) were dropped"),
            "{}",
            lines[3].message
        );
    }

    #[test]
    fn the_total_bounds_the_lines_kept() {
        let mut log = LogState::new(Budgets {
            log_lines: 100,
            ..budgets()
        });
        for _ in 0..10 {
            log.write(LogLevel::Info, "0123456789".into(), Vec::new());
        }
        let lines = log.into_lines();
        // 10 + 10 + 5 (cut to what is left of 25), then nothing.
        assert_eq!(lines[2].message, "01234");
        assert_eq!(lines.len(), 4, "{lines:?}");
    }
}
