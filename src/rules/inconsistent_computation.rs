use crate::canon::Expr;
use crate::finding::{Finding, Related};
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Flags an output name with no registry entry that is computed in two or
    /// more non-equivalent ways across the checked reports. Only names whose
    /// expression aggregates (directly or through the columns it reads) are
    /// metric sites; dimensions, ids, dates and pass-through columns never are.
    /// Names are compared case-insensitively after stripping qualifier words
    /// (`daily_`, `_pct`, `_by_campaign`, …). The reports of a dbt project
    /// are compared with each other only, never with another project's.
    ///
    /// If one variant is used by more than half of the sites, only the other
    /// sites are flagged, each pointing at a majority site; otherwise every
    /// site is flagged, each pointing at a site of another variant. The
    /// report's own slice (its WHERE conditions) is not part of the comparison;
    /// conditions inside the aggregates are.
    ///
    /// ## Why is this bad?
    /// Without a registry nobody has agreed what "active users" means yet, but
    /// when five reports count distinct users and one counts rows, the sixth is
    /// almost certainly wrong, and when two teams split evenly they are about
    /// to present two numbers under one name. Either fix the drift, or record
    /// the agreement in a registry (`metriclint init` writes a first one).
    ///
    /// ## Example
    /// ```sql
    /// -- five reports:
    /// SELECT COUNT(DISTINCT user_id) AS active_users FROM events
    /// -- this one:
    /// SELECT COUNT(user_id) AS active_users FROM events
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT COUNT(DISTINCT user_id) AS active_users FROM events
    /// ```
    pub struct InconsistentComputation {
        code: "ML010",
        name: "inconsistent-computation",
        severity: Warning,
    }
}

/// A site of the variant this one is compared with.
pub struct OtherVariant<'a> {
    pub path: &'a str,
    pub range: Range,
    pub form: &'a Expr,
    /// How many reports (files) compute it that way.
    pub reports: usize,
    pub majority: bool,
}

/// "1 other report", "3 other reports"; with none, the same report's other
/// statement or branch.
pub fn reports_phrase(reports: usize) -> String {
    match reports {
        0 => "another part of this report".to_string(),
        1 => "1 other report".to_string(),
        n => format!("{n} other reports"),
    }
}

impl InconsistentComputation {
    pub fn finding(
        path: &str,
        range: Range,
        name: &str,
        form: &Expr,
        other: OtherVariant<'_>,
        differences: &[String],
    ) -> Finding {
        let info = Self::INFO;
        let where_else = reports_phrase(other.reports);
        let message = format!(
            "{name} is computed as {form:.100} here, but as {:.100} in {where_else}: {}",
            other.form,
            differences.join("; ")
        );
        let help = if other.majority {
            format!("most reports compute {name} as {:.100}; align this one, or register the agreed definition", other.form)
        } else {
            format!("the reports split on {name}; agree on one definition and record it in a registry (`metriclint init` writes one)")
        };
        Finding {
            code: info.code,
            rule: info.name,
            severity: info.severity,
            path: path.to_string(),
            range,
            metric: Some(name.to_string()),
            message,
            found: Some(form.to_string()),
            expected: None,
            related: vec![Related {
                path: other.path.to_string(),
                line: other.range.start.line,
                column: other.range.start.column,
                message: format!("computed as {:.100} here", other.form),
            }],
            help: Some(help),
            label: Some(format!("computed as {form:.100}")),
        }
    }
}
