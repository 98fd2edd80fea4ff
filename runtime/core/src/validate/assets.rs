//! The checks of a location's assets and asset checks: key parts and groups are names,
//! keys and check names are unique, an asset's inputs are not repeated, and every check
//! names an asset of the location.

use std::collections::BTreeSet;

use crate::defs::Definitions;
use crate::validate::{DefinitionError, check_name, find_cycle};

pub(super) fn validate_assets(defs: &Definitions) -> Result<(), DefinitionError> {
    let mut seen = BTreeSet::new();
    for asset in &defs.assets {
        for part in &asset.key.0 {
            check_name("asset key part", part)?;
        }
        check_name("group", &asset.group)?;
        if !seen.insert(&asset.key) {
            return Err(DefinitionError::Duplicate {
                kind: "asset",
                name: asset.key.to_string(),
            });
        }
        let mut inputs = BTreeSet::new();
        for dep in &asset.deps {
            if let Some(input) = &dep.input
                && !inputs.insert(input)
            {
                return Err(DefinitionError::DuplicateAssetInput {
                    asset: asset.key.clone(),
                    dep: dep.key.clone(),
                    input: input.clone(),
                });
            }
        }
    }
    let edges = defs
        .assets
        .iter()
        .map(|a| {
            (
                a.key.to_string(),
                a.deps.iter().map(|d| d.key.to_string()).collect(),
            )
        })
        .collect();
    find_cycle(edges).map_or(Ok(()), |through| {
        Err(DefinitionError::Cycle {
            kind: "asset graph",
            name: "assets".into(),
            through,
        })
    })
}

/// Each check names an asset of the location, once per name, and its input is a name.
/// The assets of each multi-asset agree on whether it can be subset, have distinct
/// outputs, and its name is a name no asset's key is (both are step keys).
pub(super) fn validate_multi_assets(defs: &Definitions) -> Result<(), DefinitionError> {
    let mut multis: std::collections::BTreeMap<&str, (bool, BTreeSet<&str>)> = Default::default();
    for asset in &defs.assets {
        let Some(multi) = &asset.multi else { continue };
        check_name("multi-asset", &multi.name)?;
        check_name("output", &multi.output)?;
        let bad = |message: String| DefinitionError::BadMultiAsset {
            name: multi.name.clone(),
            message,
        };
        if defs.assets.iter().any(|a| a.key.to_string() == multi.name) {
            return Err(bad("an asset has that key; name it otherwise".into()));
        }
        let (can_subset, outputs) = multis
            .entry(&multi.name)
            .or_insert((multi.can_subset, BTreeSet::new()));
        if *can_subset != multi.can_subset {
            return Err(bad("its assets disagree on can_subset".into()));
        }
        if !outputs.insert(&multi.output) {
            return Err(bad(format!(
                "two of its assets have the output {:?}",
                multi.output
            )));
        }
    }
    Ok(())
}

pub(super) fn validate_checks(defs: &Definitions) -> Result<(), DefinitionError> {
    let mut seen = BTreeSet::new();
    for check in &defs.asset_checks {
        check_name("asset check", &check.name)?;
        if let Some(input) = &check.input {
            check_name("input", input)?;
        }
        if defs.asset(&check.asset).is_none() {
            return Err(DefinitionError::UnknownCheckedAsset {
                check: check.name.clone(),
                asset: check.asset.clone(),
            });
        }
        if !seen.insert((&check.asset, &check.name)) {
            return Err(DefinitionError::DuplicateCheck {
                asset: check.asset.clone(),
                check: check.name.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::defs::{AssetCheckDef, AssetKey, Definitions};
    use crate::selection::tests::asset;
    use crate::validate::validate;

    #[test]
    fn a_check_names_an_asset_of_the_location_once() {
        let mut defs = Definitions {
            assets: vec![asset("orders", &[])],
            asset_checks: vec![AssetCheckDef {
                name: "no_nulls".into(),
                asset: AssetKey::parse("orders"),
                description: None,
                blocking: true,
                input: Some("orders".into()),
            }],
            ..Default::default()
        };
        assert_eq!(validate(&defs), Ok(()));
        defs.asset_checks.push(defs.asset_checks[0].clone());
        assert_eq!(
            validate(&defs).unwrap_err().to_string(),
            "asset orders has two checks named \"no_nulls\""
        );
        defs.asset_checks[1].asset = AssetKey::parse("refunds");
        assert_eq!(
            validate(&defs).unwrap_err().to_string(),
            "asset check \"no_nulls\" checks asset refunds, which the location does not define"
        );
    }

    #[test]
    fn a_multi_assets_assets_agree_and_its_name_is_no_assets_key() {
        use crate::defs::MultiAssetOut;
        let out = |key: &str, output: &str, can_subset| {
            let mut a = asset(key, &[]);
            a.multi = Some(MultiAssetOut {
                name: "split".into(),
                output: output.into(),
                can_subset,
            });
            a
        };
        let with = |assets| Definitions {
            assets,
            ..Default::default()
        };
        assert_eq!(
            validate(&with(vec![
                out("low", "low", true),
                out("high", "high", true)
            ])),
            Ok(())
        );
        let err = |assets| validate(&with(assets)).unwrap_err().to_string();
        assert_eq!(
            err(vec![out("low", "low", true), out("high", "high", false)]),
            "multi-asset \"split\": its assets disagree on can_subset"
        );
        assert_eq!(
            err(vec![out("low", "x", true), out("high", "x", true)]),
            "multi-asset \"split\": two of its assets have the output \"x\""
        );
        assert_eq!(
            err(vec![out("low", "low", true), asset("split", &[])]),
            "multi-asset \"split\": an asset has that key; name it otherwise"
        );
    }
}
