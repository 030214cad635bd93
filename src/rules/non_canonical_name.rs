use super::{site_finding, Compared, Explanation};
use crate::extract::Site;
use crate::finding::Finding;
use crate::registry::Metric;
use crate::rules::rule;

rule! {
    /// ## What it does
    /// Notes a report that computes a registered metric correctly, but under a
    /// synonym instead of the metric's canonical name.
    ///
    /// ## Why is this bad?
    /// The computation is right, so the number is right; but a dashboard that
    /// shows `click_through_rate` next to another that shows `ctr` makes people
    /// wonder whether they differ, and a search for `ctr` misses this report.
    /// One name per metric keeps the catalogue searchable.
    ///
    /// When the computation also differs, the site is reported as a mismatch
    /// (ML001–ML005) instead, and this note is not repeated.
    ///
    /// ## Fix
    /// `check --fix` renames the alias to the registered name, and with it
    /// the reads of it in its own statement that surely mean it: `ORDER BY
    /// click_through_rate`, and an outer query's `c.click_through_rate` (or
    /// a bare `click_through_rate` where that CTE or derived table is all
    /// the query reads). It renames nothing where the file names the old
    /// name anywhere else (a `GROUP BY` that may mean a source column,
    /// another statement, a comment inside a line), or where another
    /// output already has the new name; nor where another file of the
    /// project names it, since that file may read the column; nor where
    /// a NATURAL JOIN or a BY NAME union matches the column by its name.
    ///
    /// ## Example
    /// ```sql
    /// SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS click_through_rate
    /// FROM fct_ad_events
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT SUM(clicks) / NULLIF(SUM(impressions), 0) AS ctr
    /// FROM fct_ad_events
    /// ```
    pub struct NonCanonicalName {
        code: "ML011",
        name: "non-canonical-name",
        severity: Info,
        summary: "A registered metric computed as agreed, under a synonym of its name",
    }
}

impl NonCanonicalName {
    pub fn finding(path: &str, site: &Site, metric: &Metric) -> Finding {
        let message = format!(
            "{} computes the registered metric {} under another name",
            site.output_name, metric.name
        );
        let compared = Compared {
            found: &site.computation,
            expected: &metric.definition,
        };
        let label = format!("name it {}", metric.name);
        let help = format!("name the column `{}`", metric.name);
        let says = Explanation {
            message,
            label,
            help,
        };
        let mut finding = site_finding(Self::INFO, path, site, metric, compared, says);
        // Renaming the alias is safe where nothing else in the file names it
        // but the reads of it this statement provably makes, renamed with it
        // (checked when the fix is applied).
        let alias = site.alias.as_ref().zip(site.alias_reads.as_ref());
        finding.fix = alias.map(|(alias, reads)| crate::fix::Fix {
            title: format!("rename `{}` to `{}`", site.output_name, metric.name),
            edits: std::iter::once(alias)
                .chain(reads)
                .map(|(range, written)| crate::fix::Edit {
                    range: *range,
                    old: written.clone(),
                    new: metric.name.clone(),
                })
                .collect(),
            renames: true,
            changes_the_figure: false,
        });
        finding
    }
}
