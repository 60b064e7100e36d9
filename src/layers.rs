//! The crate's layers point down: `main.rs` and [`crate::cli`] turn the
//! command line into options, `ops::<command>` runs a command, and every
//! other module is a library those commands share. A helper two commands
//! need lives below both, so nothing under `src/` outside `ops/` and
//! `cli.rs` names `ops`, `cli` or the [`crate::Command`] they build, and no
//! command borrows from another.
//!
//! The tests read the source tree: an import is any `crate::…` path (in a
//! `use`, an expression or a macro's tokens), or `super::…` that climbs to
//! the crate root.

#[cfg(test)]
mod tests {
    use std::{
        collections::BTreeSet,
        path::{Path, PathBuf},
    };

    use proc_macro2::{Delimiter, TokenStream, TokenTree};

    /// Items of the crate root that belong to the command layer.
    const COMMAND_LAYER: [&str; 4] = ["ops", "cli", "Command", "run"];

    /// The paths from the crate root that `source`, the file of `module`
    /// (`["doctor", "project"]`), names.
    fn imports(source: &str, module: &[String]) -> BTreeSet<Vec<String>> {
        let tokens: TokenStream = source.parse().expect("the crate's sources tokenize");
        let mut found = BTreeSet::new();
        collect(tokens, module, &mut found);
        found
    }

    fn collect(tokens: TokenStream, module: &[String], found: &mut BTreeSet<Vec<String>>) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let ident = |at: usize| match tokens.get(at) {
            Some(TokenTree::Ident(ident)) => Some(ident.to_string()),
            _ => None,
        };
        let mut i = 0;
        while i < tokens.len() {
            match (&tokens[i], ident(i).as_deref()) {
                // An inline module (`mod tests { .. }`): `super` starts there.
                (_, Some("mod")) if matches!(tokens.get(i + 2), Some(TokenTree::Group(_))) => {
                    let (Some(name), Some(TokenTree::Group(body))) =
                        (ident(i + 1), tokens.get(i + 2))
                    else {
                        i += 1;
                        continue;
                    };
                    let inner: Vec<String> = module.iter().cloned().chain([name]).collect();
                    collect(body.stream(), &inner, found);
                    i += 3;
                    continue;
                }
                (_, Some("crate")) if path_sep(&tokens, i + 1) => {
                    read_path(&tokens[i + 3..], Vec::new(), found);
                    i += 3;
                    continue;
                }
                (_, Some("super")) => {
                    let mut base = module.to_vec();
                    let mut at = i;
                    while ident(at).as_deref() == Some("super") && path_sep(&tokens, at + 1) {
                        base.pop();
                        at += 3;
                    }
                    if at > i {
                        read_path(&tokens[at..], base, found);
                    }
                    i = at.max(i + 1);
                    continue;
                }
                (TokenTree::Group(group), _) => collect(group.stream(), module, found),
                _ => {}
            }
            i += 1;
        }
    }

    /// `::` at `at`.
    fn path_sep(tokens: &[TokenTree], at: usize) -> bool {
        let colon =
            |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
        colon(tokens.get(at)) && colon(tokens.get(at + 1))
    }

    /// The path that `tokens` start with, after `prefix`: `a::b`, or each
    /// path of a `{a, b::c}` group.
    fn read_path(tokens: &[TokenTree], prefix: Vec<String>, found: &mut BTreeSet<Vec<String>>) {
        match tokens.first() {
            Some(TokenTree::Ident(ident)) => {
                let mut path = prefix;
                path.push(ident.to_string());
                match path_sep(tokens, 1) {
                    true => read_path(&tokens[3..], path, found),
                    false => {
                        found.insert(path);
                    }
                }
            }
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                let items: Vec<TokenTree> = group.stream().into_iter().collect();
                for item in items.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                {
                    read_path(item, prefix.clone(), found);
                }
            }
            _ if !prefix.is_empty() => {
                found.insert(prefix);
            }
            _ => {}
        }
    }

    /// Every `.rs` file under `src/`, with its module path (`doctor/project`).
    fn sources() -> Vec<(Vec<String>, PathBuf)> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let relative = path.strip_prefix(&src).unwrap().with_extension("");
                    let mut module: Vec<String> = relative
                        .iter()
                        .map(|c| c.to_string_lossy().into_owned())
                        .collect();
                    if module.last().is_some_and(|m| m == "mod") {
                        module.pop();
                    }
                    files.push((module, path));
                }
            }
        }
        files
    }

    /// The module a file is (`lib.rs` and `main.rs`: the root).
    fn module_of(module: &[String]) -> &[String] {
        match module {
            [root] if root == "lib" || root == "main" => &[],
            _ => module,
        }
    }

    #[test]
    fn nothing_below_the_commands_imports_them() {
        let mut upward = Vec::new();
        for (module, path) in sources() {
            if ["ops", "cli", "lib", "main"].contains(&module[0].as_str()) {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for import in imports(&source, module_of(&module)) {
                if COMMAND_LAYER.contains(&import[0].as_str()) {
                    upward.push(format!(
                        "{}: crate::{}",
                        module.join("/"),
                        import.join("::")
                    ));
                }
            }
        }
        assert!(
            upward.is_empty(),
            "imports from the command layer:\n{upward:#?}"
        );
    }

    #[test]
    fn no_command_borrows_from_another() {
        let mut sideways = Vec::new();
        for (module, path) in sources() {
            let [ops, command, ..] = module.as_slice() else {
                continue;
            };
            if ops != "ops" {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for import in imports(&source, &module) {
                if let [first, other, ..] = import.as_slice()
                    && first == "ops"
                    && other != command
                {
                    sideways.push(format!(
                        "{}: crate::{}",
                        module.join("/"),
                        import.join("::")
                    ));
                }
            }
        }
        assert!(
            sideways.is_empty(),
            "commands that import another command:\n{sideways:#?}"
        );
    }

    #[test]
    fn imports_are_found_in_every_form() {
        let module = ["doctor".to_owned(), "project".to_owned()];
        let source = "use crate::{Shell, ops::init::{self, x}};\n\
                      fn f() { crate::cli::parse(); format!(\"{}\", crate::Command::A); }\n\
                      use super::super::detect;\n\
                      use super::sibling;\n\
                      mod tests { use super::super::Check; }";
        let found: Vec<String> = imports(source, &module)
            .into_iter()
            .map(|path| path.join("::"))
            .collect();
        assert_eq!(
            found,
            [
                "Command::A",
                "Shell",
                "cli::parse",
                "detect",
                "doctor::Check",
                "doctor::sibling",
                "ops::init::self",
                "ops::init::x",
            ]
        );
    }
}
