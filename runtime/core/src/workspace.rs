//! A workspace: several code locations seen as one asset graph, so that an asset of one
//! location may depend on an asset of another (declared by key) and one materialization
//! may span both. Each asset belongs to exactly one location.

use std::collections::BTreeMap;

use crate::defs::{AssetKey, Definitions};

/// Why locations could not be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    #[error("asset {key} is defined by both location {first:?} and location {second:?}")]
    AssetTwice {
        key: AssetKey,
        first: String,
        second: String,
    },
    #[error("location name {0:?} is used twice in the workspace")]
    LocationTwice(String),
}

/// The assets (and their checks) of every location, and which location (by index) owns
/// each asset.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssetGraph {
    /// Every location's assets, in location order (for planning).
    pub definitions: Definitions,
    /// The index of the location that defines each asset.
    pub owners: BTreeMap<AssetKey, usize>,
}

/// Puts the assets of `locations` (name, definitions) into one graph.
pub fn asset_graph(locations: &[(&str, &Definitions)]) -> Result<AssetGraph, WorkspaceError> {
    let mut graph = AssetGraph::default();
    for (index, (name, defs)) in locations.iter().enumerate() {
        if locations[..index].iter().any(|(other, _)| other == name) {
            return Err(WorkspaceError::LocationTwice((*name).to_owned()));
        }
        for asset in &defs.assets {
            if let Some(&first) = graph.owners.get(&asset.key) {
                return Err(WorkspaceError::AssetTwice {
                    key: asset.key.clone(),
                    first: locations[first].0.to_owned(),
                    second: (*name).to_owned(),
                });
            }
            graph.owners.insert(asset.key.clone(), index);
            graph.definitions.assets.push(asset.clone());
        }
        // A check is its asset's location's (validation holds it to an asset of its own).
        graph
            .definitions
            .asset_checks
            .extend(defs.asset_checks.iter().cloned());
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{InputSource, plan_assets};
    use crate::selection::tests::asset;

    #[test]
    fn a_downstream_asset_in_another_location_is_planned_after_its_upstream() {
        let rust = Definitions {
            assets: vec![asset("total", &[])],
            ..Default::default()
        };
        let python = Definitions {
            assets: vec![asset("doubled", &["total"])],
            ..Default::default()
        };
        let graph = asset_graph(&[("rust", &rust), ("python", &python)]).unwrap();
        assert_eq!(graph.owners[&AssetKey::parse("doubled")], 1);
        let plan = plan_assets(&graph.definitions, &"+doubled".parse().unwrap()).unwrap();
        let keys: Vec<&str> = plan.steps.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["total", "doubled"]);
        assert_eq!(
            plan.steps[1].inputs[0].sources,
            [InputSource::Step {
                step: 0,
                output: "result".into()
            }]
        );
    }

    #[test]
    fn an_asset_defined_twice_is_named() {
        let a = Definitions {
            assets: vec![asset("total", &[])],
            ..Default::default()
        };
        let err = asset_graph(&[("a", &a), ("b", &a)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "asset total is defined by both location \"a\" and location \"b\""
        );
        assert!(matches!(
            asset_graph(&[("a", &a), ("a", &Definitions::default())]),
            Err(WorkspaceError::LocationTwice(_))
        ));
    }
}
