//! Asset selections (Dagster's `AssetSelection` and its `--select` strings).
//!
//! Syntax: comma-separated terms, whose union is selected. A term is `*` (every asset),
//! `group:NAME`, `key:a/b` or just `a/b`; `+` after a term adds everything downstream of
//! it, `+` before it everything upstream (`+summed_two_sums`, `summed_even_numbers+`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::defs::{AssetDef, AssetKey};

/// Why a selection could not be parsed or resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("empty asset selection")]
    Empty,
    #[error(
        "bad selection term {0:?}: expected `*`, `group:NAME`, `key:a/b` or `a/b`, optionally with + before or after"
    )]
    BadTerm(String),
    #[error("selection term {term:?} matches no asset (known: {known})")]
    NoMatch { term: String, known: String },
}

/// What a single term names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    All,
    Group(String),
    Key(AssetKey),
}

/// One term: a base with optional upstream/downstream expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub base: Base,
    pub upstream: bool,
    pub downstream: bool,
}

/// A parsed selection: the union of its terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetSelection {
    pub terms: Vec<Term>,
}

impl AssetSelection {
    /// Every asset of the given groups (Dagster's `AssetSelection.groups(...)`).
    pub fn groups<I: IntoIterator<Item = S>, S: Into<String>>(groups: I) -> Self {
        let terms = groups
            .into_iter()
            .map(|g| Term {
                base: Base::Group(g.into()),
                upstream: false,
                downstream: false,
            })
            .collect();
        AssetSelection { terms }
    }

    /// The keys this selection picks out of `assets`. A term that matches nothing is an
    /// error, so that a typo is not a silent empty run.
    pub fn resolve(&self, assets: &[AssetDef]) -> Result<BTreeSet<AssetKey>, SelectionError> {
        let mut downstream: BTreeMap<&AssetKey, Vec<&AssetKey>> = BTreeMap::new();
        let mut upstream: BTreeMap<&AssetKey, Vec<&AssetKey>> = BTreeMap::new();
        for a in assets {
            for d in &a.deps {
                downstream.entry(&d.key).or_default().push(&a.key);
                upstream.entry(&a.key).or_default().push(&d.key);
            }
        }
        let defined: BTreeSet<&AssetKey> = assets.iter().map(|a| &a.key).collect();
        let mut picked = BTreeSet::new();
        for term in &self.terms {
            let base: Vec<&AssetKey> = match &term.base {
                Base::All => assets.iter().map(|a| &a.key).collect(),
                Base::Group(g) => assets
                    .iter()
                    .filter(|a| &a.group == g)
                    .map(|a| &a.key)
                    .collect(),
                Base::Key(k) => assets
                    .iter()
                    .filter(|a| &a.key == k)
                    .map(|a| &a.key)
                    .collect(),
            };
            if base.is_empty() {
                let known = assets
                    .iter()
                    .map(|a| a.key.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(SelectionError::NoMatch {
                    term: term.to_string(),
                    known,
                });
            }
            picked.extend(base.iter().map(|k| (*k).clone()));
            let mut expand = |edges: &BTreeMap<&AssetKey, Vec<&AssetKey>>| {
                let mut seen: BTreeSet<&AssetKey> = base.iter().copied().collect();
                let mut todo: Vec<&AssetKey> = base.clone();
                while let Some(k) = todo.pop() {
                    for &next in edges.get(k).into_iter().flatten() {
                        // External (undefined) upstream assets are read, never selected.
                        if defined.contains(next) && seen.insert(next) {
                            picked.insert(next.clone());
                            todo.push(next);
                        }
                    }
                }
            };
            if term.downstream {
                expand(&downstream);
            }
            if term.upstream {
                expand(&upstream);
            }
        }
        Ok(picked)
    }
}

impl FromStr for AssetSelection {
    type Err = SelectionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let terms = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(parse_term)
            .collect::<Result<Vec<_>, _>>()?;
        if terms.is_empty() {
            return Err(SelectionError::Empty);
        }
        Ok(AssetSelection { terms })
    }
}

fn parse_term(raw: &str) -> Result<Term, SelectionError> {
    let bad = || SelectionError::BadTerm(raw.to_owned());
    let (upstream, rest) = raw.strip_prefix('+').map_or((false, raw), |r| (true, r));
    let (downstream, body) = rest.strip_suffix('+').map_or((false, rest), |r| (true, r));
    let body = body.trim();
    let base = if body == "*" {
        Base::All
    } else if let Some(group) = body.strip_prefix("group:") {
        if group.is_empty() {
            return Err(bad());
        }
        Base::Group(group.to_owned())
    } else {
        let key = body.strip_prefix("key:").unwrap_or(body);
        if key.is_empty()
            || key
                .split('/')
                .any(|p| p.is_empty() || p.contains([' ', '+', ':', '*']))
        {
            return Err(bad());
        }
        Base::Key(AssetKey::parse(key))
    };
    Ok(Term {
        base,
        upstream,
        downstream,
    })
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.upstream {
            f.write_str("+")?;
        }
        match &self.base {
            Base::All => f.write_str("*")?,
            Base::Group(g) => write!(f, "group:{g}")?,
            Base::Key(k) => write!(f, "{k}")?,
        }
        if self.downstream {
            f.write_str("+")?;
        }
        Ok(())
    }
}

impl fmt::Display for AssetSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms: Vec<String> = self.terms.iter().map(Term::to_string).collect();
        f.write_str(&terms.join(","))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::defs::AssetDep;

    /// An asset of group `numbers` whose inputs are its deps, by name.
    pub(crate) fn asset(name: &str, deps: &[&str]) -> AssetDef {
        AssetDef {
            key: AssetKey::parse(name),
            group: "numbers".into(),
            description: None,
            kinds: vec![],
            deps: deps
                .iter()
                .map(|d| AssetDep {
                    key: AssetKey::parse(d),
                    input: Some((*d).into()),
                })
                .collect(),
            config_schema: None,
            tags: Default::default(),
            retry_policy: None,
            multi: None,
            graph: None,
        }
    }

    /// The six `numbers` assets of the seed.
    pub(crate) fn numbers() -> Vec<AssetDef> {
        vec![
            asset("generated_numbers", &[]),
            asset("filtered_even_numbers", &["generated_numbers"]),
            asset("filtered_odd_numbers", &["generated_numbers"]),
            asset("summed_even_numbers", &["filtered_even_numbers"]),
            asset("summed_odd_numbers", &["filtered_odd_numbers"]),
            asset(
                "summed_two_sums",
                &["summed_even_numbers", "summed_odd_numbers"],
            ),
        ]
    }

    fn pick(sel: &str) -> Vec<String> {
        let sel: AssetSelection = sel.parse().unwrap();
        sel.resolve(&numbers())
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect()
    }

    #[test]
    fn groups_and_keys() {
        assert_eq!(pick("group:numbers").len(), 6);
        assert_eq!(pick("*").len(), 6);
        assert_eq!(pick("key:summed_two_sums"), ["summed_two_sums"]);
    }

    #[test]
    fn downstream_and_upstream() {
        assert_eq!(
            pick("summed_even_numbers+"),
            ["summed_even_numbers", "summed_two_sums"]
        );
        assert_eq!(
            pick("+summed_two_sums"),
            pick("group:numbers"),
            "everything is upstream of summed_two_sums"
        );
        assert_eq!(
            pick("+summed_odd_numbers, summed_even_numbers"),
            [
                "filtered_odd_numbers",
                "generated_numbers",
                "summed_even_numbers",
                "summed_odd_numbers"
            ]
        );
    }

    #[test]
    fn errors_name_the_term() {
        assert_eq!("".parse::<AssetSelection>(), Err(SelectionError::Empty));
        assert_eq!(
            "group:".parse::<AssetSelection>(),
            Err(SelectionError::BadTerm("group:".into()))
        );
        let sel: AssetSelection = "nope+".parse().unwrap();
        let err = sel.resolve(&numbers()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("selection term \"nope+\" matches no asset"),
            "{err}"
        );
    }
}
