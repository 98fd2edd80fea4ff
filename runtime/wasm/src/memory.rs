//! The memory budget of one store: every linear memory and table of every core instance
//! of the component counts against one limit (a component of several core modules cannot
//! take the limit once per module), and the peak is kept for the step's cost.

use wasmtime::ResourceLimiter;

/// What a table element costs against the budget: a pointer.
const TABLE_ELEMENT_BYTES: usize = 8;

/// The store's memory budget; remembers whether the guest went past it, and its peak.
pub(crate) struct MemoryBudget {
    limit: usize,
    /// Bytes of linear memory and table elements in use, over all of the store's.
    used: usize,
    peak: usize,
    /// The total the guest asked for when it went past the limit.
    pub(crate) exceeded: Option<usize>,
}

impl MemoryBudget {
    pub(crate) fn new(limit: usize) -> Self {
        MemoryBudget {
            limit,
            used: 0,
            peak: 0,
            exceeded: None,
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The most the store held at once.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// Takes `current → desired` bytes of one memory or table into the total, or refuses.
    fn grow(&mut self, current: usize, desired: usize) -> wasmtime::Result<bool> {
        let total = (self.used - current.min(self.used)).saturating_add(desired);
        if total > self.limit {
            self.exceeded = Some(total);
            wasmtime::bail!(
                "memory limit of {} MiB exceeded (the guest asked for {} MiB in all)",
                self.limit >> 20,
                total >> 20
            );
        }
        self.used = total;
        self.peak = self.peak.max(total);
        Ok(true)
    }
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(current, desired)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(
            current.saturating_mul(TABLE_ELEMENT_BYTES),
            desired.saturating_mul(TABLE_ELEMENT_BYTES),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        Component, InstanceSection, MemorySection, MemoryType, Module, ModuleArg, ModuleSection,
    };
    use wasmtime::component::Linker;
    use wasmtime::{Config, Engine, Store};

    /// A component of two core modules, each instantiated, each with a memory of
    /// `pages` 64-KiB pages.
    fn two_memories(pages: u64) -> Vec<u8> {
        let mut module = Module::new();
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: pages,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
        let mut component = Component::new();
        component.section(&ModuleSection(&module));
        component.section(&ModuleSection(&module));
        let mut instances = InstanceSection::new();
        instances.instantiate(0, Vec::<(&str, ModuleArg)>::new());
        instances.instantiate(1, Vec::<(&str, ModuleArg)>::new());
        component.section(&instances);
        component.finish()
    }

    /// Instantiates `bytes` under a budget of `limit_mb`.
    fn instantiate(bytes: &[u8], limit_mb: usize) -> Result<usize, String> {
        let engine = Engine::new(&Config::new()).unwrap();
        let component = wasmtime::component::Component::new(&engine, bytes).unwrap();
        let mut store = Store::new(&engine, MemoryBudget::new(limit_mb << 20));
        store.limiter(|budget| budget);
        let linker = Linker::new(&engine);
        match linker.instantiate(&mut store, &component) {
            Ok(_) => Ok(store.data().peak()),
            Err(e) => Err(format!("{e:#}")),
        }
    }

    #[test]
    fn a_component_of_several_modules_gets_the_limit_once() {
        // Two memories of 40 MiB each: 80 MiB in all.
        let bytes = two_memories(640);
        assert_eq!(instantiate(&bytes, 100), Ok(80 << 20));
        let refused = instantiate(&bytes, 64).unwrap_err();
        assert!(
            refused.contains("memory limit of 64 MiB exceeded (the guest asked for 80 MiB in all)"),
            "{refused}"
        );
    }

    #[test]
    fn every_memory_counts_against_one_limit() {
        let mut budget = MemoryBudget::new(100 << 20);
        // Two memories of 40 MiB each fit; a third does not, though each is under the limit.
        assert!(budget.memory_growing(0, 40 << 20, None).unwrap());
        assert!(budget.memory_growing(0, 40 << 20, None).unwrap());
        assert!(budget.memory_growing(0, 40 << 20, None).is_err());
        assert_eq!(budget.exceeded, Some(120 << 20));
        // Growing one of them counts only the difference.
        assert!(budget.memory_growing(40 << 20, 50 << 20, None).unwrap());
        assert_eq!(budget.peak(), 90 << 20);
        assert!(budget.table_growing(0, 1_000, None).unwrap());
        assert!(budget.table_growing(0, 10 << 20, None).is_err());
    }
}
