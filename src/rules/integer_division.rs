use crate::dialect::Dialect;
use crate::finding::Finding;
use crate::rules::rule;
use crate::source::Range;

rule! {
    /// ## What it does
    /// Finds a ratio of whole numbers that the dialect divides by truncating:
    /// in Postgres, Redshift, SQL Server and SQLite, an integer divided by an
    /// integer is an integer, so `COUNT(clicks) / COUNT(*)` is 0 whenever
    /// fewer than all rows were clicked. Whole numbers are counts, sums of
    /// whole numbers (`SUM(CASE WHEN clicked THEN 1 ELSE 0 END)`), integer
    /// literals, casts to an integer type, a column a CTE or subquery of the
    /// statement computes as one (`COUNT(*) AS n`), and the columns of a dbt model
    /// whose property file declares them an integer type (`data_type:
    /// integer`, `bigint`, …; no other model the statement reads declares
    /// another type, and no CTE of it recomputes the name) or that a metric
    /// of your registry with `unit: count` sums (`sessions: SUM(sessions)`;
    /// the built-in pack's measures name no column of yours); one side must
    /// aggregate. In
    /// DuckDB, `//` divides to a whole number whatever its operands are, and
    /// is reported where a side aggregates.
    ///
    /// BigQuery, Snowflake, MySQL, Databricks, ClickHouse and DuckDB's `/`
    /// divide integers exactly, and with the generic dialect metriclint does
    /// not know how the warehouse divides: nothing is reported there (set
    /// `dialect:` in the config). A column whose type nothing declares is no
    /// whole number for sure, so `SUM(clicks) / SUM(impressions)` over an
    /// undocumented table is not reported. Nor is a quotient the statement
    /// also takes the remainder of (`seconds / 60` beside `seconds % 60`,
    /// splitting a duration into hours, minutes and seconds): it is whole on
    /// purpose.
    ///
    /// ## Why is this bad?
    /// The ratio silently loses its fraction: a CTR or a fill rate of 0 for
    /// every row but the perfect ones, a percentage rounded down to a whole
    /// number, an average per day cut to whole units.
    ///
    /// ## Example
    /// ```sql
    /// -- dialect: postgres
    /// SELECT COUNT(clicked_at) / COUNT(*) AS ctr FROM ad_events
    /// ```
    ///
    /// Use instead:
    /// ```sql
    /// SELECT COUNT(clicked_at)::numeric / COUNT(*) AS ctr FROM ad_events
    /// ```
    pub struct IntegerDivision {
        code: "ML006",
        name: "integer-division",
        severity: Error,
        summary: "A ratio of whole numbers that the dialect divides by truncating",
    }
}

impl IntegerDivision {
    /// `division` is the division as written; `by_operator` says it is
    /// DuckDB's `//`.
    pub fn finding(
        path: &str,
        range: Range,
        division: &str,
        by_operator: bool,
        dialect: Dialect,
    ) -> Finding {
        let shown = crate::canon::elide_middle(division, 80);
        let (message, help) = if by_operator {
            (
                format!("`{shown}` divides with `//`, which drops the fraction: the ratio is a whole number"),
                "divide with `/` to keep the fraction".to_string(),
            )
        } else {
            (
                format!("`{shown}` divides a whole number by a whole number, which {dialect} truncates: 3 / 4 is 0"),
                "make one side a decimal: cast it (`::numeric`, `CAST(… AS DECIMAL)`) or multiply by `1.0`".to_string(),
            )
        };
        Finding {
            found: Some(division.to_string()),
            help: Some(help),
            label: Some("the fraction is lost here".to_string()),
            ..Finding::of(&Self::INFO, path, range, message)
        }
    }
}
