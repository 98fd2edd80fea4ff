//! The queued run coordinator's rule (Dagster's `QueuedRunCoordinator`): which queued runs
//! may start now, given the runs under way, `max_concurrent_runs` and tag concurrency
//! limits (at most N runs at once with tag `key` (= `value`)). Higher `weft/priority` goes
//! first, then the oldest. Pure: the daemon reads the runs, this decides.

use serde::{Deserialize, Serialize};

use crate::run::RunRecord;

/// The tag whose integer value orders the queue (higher first; default 0).
pub use crate::tags::PRIORITY as PRIORITY_TAG;

/// A limit on the runs under way that carry a tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagLimit {
    pub key: String,
    /// Only runs whose tag has this value; every value when absent.
    #[serde(default)]
    pub value: Option<String>,
    pub limit: usize,
}

/// The coordinator's limits (`run_coordinator` in weft.yaml).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueLimits {
    /// At most this many runs under way at once; no limit when absent.
    #[serde(default)]
    pub max_concurrent_runs: Option<usize>,
    #[serde(default)]
    pub tag_concurrency_limits: Vec<TagLimit>,
}

impl TagLimit {
    fn applies(&self, run: &RunRecord) -> bool {
        match (run.tags.get(&self.key), &self.value) {
            (Some(v), Some(want)) => v == want,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

fn priority(run: &RunRecord) -> i64 {
    crate::tags::get(&run.tags, PRIORITY_TAG)
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(0)
}

/// The ids of the `queued` runs to start now, in the order to start them, so that with
/// `under_way` the limits still hold.
pub fn dequeue(queued: &[RunRecord], under_way: &[RunRecord], limits: &QueueLimits) -> Vec<String> {
    let mut order: Vec<&RunRecord> = queued.iter().collect();
    order.sort_by(|a, b| {
        priority(b)
            .cmp(&priority(a))
            .then(a.created_ms.cmp(&b.created_ms))
            .then(a.run_id.cmp(&b.run_id))
    });
    let mut running = under_way.len();
    let mut per_limit: Vec<usize> = limits
        .tag_concurrency_limits
        .iter()
        .map(|l| under_way.iter().filter(|r| l.applies(r)).count())
        .collect();
    let mut start = Vec::new();
    for run in order {
        if limits.max_concurrent_runs.is_some_and(|max| running >= max) {
            break;
        }
        let blocked = limits
            .tag_concurrency_limits
            .iter()
            .zip(&per_limit)
            .any(|(l, &n)| l.applies(run) && n >= l.limit);
        if blocked {
            continue;
        }
        for (l, n) in limits
            .tag_concurrency_limits
            .iter()
            .zip(per_limit.iter_mut())
        {
            if l.applies(run) {
                *n += 1;
            }
        }
        running += 1;
        start.push(run.run_id.clone());
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RunStatus;

    fn run(id: &str, created: i64, tags: &[(&str, &str)]) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            job: "j".into(),
            location: "l".into(),
            digest: "d".into(),
            status: RunStatus::Queued,
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            config: serde_json::json!({}),
            asset_selection: None,
            created_ms: created,
            started_ms: None,
            finished_ms: None,
            heartbeat_ms: None,
            progress_ms: None,
        }
    }

    #[test]
    fn the_oldest_start_first_up_to_the_limit() {
        let queued = [run("b", 2, &[]), run("a", 1, &[]), run("c", 3, &[])];
        let limits = QueueLimits {
            max_concurrent_runs: Some(2),
            ..QueueLimits::default()
        };
        assert_eq!(dequeue(&queued, &[], &limits), ["a", "b"]);
        assert_eq!(dequeue(&queued, &[run("x", 0, &[])], &limits), ["a"]);
        assert!(dequeue(&queued, &[run("x", 0, &[]), run("y", 0, &[])], &limits).is_empty());
        assert_eq!(dequeue(&queued, &[], &QueueLimits::default()).len(), 3);
    }

    #[test]
    fn tag_limits_hold_and_let_others_pass() {
        let numbers = [("domain", "numbers")];
        let queued = [
            run("n1", 1, &numbers),
            run("n2", 2, &numbers),
            run("o1", 3, &[("domain", "other")]),
            run("p", 4, &[]),
        ];
        let limits = QueueLimits {
            max_concurrent_runs: Some(10),
            tag_concurrency_limits: vec![TagLimit {
                key: "domain".into(),
                value: Some("numbers".into()),
                limit: 1,
            }],
        };
        assert_eq!(dequeue(&queued, &[], &limits), ["n1", "o1", "p"]);
        assert_eq!(
            dequeue(&queued, &[run("n0", 0, &numbers)], &limits),
            ["o1", "p"]
        );
        // A limit without a value counts every value of the key.
        let any_domain = QueueLimits {
            tag_concurrency_limits: vec![TagLimit {
                key: "domain".into(),
                value: None,
                limit: 2,
            }],
            ..QueueLimits::default()
        };
        assert_eq!(dequeue(&queued, &[], &any_domain), ["n1", "n2", "p"]);
    }

    #[test]
    fn priority_goes_first() {
        let queued = [
            run("old", 1, &[]),
            run("urgent", 5, &[(PRIORITY_TAG, "10")]),
            run("low", 0, &[(PRIORITY_TAG, "-1")]),
        ];
        let one = QueueLimits {
            max_concurrent_runs: Some(3),
            ..QueueLimits::default()
        };
        assert_eq!(dequeue(&queued, &[], &one), ["urgent", "old", "low"]);
    }
}
