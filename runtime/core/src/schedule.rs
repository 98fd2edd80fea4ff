//! Schedules in time: a cron expression read in its timezone ([`CronSchedule`], over the
//! `croner` crate, with `chrono-tz` for zones), which ticks are due between the last one
//! the daemon handled and now ([`due_ticks`], under a [`CatchUp`] policy), and the run key a
//! tick's run carries, so that a tick fires once however often the daemon restarts.
//!
//! Times are integer milliseconds since the Unix epoch, as everywhere in Weft; nothing here
//! reads a clock.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::{Deserialize, Serialize};

/// Why a schedule's cron or timezone cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("cron expression {cron:?} is not valid: {message}")]
    Cron { cron: String, message: String },
    #[error("timezone {0:?} is not a known IANA zone (e.g. \"UTC\", \"Europe/Paris\")")]
    Timezone(String),
}

/// A cron expression in a timezone (UTC when none is given).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    tz: Tz,
}

impl CronSchedule {
    /// Parses `cron` (five fields, POSIX/Vixie) in `timezone`.
    pub fn parse(cron: &str, timezone: Option<&str>) -> Result<Self, ScheduleError> {
        let parsed = Cron::from_str(cron).map_err(|e| ScheduleError::Cron {
            cron: cron.to_owned(),
            message: e.to_string(),
        })?;
        let tz = match timezone {
            None | Some("") => Tz::UTC,
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| ScheduleError::Timezone(name.to_owned()))?,
        };
        Ok(CronSchedule { cron: parsed, tz })
    }

    /// The first scheduled time strictly after `after_ms`, if the expression ever matches.
    /// Scheduled times are whole minutes, so the search starts from the second `after_ms`
    /// falls in.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let second = after_ms.div_euclid(1000) * 1000;
        let start: DateTime<Tz> = self.tz.from_utc_datetime(&to_utc(second)?.naive_utc());
        self.cron
            .find_next_occurrence(&start, false)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    /// Scheduled times in `(after_ms, until_ms]`, oldest first, at most `max`.
    pub fn ticks_between(&self, after_ms: i64, until_ms: i64, max: usize) -> Vec<i64> {
        let mut ticks = Vec::new();
        let mut cursor = after_ms;
        while ticks.len() < max {
            match self.next_after(cursor) {
                Some(t) if t <= until_ms => {
                    ticks.push(t);
                    cursor = t;
                }
                _ => break,
            }
        }
        ticks
    }
}

fn to_utc(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// What the daemon does with ticks it missed (it was down, or the schedule was just turned
/// on long after its last tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "policy")]
pub enum CatchUp {
    /// Only the latest missed tick runs (Dagster's default).
    #[default]
    Latest,
    /// Every missed tick runs, oldest first, at most `max` of them.
    All { max: usize },
}

/// The ticks due now: those scheduled in `(last_ms, now_ms]`, under `policy`. `last_ms` is
/// the latest tick already handled, or the time the schedule was turned on.
pub fn due_ticks(schedule: &CronSchedule, last_ms: i64, now_ms: i64, policy: CatchUp) -> Vec<i64> {
    match policy {
        CatchUp::All { max } => schedule.ticks_between(last_ms, now_ms, max.max(1)),
        CatchUp::Latest => {
            // Walk to the newest tick without keeping the ones before it; bounded so that an
            // every-minute schedule off for years still answers at once.
            let mut newest = None;
            let mut cursor = last_ms;
            for _ in 0..100_000 {
                match schedule.next_after(cursor) {
                    Some(t) if t <= now_ms => {
                        newest = Some(t);
                        cursor = t;
                    }
                    _ => break,
                }
            }
            newest.into_iter().collect()
        }
    }
}

/// The run key of a schedule's tick: the schedule and its scheduled time. The store keeps
/// run keys unique per schedule, so a tick fires once.
pub fn tick_run_key(scheduled_ms: i64) -> String {
    match to_utc(scheduled_ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => scheduled_ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-29 00:00 UTC (the night Europe/Paris moves to summer time at 01:00 UTC).
    const MARCH_29: i64 = 1_774_742_400_000;
    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;

    #[test]
    fn ticks_follow_the_cron_in_utc() {
        let every_15 = CronSchedule::parse("*/15 * * * *", None).unwrap();
        assert_eq!(every_15.next_after(MARCH_29), Some(MARCH_29 + 15 * MINUTE));
        assert_eq!(
            every_15.next_after(MARCH_29 + 1_234),
            Some(MARCH_29 + 15 * MINUTE),
            "milliseconds past a second do not leak into the tick"
        );
        assert_eq!(
            every_15.ticks_between(MARCH_29, MARCH_29 + HOUR, 10),
            [15, 30, 45, 60].map(|m| MARCH_29 + m * MINUTE)
        );
        assert_eq!(
            every_15.ticks_between(MARCH_29, MARCH_29 + HOUR, 2).len(),
            2
        );
    }

    #[test]
    fn ticks_are_read_in_the_schedule_timezone() {
        // 09:00 in Paris is 08:00 UTC in winter, 07:00 UTC in summer.
        let nine = CronSchedule::parse("0 9 * * *", Some("Europe/Paris")).unwrap();
        let day_before = MARCH_29 - 24 * HOUR;
        assert_eq!(nine.next_after(day_before), Some(day_before + 8 * HOUR));
        assert_eq!(nine.next_after(MARCH_29), Some(MARCH_29 + 7 * HOUR));
    }

    #[test]
    fn bad_crons_and_zones_are_named() {
        let e = CronSchedule::parse("61 * * * *", None).unwrap_err();
        assert!(e.to_string().contains("\"61 * * * *\""), "{e}");
        let e = CronSchedule::parse("* * * * *", Some("Mars/Olympus")).unwrap_err();
        assert_eq!(e, ScheduleError::Timezone("Mars/Olympus".into()));
    }

    #[test]
    fn catch_up_takes_the_latest_or_all_missed_ticks() {
        let hourly = CronSchedule::parse("0 * * * *", None).unwrap();
        let now = MARCH_29 + 5 * HOUR + 30 * MINUTE;
        assert_eq!(
            due_ticks(&hourly, MARCH_29, now, CatchUp::Latest),
            [MARCH_29 + 5 * HOUR]
        );
        assert_eq!(
            due_ticks(&hourly, MARCH_29, now, CatchUp::All { max: 3 }),
            [1, 2, 3].map(|h| MARCH_29 + h * HOUR)
        );
        // Nothing due between two ticks.
        assert!(due_ticks(&hourly, MARCH_29 + 5 * HOUR, now, CatchUp::Latest).is_empty());
    }

    #[test]
    fn run_keys_name_the_scheduled_time() {
        assert_eq!(tick_run_key(MARCH_29 + 90 * MINUTE), "2026-03-29T01:30:00Z");
    }
}
