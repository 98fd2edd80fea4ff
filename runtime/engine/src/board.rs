//! The executor's board: where each step of a run stands, what each waits on, what the
//! steps that ended produced, and the run's plan as it grows — a dynamic step that
//! succeeds adds a step per mapping key for every node mapped over it (Dagster's
//! `.map`), and the steps collecting them wait for those instead.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use weft_core::defs::Value;
use weft_core::plan::{ExecutionPlan, expand};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Waiting,
    Running,
    Succeeded,
    Failed,
    Skipped,
    /// A template (a node mapped over a dynamic output) once its keys are known: it never
    /// runs; the steps made of it do.
    Expanded,
}

pub(crate) struct Board {
    /// The plan, grown by expansions. Workers hold a clone of the `Arc` while a step runs;
    /// an expansion copies the plan only if one does.
    pub plan: Arc<ExecutionPlan>,
    /// For each step, the steps that wait on it.
    pub readers: Vec<Vec<usize>>,
    pub state: Vec<State>,
    pub waiting_on: Vec<usize>,
    pub ready: VecDeque<usize>,
    pub running: usize,
    pub outputs: Vec<HashMap<String, Value>>,
    pub failed: Vec<(String, String)>,
    pub skipped: Vec<String>,
    /// Steps stopped in flight by a cancel.
    pub interrupted: Vec<String>,
}

impl Board {
    pub fn new(plan: &ExecutionPlan) -> Self {
        let steps = &plan.steps;
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
        for (i, s) in steps.iter().enumerate() {
            for &u in &s.upstream {
                readers[u].push(i);
            }
        }
        Board {
            plan: Arc::new(plan.clone()),
            readers,
            state: vec![State::Waiting; steps.len()],
            waiting_on: steps.iter().map(|s| s.upstream.len()).collect(),
            ready: VecDeque::new(),
            running: 0,
            outputs: vec![HashMap::new(); steps.len()],
            failed: Vec::new(),
            skipped: Vec::new(),
            interrupted: Vec::new(),
        }
    }

    /// Step `done` no longer holds up its readers: those that now wait on nothing join
    /// `free`.
    pub fn count_down(&mut self, done: usize, free: &mut VecDeque<usize>) {
        for &r in &self.readers[done] {
            self.waiting_on[r] -= 1;
            if self.waiting_on[r] == 0 {
                free.push_back(r);
            }
        }
    }

    /// Dynamic step `dynamic` succeeded with `keys` and is about to release its readers:
    /// the templates mapped over it are expanded, and the new steps and the rewired
    /// collectors wait on what they read that has not ended (`dynamic` itself included,
    /// which releases them next). Returns the steps that wait on nothing at all.
    pub fn expand(
        &mut self,
        dynamic: usize,
        keys: &BTreeMap<String, Vec<String>>,
    ) -> VecDeque<usize> {
        let plan = Arc::make_mut(&mut self.plan);
        let expansion = expand(plan, dynamic, keys);
        let total = plan.steps.len();
        self.readers.resize(total, Vec::new());
        self.state.resize(total, State::Waiting);
        self.waiting_on.resize(total, 0);
        self.outputs.resize(total, HashMap::new());
        for (template, _) in &expansion.templates {
            self.state[*template] = State::Expanded;
        }
        let mut free = VecDeque::new();
        let changed: Vec<usize> = expansion
            .added()
            .chain(expansion.collectors.iter().copied())
            .collect();
        for n in changed {
            if self.state[n] != State::Waiting {
                continue;
            }
            let mut pending = 0;
            for &u in &plan.steps[n].upstream {
                if !self.readers[u].contains(&n) {
                    self.readers[u].push(n);
                }
                if u == dynamic || matches!(self.state[u], State::Waiting | State::Running) {
                    pending += 1;
                }
            }
            self.waiting_on[n] = pending;
            if pending == 0 {
                free.push_back(n);
            }
        }
        free
    }
}
