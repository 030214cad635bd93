use crate::extract::Site;
use crate::finding::{Finding, Related};
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Flags a report column named after a registered metric (or one of its
    /// synonyms) whose formula differs from the registered definition.
    ///
    /// ## Why is this bad?
    /// Two reports that show "CTR" must mean the same thing. When one divides
    /// clicks by `COUNT(*)` and the other by `SUM(impressions)`, the numbers
    /// disagree and nobody can tell which one is right. The registry records
    /// what the team agreed; a formula that differs from it is drift.
    ///
    /// Equivalent spellings are not flagged: identifier case and quoting, table
    /// qualifiers, operand order, parentheses, numeric casts, `1.0` vs `1`,
    /// `COUNT(*)` vs `COUNT(1)`, and zero guards such as `NULLIF(d, 0)`,
    /// `SAFE_DIVIDE` and `DIV0`. A site metriclint cannot compare for sure is
    /// not flagged either.
    ///
    /// ## Example
    /// ```sql
    /// SELECT campaign_id, SUM(clicks) / COUNT(*) AS ctr
    /// FROM fct_ad_events GROUP BY campaign_id
    /// ```
    ///
    /// Use instead (with `ctr: SUM(clicks) / NULLIF(SUM(impressions), 0)` agreed):
    /// ```sql
    /// SELECT campaign_id, SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
    /// FROM fct_ad_events GROUP BY campaign_id
    /// ```
    pub struct DefinitionMismatch {
        code: "ML001",
        name: "definition-mismatch",
        severity: Error,
    }
}

impl DefinitionMismatch {
    pub fn finding(path: &str, site: &Site, metric: &Metric, differences: &[String]) -> Finding {
        let info = Self::INFO;
        let shown = if site.output_name.eq_ignore_ascii_case(&metric.name) {
            metric.name.clone()
        } else {
            format!("{} (registered as {})", site.output_name, metric.name)
        };
        let message = format!(
            "{shown} is computed as {}, but the registry defines it as {}: {}",
            site.computation,
            metric.definition,
            differences.join("; ")
        );
        let mut help = format!("agreed at {}: `{}`", metric.origin, metric.body_text.trim());
        if let Some(description) = &metric.description {
            help.push_str(&format!("\n{}: {}", metric.name, description.trim()));
        }
        Finding {
            code: info.code,
            rule: info.name,
            severity: info.severity,
            path: path.to_string(),
            range: site.range,
            metric: Some(metric.name.clone()),
            message,
            found: Some(site.computation.to_string()),
            expected: Some(metric.definition.to_string()),
            related: vec![Related {
                path: metric.origin.path.clone(),
                line: metric.origin.line,
                column: metric.origin.column,
                message: "agreed definition".to_string(),
            }],
            help: Some(help),
        }
    }
}
