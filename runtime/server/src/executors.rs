//! The executors a run's steps may run with: the instance's own (weft.yaml's `executor`)
//! and the ones a job asks for by its `weft/executor` tag (Dagster's `executor_def`:
//! `in_process_executor`, `multiprocess_executor`, `k8s_job_executor`), each as this
//! instance can give it. A run that asks for one the instance cannot give fails at its
//! start, saying why.

use std::collections::BTreeMap;
use std::sync::Arc;

use weft_core::defs::Tags;
use weft_core::ports::StepRunner;
use weft_engine::executor::ExecutorKind;

/// How a run's steps are executed: the executor's shape, and what runs each step attempt
/// when not the run's own threads.
#[derive(Clone)]
pub struct Executor {
    /// As weft.yaml's `executor` names it.
    pub name: String,
    pub kind: ExecutorKind,
    pub steps: Option<Arc<dyn StepRunner>>,
}

/// The instance's executor, and the others by name (or why the instance cannot give one).
pub struct Executors {
    pub default: Executor,
    pub named: BTreeMap<&'static str, Result<Executor, String>>,
}

impl Executors {
    /// Only the instance's executor (a job's tag naming another fails its run).
    pub fn only(default: Executor) -> Self {
        Executors {
            default,
            named: BTreeMap::new(),
        }
    }

    /// The executor of a run with `tags`.
    pub fn for_run(&self, tags: &Tags) -> Result<&Executor, String> {
        let Some(name) = weft_core::tags::get(tags, weft_core::tags::EXECUTOR) else {
            return Ok(&self.default);
        };
        match self.named.get(name.as_str()) {
            Some(Ok(executor)) => Ok(executor),
            Some(Err(why)) => Err(format!(
                "the run asks for the {name} executor (its weft/executor tag), which this \
                 instance cannot give: {why}"
            )),
            None => Err(format!(
                "the run's weft/executor tag names {name:?}, not an executor (in-process, \
                 multiprocess, k8s-job)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executor(name: &str) -> Executor {
        Executor {
            name: name.into(),
            kind: ExecutorKind::InProcess,
            steps: None,
        }
    }

    #[test]
    fn a_run_gets_its_jobs_executor_or_fails_saying_why() {
        let mut all = Executors::only(executor("queue"));
        all.named.insert("in-process", Ok(executor("in-process")));
        all.named
            .insert("k8s-job", Err("it does not start pods".into()));
        let tags = |value: &str| Tags::from([(weft_core::tags::EXECUTOR.into(), value.into())]);
        let name = |tags: &Tags| all.for_run(tags).map(|e| e.name.clone());
        assert_eq!(name(&Tags::new()), Ok("queue".into()));
        assert_eq!(name(&tags("in-process")), Ok("in-process".into()));
        let refused = name(&tags("k8s-job")).unwrap_err();
        assert!(
            refused.contains("cannot give: it does not start pods"),
            "{refused}"
        );
        let unknown = name(&tags("celery")).unwrap_err();
        assert!(unknown.contains("\"celery\", not an executor"), "{unknown}");
    }
}
