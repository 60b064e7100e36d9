//! `#[cfg(..)]` as a plain `cargo build` sees it: the package's default
//! features, a debug build for the machine cargo-otel runs on, no `test`.

use std::collections::BTreeSet;

use syn::{Attribute, Meta, punctuated::Punctuated};

/// The configuration a plain `cargo build` compiles.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The features on by default, with what they turn on.
    pub features: BTreeSet<String>,
}

impl Config {
    /// The default features of a manifest's `[features]` table, expanded:
    /// `default = ["a"]` with `a = ["b", "dep:c"]` turns on `a` and `b`.
    pub fn from_manifest(manifest: &toml_edit::DocumentMut) -> Self {
        let table = manifest.get("features").and_then(|f| f.as_table_like());
        let list = |name: &str| -> Vec<String> {
            let Some(value) = table.and_then(|t| t.get(name)) else {
                return Vec::new();
            };
            value
                .as_array()
                .map(|array| {
                    array
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut features = BTreeSet::new();
        let mut pending = vec!["default".to_owned()];
        while let Some(feature) = pending.pop() {
            if !features.insert(feature.clone()) {
                continue;
            }
            for enabled in list(&feature) {
                // `dep:x` and `x/feature` enable a dependency, `x?/f` maybe
                // one: only plain names are features of this package.
                if !enabled.contains([':', '/']) {
                    pending.push(enabled);
                }
            }
        }
        features.remove("default");
        Self { features }
    }

    /// Whether every `#[cfg]` among `attrs` holds.
    pub fn active(&self, attrs: &[Attribute]) -> bool {
        self.first_inactive(attrs).is_none()
    }

    /// The first `#[cfg(..)]` of `attrs` that does not hold, as written.
    pub fn first_inactive(&self, attrs: &[Attribute]) -> Option<String> {
        attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .find(|attr| match &attr.meta {
                Meta::List(list) => list
                    .parse_args::<Meta>()
                    .is_ok_and(|predicate| !self.holds(&predicate)),
                _ => false,
            })
            .map(|attr| {
                tokens(attr)
                    .replace("# [", "#[")
                    .replace(" (", "(")
                    .replace("( ", "(")
                    .replace(" )", ")")
            })
    }

    fn holds(&self, predicate: &Meta) -> bool {
        match predicate {
            Meta::Path(path) => {
                let name = path.get_ident().map(ToString::to_string);
                match name.as_deref() {
                    Some("unix") => cfg!(unix),
                    Some("windows") => cfg!(windows),
                    Some("debug_assertions") => true,
                    // `test`, `docsrs`, `--cfg` flags: not set by a plain build.
                    _ => false,
                }
            }
            Meta::NameValue(pair) => {
                let key = pair.path.get_ident().map(ToString::to_string);
                let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(value),
                    ..
                }) = &pair.value
                else {
                    return false;
                };
                let value = value.value();
                match key.as_deref() {
                    Some("feature") => self.features.contains(&value),
                    Some("target_os") => value == std::env::consts::OS,
                    Some("target_family") => value == std::env::consts::FAMILY,
                    Some("target_arch") => value == std::env::consts::ARCH,
                    Some("target_pointer_width") => value == (usize::BITS).to_string().as_str(),
                    Some("panic") => value == "unwind",
                    _ => false,
                }
            }
            Meta::List(list) => {
                let args =
                    list.parse_args_with(Punctuated::<Meta, syn::Token![,]>::parse_terminated);
                let Ok(args) = args else {
                    return false;
                };
                let name = list.path.get_ident().map(ToString::to_string);
                match name.as_deref() {
                    Some("not") => args.len() == 1 && !self.holds(&args[0]),
                    Some("all") => args.iter().all(|a| self.holds(a)),
                    Some("any") => args.iter().any(|a| self.holds(a)),
                    _ => false,
                }
            }
        }
    }
}

/// `#[test]`, `#[tokio::test]` and the like, or `#[cfg(test)]`: code that
/// never runs as part of the program.
pub fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let path = attr.path();
        path.segments.last().is_some_and(|s| s.ident == "test")
            || (path.is_ident("cfg") && tokens(attr).replace(' ', "") == "#[cfg(test)]")
    })
}

fn tokens(tokens: &impl quote::ToTokens) -> String {
    tokens.to_token_stream().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(manifest: &str) -> Config {
        Config::from_manifest(&manifest.parse().unwrap())
    }

    fn attrs(source: &str) -> Vec<Attribute> {
        let item: syn::ItemFn = syn::parse_str(&format!("{source} fn f() {{}}")).unwrap();
        item.attrs
    }

    #[test]
    fn default_features_are_expanded() {
        let config = config(
            "[features]\ndefault = [\"json\"]\njson = [\"color\", \"dep:serde\", \"log/std\"]\ncolor = []\nextra = []\n",
        );
        let names: Vec<&str> = config.features.iter().map(String::as_str).collect();
        assert_eq!(names, ["color", "json"]);
    }

    #[test]
    fn predicates() {
        let config = config("[features]\ndefault = [\"a\"]\na = []\n");
        for (source, holds) in [
            ("#[cfg(feature = \"a\")]", true),
            ("#[cfg(feature = \"b\")]", false),
            ("#[cfg(not(feature = \"b\"))]", true),
            ("#[cfg(all(feature = \"a\", not(test)))]", true),
            ("#[cfg(any(test, feature = \"b\"))]", false),
            ("#[cfg(debug_assertions)]", true),
            ("#[cfg(tokio_unstable)]", false),
            ("#[inline]", true),
        ] {
            assert_eq!(config.active(&attrs(source)), holds, "{source}");
        }
        assert_eq!(
            config
                .first_inactive(&attrs("#[cfg(feature = \"b\")]"))
                .as_deref(),
            Some("#[cfg(feature = \"b\")]")
        );
        assert!(is_test_only(&attrs("#[cfg(test)]")));
        assert!(is_test_only(&attrs("#[tokio::test]")));
        assert!(!is_test_only(&attrs("#[cfg(not(test))]")));
    }
}
