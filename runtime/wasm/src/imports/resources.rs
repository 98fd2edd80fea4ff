//! The host side of the `resources` import: the resources the location is granted, by
//! name (`resources: {...}` under the location in weft.yaml), as JSON values.

use crate::bindings::{resources, types as t};
use crate::convert::value;
use crate::sandbox::CallState;

impl resources::Host for CallState {
    fn get(&mut self, name: String) -> Option<t::Value> {
        self.resources
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| value(v))
    }
}

impl t::Host for CallState {}
