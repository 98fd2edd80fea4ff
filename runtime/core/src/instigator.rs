//! Schedules and sensors as the daemon keeps them (Dagster's instigators): whether each is
//! on, with its cursor, and the record of each evaluation (a tick).

use serde::{Deserialize, Serialize};

/// Schedule or sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstigatorKind {
    Schedule,
    Sensor,
}

/// Whether a schedule or sensor is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstigatorStatus {
    Running,
    Stopped,
}

/// How one tick ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TickStatus {
    /// Runs were requested.
    Success,
    /// Nothing to run, with a reason.
    Skipped,
    /// The guest failed (or its schedule could not be read).
    Failure,
}

/// The names as stored and shown (`SCHEDULE`, `RUNNING`, `SUCCESS`, ...), and back.
macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($name => Some($ty::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

names!(InstigatorKind { Schedule => "SCHEDULE", Sensor => "SENSOR" });
names!(InstigatorStatus { Running => "RUNNING", Stopped => "STOPPED" });
names!(TickStatus { Success => "SUCCESS", Skipped => "SKIPPED", Failure => "FAILURE" });

/// A schedule's or sensor's stored state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstigatorState {
    /// The code location defining it.
    pub location: String,
    /// The schedule's or sensor's name.
    pub name: String,
    pub kind: InstigatorKind,
    pub status: InstigatorStatus,
    /// A sensor's cursor, as its last evaluation returned it.
    pub cursor: Option<String>,
    /// Schedules: the newest scheduled time handled, or when it was turned on; sensors: the
    /// last evaluation.
    pub last_tick_ms: Option<i64>,
    /// When it was last turned on or off.
    pub updated_ms: i64,
}

/// One evaluation of a schedule or sensor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickRecord {
    /// The code location defining the schedule or sensor.
    pub location: String,
    /// The schedule's or sensor's name.
    pub name: String,
    pub kind: InstigatorKind,
    /// When it was evaluated.
    pub timestamp_ms: i64,
    /// Schedules: the time the tick was for.
    pub scheduled_ms: Option<i64>,
    pub status: TickStatus,
    /// The runs it launched.
    pub run_ids: Vec<String>,
    pub skip_reason: Option<String>,
    pub error: Option<String>,
    /// A sensor's cursor after the tick.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in [
            TickStatus::Success,
            TickStatus::Skipped,
            TickStatus::Failure,
        ] {
            assert_eq!(TickStatus::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(
            InstigatorKind::parse("SENSOR"),
            Some(InstigatorKind::Sensor)
        );
        assert_eq!(InstigatorStatus::parse("running"), None);
    }
}
