//! Paths as shown to users and written into generated code.

use std::path::{Component, Path, PathBuf};

/// `path` relative to `base` when it is inside it, else as it is.
pub fn display(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative.display().to_string(),
        _ => path.display().to_string(),
    }
}

/// The path from directory `from` to `to`, with `/` separators (as Rust's
/// `#[path]` and the compose CLI accept on every platform).
pub fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_owned(), from.len() - common);
    let downs = to[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

/// Every `.rs` file under `dir`, sorted; unreadable directories are skipped.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/p/src"), Path::new("/p/src/otel.rs")),
            "otel.rs"
        );
        assert_eq!(
            relative(Path::new("/p/src/bin"), Path::new("/p/src/otel.rs")),
            "../otel.rs"
        );
        assert_eq!(
            relative(Path::new("/p"), Path::new("/p/src/otel.rs")),
            "src/otel.rs"
        );
    }
}
