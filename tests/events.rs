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

/// Definitions (`weft check --json`'s `definitions`) with what may differ between guest
/// languages taken out: asset kinds, the languages' type names, the order of ops, and the
/// text of config schemas (compared as JSON).
pub fn comparable_definitions(mut defs: serde_json::Value) -> serde_json::Value {
    for asset in defs["assets"].as_array_mut().into_iter().flatten() {
        asset.as_object_mut().map(|a| a.remove("kinds"));
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
    // Ops and hooks in name order: each SDK may list them in its own order.
    for part in ["ops", "hooks"] {
        if let Some(list) = defs[part].as_array_mut() {
            list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        }
    }
    defs
}
