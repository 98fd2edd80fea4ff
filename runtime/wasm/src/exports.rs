//! The location's exported interfaces, found once per component, loaded one at a time. A
//! call loads only the interface it uses: loading type-checks every function of the
//! interfaces it loads, and `definitions.get`'s type alone (every job, op, asset, sensor
//! and schedule) would cost each step its check.

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use crate::bindings::exports::weft::plugin::{checks, definitions, hooks, ops, schedules, sensors};
use crate::sandbox::CallState;

/// Where each interface's functions are in the component.
pub(crate) struct Exports {
    definitions: definitions::GuestIndices,
    ops: ops::GuestIndices,
    sensors: sensors::GuestIndices,
    schedules: schedules::GuestIndices,
    hooks: hooks::GuestIndices,
    checks: checks::GuestIndices,
}

impl Exports {
    /// Finds the interfaces of the component `pre` instantiates.
    pub(crate) fn new(pre: &InstancePre<CallState>) -> wasmtime::Result<Self> {
        Ok(Exports {
            definitions: definitions::GuestIndices::new(pre)?,
            ops: ops::GuestIndices::new(pre)?,
            sensors: sensors::GuestIndices::new(pre)?,
            schedules: schedules::GuestIndices::new(pre)?,
            hooks: hooks::GuestIndices::new(pre)?,
            checks: checks::GuestIndices::new(pre)?,
        })
    }
}

/// A fresh instance of the location, whose interfaces a call loads as it needs them.
pub(crate) struct Exported<'a> {
    pub(crate) instance: Instance,
    pub(crate) exports: &'a Exports,
}

impl Exported<'_> {
    pub(crate) fn definitions(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<definitions::Guest> {
        self.exports.definitions.load(store, &self.instance)
    }

    pub(crate) fn ops(&self, store: &mut Store<CallState>) -> wasmtime::Result<ops::Guest> {
        self.exports.ops.load(store, &self.instance)
    }

    pub(crate) fn sensors(&self, store: &mut Store<CallState>) -> wasmtime::Result<sensors::Guest> {
        self.exports.sensors.load(store, &self.instance)
    }

    pub(crate) fn schedules(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<schedules::Guest> {
        self.exports.schedules.load(store, &self.instance)
    }

    pub(crate) fn hooks(&self, store: &mut Store<CallState>) -> wasmtime::Result<hooks::Guest> {
        self.exports.hooks.load(store, &self.instance)
    }

    pub(crate) fn checks(&self, store: &mut Store<CallState>) -> wasmtime::Result<checks::Guest> {
        self.exports.checks.load(store, &self.instance)
    }
}
