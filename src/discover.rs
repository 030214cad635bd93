//! Discovery: the SQL files under the paths the user named.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// Folders never walked into: build output and installed packages.
const SKIPPED_DIRS: &[&str] = &["target", "dbt_packages", "node_modules"];

/// The files to check, and the paths that could not be walked.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Files in a stable order, each as reached from the given paths.
    pub files: Vec<PathBuf>,
    /// Walk problems (permission denied, a symlink loop …), as messages.
    pub problems: Vec<String>,
}

/// An error that stops the run: a named path that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("path not found: {0}")]
pub struct MissingPath(pub String);

fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    if entry.depth() == 0 || !entry.file_type().is_dir() {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())
}

fn is_sql(path: &Path) -> bool {
    path.extension()
        .map(|e| e.eq_ignore_ascii_case("sql"))
        .unwrap_or(false)
}

/// Walks `paths` for `*.sql` files. A file named directly is taken whatever
/// its extension. Symbolic links are followed; loops are reported, not walked.
pub fn discover(paths: &[PathBuf]) -> Result<Discovered, MissingPath> {
    let mut found = Discovered::default();
    for root in paths {
        if !root.exists() {
            return Err(MissingPath(root.display().to_string()));
        }
        if root.is_file() {
            found.files.push(root.clone());
            continue;
        }
        let walker = WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !is_skipped_dir(e));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() && is_sql(entry.path()) => {
                    found.files.push(clean(entry.path()));
                }
                Ok(_) => {}
                Err(e) => found.problems.push(e.to_string()),
            }
        }
    }
    // Overlapping paths (`models models/daily.sql`) name a file once.
    let mut seen = std::collections::HashSet::new();
    found
        .files
        .retain(|f| seen.insert(std::fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    Ok(found)
}

/// `./a/b.sql` is shown as `a/b.sql`.
fn clean(path: &Path) -> PathBuf {
    path.strip_prefix(".")
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}
