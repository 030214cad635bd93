//! Arbitrary `dbt_project.yml` text (and a macro file beside it): loading
//! the project, then rendering a model with it, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metriclint::dialect::Dialect;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line break splits the project file from a macro file.
    let (project, macros) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let file = dir.path().join("dbt_project.yml");
    let _ = std::fs::create_dir_all(dir.path().join("macros"));
    if std::fs::write(&file, project).is_err()
        || std::fs::write(dir.path().join("macros/m.sql"), macros).is_err()
    {
        return;
    }
    if let Some(project) = metriclint::dbt::Project::load(&file) {
        let _ = metriclint::template::render(
            "select {{ m() }} as x from {{ ref('a') }}",
            Dialect::Generic,
            Some(&project),
        );
    }
});
