//! The tags Weft reads, and the Dagster tags it reads as them: a definition or run tagged
//! `dagster-k8s/config`, `dagster/max_retries` or `dagster/priority` means what
//! `weft/k8s`, `weft/max_retries` or `weft/priority` would (Weft's own wins where both are
//! set), so that Dagster code keeps its tags. Pure.

use crate::defs::Tags;

/// Shapes a run's or a step's pod (Dagster's `dagster-k8s/config`).
pub const K8S: &str = "weft/k8s";
/// How many times the daemon re-executes a failed run (Dagster's `dagster/max_retries`).
pub const MAX_RETRIES: &str = "weft/max_retries";
/// A queued run's priority, higher first (Dagster's `dagster/priority`).
pub const PRIORITY: &str = "weft/priority";
/// The executor of a job's runs, when not the instance's (Dagster's `executor_def`):
/// `in-process`, `multiprocess` or `k8s-job`.
pub const EXECUTOR: &str = "weft/executor";

/// Each Weft tag read from a definition or a run, with the Dagster tag that means the same.
pub const DAGSTER_ALIASES: &[(&str, &str)] = &[
    (K8S, "dagster-k8s/config"),
    (MAX_RETRIES, "dagster/max_retries"),
    (PRIORITY, "dagster/priority"),
];

/// The value of Weft tag `key` in `tags`, or else of its Dagster alias.
pub fn get<'t>(tags: &'t Tags, key: &str) -> Option<&'t String> {
    tags.get(key).or_else(|| {
        DAGSTER_ALIASES
            .iter()
            .find(|(weft, _)| *weft == key)
            .and_then(|(_, dagster)| tags.get(*dagster))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dagster_tag_reads_as_weft_s_own_which_wins() {
        let mut tags = Tags::new();
        tags.insert("dagster/max_retries".into(), "3".into());
        assert_eq!(get(&tags, MAX_RETRIES).map(String::as_str), Some("3"));
        tags.insert(MAX_RETRIES.into(), "1".into());
        assert_eq!(get(&tags, MAX_RETRIES).map(String::as_str), Some("1"));
        assert_eq!(get(&tags, K8S), None);
        assert_eq!(
            get(&tags, "dagster/max_retries").map(String::as_str),
            Some("3")
        );
    }
}
