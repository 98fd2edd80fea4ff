//! Reading what a run reported: step outputs and event types, and definitions made
//! comparable across guest languages.

/// The `preview` of `step`'s output among `events` (JSON when it parses, else the text).
pub fn output_of(events: &[serde_json::Value], step: &str) -> serde_json::Value {
    events
        .iter()
        .find(|e| e["type"] == "STEP_OUTPUT" && e["step_key"] == step)
        .and_then(|e| e["preview"].as_str())
        .map(|p| serde_json::from_str(p).unwrap_or(serde_json::Value::String(p.to_owned())))
        .unwrap_or(serde_json::Value::Null)
}

/// Event types of `events` for `step` (or run-level events with `None`), in order.
pub fn types_of(events: &[serde_json::Value], step: Option<&str>) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["step_key"].as_str() == step)
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// `value` with every number a float: `1` and `1.0` are one number in JSON, whichever an
/// SDK's encoder writes.
pub fn numbers_as_floats(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(n), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Definitions (`weft check --json`'s `definitions`) with what may differ between guest
/// languages taken out: asset kinds, the languages' type names, the order of ops, hooks,
/// checks and assets, and the text of config schemas (compared as JSON, numbers as floats).
pub fn comparable_definitions(mut defs: serde_json::Value) -> serde_json::Value {
    for asset in defs["assets"].as_array_mut().into_iter().flatten() {
        asset.as_object_mut().map(|a| a.remove("kinds"));
        if let Some(text) = asset["config_schema"].as_str() {
            let schema = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
            asset["config_schema"] = numbers_as_floats(schema);
        }
    }
    for op in defs["ops"].as_array_mut().into_iter().flatten() {
        // A config schema compares as JSON: each SDK writes its own text.
        if let Some(text) = op["config_schema"].as_str() {
            op["config_schema"] = serde_json::from_str(text).unwrap_or(serde_json::Value::Null);
        }
        for list in ["inputs", "outputs"] {
            for io in op[list].as_array_mut().into_iter().flatten() {
                io.as_object_mut().map(|i| i.remove("type_name"));
            }
        }
    }
    // Ops, hooks and checks in name order, assets by key: each SDK may list them in its
    // own order.
    for part in ["ops", "hooks", "asset_checks"] {
        if let Some(list) = defs[part].as_array_mut() {
            list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        }
    }
    if let Some(assets) = defs["assets"].as_array_mut() {
        assets.sort_by_key(|a| a["key"].to_string());
    }
    defs
}
