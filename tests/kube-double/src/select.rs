//! Label and field selectors of the test double of the Kubernetes API server (not a
//! Kubernetes), parsed and matched with the real server's syntax: labels `a=b`, `a==b`, `a!=b`,
//! `a in (x,y)`, `a notin (x)`, `a`, `!a`; fields `metadata.name=x`, `f==x`, `f!=x`, with the
//! field labels each type supports (others are refused with 400, as the real server does).

use std::collections::BTreeMap;

use crate::status::ApiError;
use crate::store::Kind;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq,
    NotEq,
    In,
    NotIn,
    Exists,
    NotExists,
}

#[derive(Debug, Clone)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelSelector(Vec<Requirement>);

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn valid_label_key(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && key.chars().all(|c| !c.is_whitespace())
}

fn valid_label_value(value: &str) -> bool {
    value.len() <= 63
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl LabelSelector {
    pub fn parse(selector: &str) -> Result<Self, ApiError> {
        let bad = |detail: &str| {
            ApiError::bad_request(format!(
                "unable to parse requirement: {detail} (selector {selector:?})"
            ))
        };
        let mut requirements = Vec::new();
        if selector.trim().is_empty() {
            return Ok(LabelSelector(requirements));
        }
        for part in split_top(selector) {
            let part = part.trim();
            if part.is_empty() {
                return Err(bad("found '', expected: identifier"));
            }
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: key.trim().to_string(),
                    op: Op::NotExists,
                    values: vec![],
                }
            } else if let Some((key, value)) = part.split_once("!=") {
                Requirement {
                    key: key.trim().to_string(),
                    op: Op::NotEq,
                    values: vec![value.trim().to_string()],
                }
            } else if let Some((key, value)) =
                part.split_once("==").or_else(|| part.split_once('='))
            {
                Requirement {
                    key: key.trim().to_string(),
                    op: Op::Eq,
                    values: vec![value.trim().to_string()],
                }
            } else if let Some((key, rest)) = part.split_once(' ') {
                let rest = rest.trim();
                let (op, list) = if let Some(list) = rest.strip_prefix("notin") {
                    (Op::NotIn, list)
                } else if let Some(list) = rest.strip_prefix("in") {
                    (Op::In, list)
                } else {
                    return Err(bad(&format!("unknown operator in {part:?}")));
                };
                let list = list.trim();
                let inner = list
                    .strip_prefix('(')
                    .and_then(|l| l.strip_suffix(')'))
                    .ok_or_else(|| bad(&format!("expected a parenthesised list in {part:?}")))?;
                Requirement {
                    key: key.trim().to_string(),
                    op,
                    values: inner
                        .split(',')
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                        .collect(),
                }
            } else {
                Requirement {
                    key: part.to_string(),
                    op: Op::Exists,
                    values: vec![],
                }
            };
            if !valid_label_key(&requirement.key) {
                return Err(bad(&format!("invalid label key {:?}", requirement.key)));
            }
            if let Some(v) = requirement.values.iter().find(|v| !valid_label_value(v)) {
                return Err(bad(&format!("invalid label value {v:?}")));
            }
            requirements.push(requirement);
        }
        Ok(LabelSelector(requirements))
    }

    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        self.0.iter().all(|r| {
            let value = labels.and_then(|l| l.get(&r.key));
            match r.op {
                Op::Eq | Op::In => value.is_some_and(|v| r.values.contains(v)),
                Op::NotEq | Op::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                Op::Exists => value.is_some(),
                Op::NotExists => value.is_none(),
            }
        })
    }
}

/// A parsed `fieldSelector`.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

/// The value of a field label of an object, or None when the type does not support it.
fn field_value<K: Kind>(obj: &K, label: &str) -> Option<String> {
    let meta = obj.metadata();
    match label {
        "metadata.name" => Some(meta.name.clone().unwrap_or_default()),
        "metadata.namespace" => Some(meta.namespace.clone().unwrap_or_default()),
        _ => obj.field(label),
    }
}

impl FieldSelector {
    pub fn parse<K: Kind>(selector: &str) -> Result<Self, ApiError> {
        let mut terms = Vec::new();
        if selector.trim().is_empty() {
            return Ok(FieldSelector(terms));
        }
        let probe = K::default();
        for part in selector.split(',') {
            let (label, eq, value) = if let Some((l, v)) = part.split_once("!=") {
                (l, false, v)
            } else if let Some((l, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (l, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            let label = label.trim();
            if field_value(&probe, label).is_none() {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {label}"
                )));
            }
            terms.push((label.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(terms))
    }

    pub fn matches<K: Kind>(&self, obj: &K) -> bool {
        self.0.iter().all(|(label, eq, value)| {
            let actual = field_value(obj, label).unwrap_or_default();
            (actual == *value) == *eq
        })
    }
}

/// What a list or watch asks for: a namespace (None for all) and the selectors.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn matches<K: Kind>(&self, obj: &K) -> bool {
        let meta = obj.metadata();
        self.namespace
            .as_ref()
            .is_none_or(|ns| meta.namespace.as_ref() == Some(ns))
            && self.labels.matches(meta.labels.as_ref())
            && self.fields.matches(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selectors_match_as_the_server_does() -> Result<(), ApiError> {
        let l = labels(&[("a", "b"), ("c", "d")]);
        assert!(LabelSelector::parse("a=b,c=d")?.matches(Some(&l)));
        assert!(LabelSelector::parse("a==b")?.matches(Some(&l)));
        assert!(!LabelSelector::parse("a=b,c=e")?.matches(Some(&l)));
        assert!(LabelSelector::parse("a!=x")?.matches(Some(&l)));
        assert!(LabelSelector::parse("a in (x, b)")?.matches(Some(&l)));
        assert!(!LabelSelector::parse("a notin (b)")?.matches(Some(&l)));
        assert!(LabelSelector::parse("a,!z")?.matches(Some(&l)));
        assert!(!LabelSelector::parse("z")?.matches(None));
        assert!(LabelSelector::parse("")?.matches(None));
        assert!(LabelSelector::parse("a=b c").is_err());
        Ok(())
    }
}
