//! Discovery: the SQL and LookML files under the paths the user named.

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

/// An error that stops the run: a path the user named that cannot be
/// checked (never silently skipped).
#[derive(Debug, thiserror::Error)]
pub enum MissingPath {
    #[error("path not found: {0}")]
    NotFound(String),
    /// A FIFO, a device, a socket: no SQL file or folder.
    #[error("cannot check {0}: it is {1}, not a file or a folder")]
    NotAFileOrFolder(String, &'static str),
    #[error("cannot read {0}: {1}")]
    Unreadable(String, String),
}

/// What kind of special file `meta` is, in words.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "a special file"
}

/// Whether the walk skips a folder: hidden ones, build output, installed
/// packages.
pub fn is_skipped_dir(entry: &walkdir::DirEntry) -> bool {
    if entry.depth() == 0 || !entry.file_type().is_dir() {
        return false;
    }
    let name = entry.file_name().to_string_lossy();
    name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref())
}

/// Whether the walk takes a file: SQL, or LookML (`*.lkml`), whose
/// measures are reports' metrics too.
fn is_report(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("sql") || e.eq_ignore_ascii_case("lkml"))
}

/// Walks `paths` for `*.sql` and `*.lkml` files. A file named directly is taken whatever
/// its extension. Symbolic links are followed; loops are reported, not walked.
pub fn discover(paths: &[PathBuf]) -> Result<Discovered, MissingPath> {
    let mut found = Discovered::default();
    for root in paths {
        let shown = || root.display().to_string();
        let meta = std::fs::metadata(root).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => MissingPath::NotFound(shown()),
            _ => MissingPath::Unreadable(shown(), e.to_string()),
        })?;
        if meta.is_file() {
            found.files.push(root.clone());
            continue;
        }
        if !meta.is_dir() {
            return Err(MissingPath::NotAFileOrFolder(shown(), kind_of(&meta)));
        }
        if let Err(e) = std::fs::read_dir(root) {
            return Err(MissingPath::Unreadable(shown(), e.to_string()));
        }
        let walker = WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !is_skipped_dir(e));
        for entry in walker {
            match entry {
                Ok(entry) if entry.file_type().is_file() && is_report(entry.path()) => {
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
