use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Reports a suppression comment (`-- noqa`, `-- noqa: ML001`,
    /// `-- metriclint: disable=…`, `-- metriclint: disable-file=…`) that
    /// silences no finding.
    ///
    /// ## Why is this bad?
    /// A suppression outlives the drift it excused: once the report is fixed,
    /// the comment would silently hide the next, unrelated drift on that line.
    /// Remove it.
    ///
    /// ## Fix
    /// `check --fix` removes the comment (its whole line where it is alone
    /// on it); a `disable` range's comment is left to a person.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr  -- noqa: ML001
    /// FROM fct_ad_events
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
    /// FROM fct_ad_events
    /// ```
    pub struct UnusedSuppression {
        code: "ML020",
        name: "unused-suppression",
        severity: Warning,
        summary: "A suppression comment that silences nothing",
    }
}

impl UnusedSuppression {
    /// `removal` is the text to delete to remove the comment (the whole
    /// line where the comment is alone on it) and where it is.
    pub fn finding(
        path: &str,
        range: Range,
        kind: &str,
        codes: &str,
        removals: Vec<(Range, String)>,
    ) -> Finding {
        let info = Self::INFO;
        let named = if codes.is_empty() {
            "every rule".to_string()
        } else {
            codes.to_string()
        };
        Finding {
            help: Some("remove the comment".to_string()),
            label: Some("unused".to_string()),
            fix: (!removals.is_empty()).then(|| crate::fix::Fix {
                title: "remove the unused suppression".to_string(),
                edits: removals
                    .into_iter()
                    .map(|(range, old)| crate::fix::Edit {
                        range,
                        old,
                        new: String::new(),
                    })
                    .collect(),
                renames: false,
                changes_the_figure: false,
            }),
            ..Finding::of(
                &info,
                path,
                range,
                format!("this {kind} suppression ({named}) silences no finding"),
            )
        }
    }
}
