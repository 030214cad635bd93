use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Notes, once per run, a Jinja macro that templates call but that is
    /// defined nowhere metriclint looked: the file, the dbt project's macro
    /// paths, the packages installed under `dbt_packages/`.
    ///
    /// ## Why is this bad?
    /// metriclint renders templates offline. A macro it cannot see renders as
    /// a placeholder, so whatever the macro computes is not checked. Usually
    /// the package is not installed (`dbt deps`) or the macro lives outside
    /// the macro paths.
    ///
    /// ## Example
    /// ```sql
    /// select {{ dbt_utils.safe_divide('sum(clicks)', 'sum(impressions)') }} as ctr
    /// from {{ ref('fct_ad_events') }}
    /// ```
    ///
    /// Use instead: run `dbt deps` so that `dbt_packages/dbt_utils` exists.
    pub struct UnknownMacro {
        code: "ML902",
        name: "unknown-macro",
        severity: Info,
        summary: "A Jinja macro called but defined nowhere (noted once per run)",
    }
}

impl UnknownMacro {
    pub fn finding(path: &str, range: Range, name: &str) -> Finding {
        let info = Self::INFO;
        Finding {
            help: Some("install the package (`dbt deps`) or add the macro's folder to macro-paths".to_string()),
            label: Some("unknown macro".to_string()),
            ..Finding::of(&info, path, range, format!("macro `{name}` is defined nowhere in the project or its installed packages; what it computes is not checked"))
        }
    }
}
