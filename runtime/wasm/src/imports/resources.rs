//! The host side of the `resources` import: the resources the location is granted, by
//! name (`resources: {...}` under the location in weft.yaml), as JSON values.

use std::sync::Arc;

use weft_core::defs::Value;

use crate::bindings::{resources, types as t};
use crate::convert::value;
use crate::sandbox::CallState;

/// The resources a call may read: the location's, shared by all its calls.
pub(crate) struct ResourcesState(pub(crate) Arc<Vec<(String, Value)>>);

impl resources::Host for CallState {
    fn get(&mut self, name: String) -> Option<t::Value> {
        self.resources
            .0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| value(v))
    }
}

impl t::Host for CallState {}
