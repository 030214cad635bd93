//! Dialect spellings of the operations the canonical form models, in one table.
//!
//! Adding a spelling is one line here. Names are matched lowercased, by the
//! last part of a qualified name (`dbt_utils.safe_divide` is `safe_divide`).

use super::AggFunc;

/// What a function means to the canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// An aggregate over its single argument.
    Aggregate(AggFuncKind),
    /// `COUNT(DISTINCT x)` spelled as one function.
    CountDistinct,
    /// An aggregate the canonical form keeps by name (stddev, median, …).
    OtherAggregate,
    /// `COUNTIF(p)`: `COUNT(*) FILTER (WHERE p)`.
    CountIf,
    /// `SUMIF(x, p)` / `AVGIF(x, p)`: the aggregate of `x` filtered by `p`.
    AggregateIf(AggFuncKind),
    /// `f(a, b)` is `a / b` up to what a zero denominator gives.
    Divide,
    /// `f(p, a, b)` is `CASE WHEN p THEN a ELSE b END`.
    IfThenElse,
    /// `f(x, 0)` around an aggregate is the aggregate (it only differs on empty groups).
    ZeroIfNull2,
    /// `f(x)` around an aggregate is the aggregate.
    ZeroIfNull1,
    /// `f(d)` is `NULLIF(d, 0)`: a zero guard.
    ZeroGuard,
    /// `f(x)` picks a value of `x` from the group: `x` itself.
    Pick,
    /// `f(x, digits)` rounds for display: `x`.
    Round,
    /// `f(x)` converts a number to a float or decimal type: `x` (as a
    /// numeric `CAST` is), also through a `toString(x)` first.
    NumericConversion,
}

/// The aggregates with their own canonical variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFuncKind {
    Sum,
    Count,
    Avg,
    Min,
    Max,
}

impl AggFuncKind {
    pub fn func(self) -> AggFunc {
        match self {
            AggFuncKind::Sum => AggFunc::Sum,
            AggFuncKind::Count => AggFunc::Count,
            AggFuncKind::Avg => AggFunc::Avg,
            AggFuncKind::Min => AggFunc::Min,
            AggFuncKind::Max => AggFunc::Max,
        }
    }
}

use AggFuncKind::*;
use Meaning::*;

/// (name, meaning, where it is spelled so).
pub const SPELLINGS: &[(&str, Meaning, &str)] = &[
    ("sum", Aggregate(Sum), "all"),
    ("count", Aggregate(Count), "all"),
    ("avg", Aggregate(Avg), "all"),
    ("mean", Aggregate(Avg), "DuckDB, Databricks"),
    ("min", Aggregate(Min), "all"),
    ("max", Aggregate(Max), "all"),
    ("uniqexact", CountDistinct, "ClickHouse"),
    ("countif", CountIf, "BigQuery, ClickHouse (countIf)"),
    ("count_if", CountIf, "Snowflake, DuckDB, Databricks"),
    ("sumif", AggregateIf(Sum), "ClickHouse (sumIf)"),
    ("avgif", AggregateIf(Avg), "ClickHouse (avgIf)"),
    ("minif", AggregateIf(Min), "ClickHouse (minIf)"),
    ("maxif", AggregateIf(Max), "ClickHouse (maxIf)"),
    ("safe_divide", Divide, "BigQuery"),
    ("ieee_divide", Divide, "BigQuery"),
    ("div0", Divide, "Snowflake"),
    ("div0null", Divide, "Snowflake"),
    ("try_divide", Divide, "Databricks"),
    ("divide", Divide, "ClickHouse"),
    ("if", IfThenElse, "BigQuery, MySQL, Databricks, ClickHouse"),
    ("iff", IfThenElse, "Snowflake"),
    ("iif", IfThenElse, "T-SQL"),
    ("coalesce", ZeroIfNull2, "all"),
    (
        "ifnull",
        ZeroIfNull2,
        "BigQuery, Snowflake, MySQL, DuckDB, Databricks",
    ),
    ("nvl", ZeroIfNull2, "Snowflake, Redshift, Databricks"),
    ("isnull", ZeroIfNull2, "T-SQL (two arguments)"),
    ("zeroifnull", ZeroIfNull1, "Snowflake"),
    ("nullifzero", ZeroGuard, "Snowflake"),
    ("any_value", Pick, "all"),
    ("arbitrary", Pick, "Trino, DuckDB"),
    ("round", Round, "all"),
    ("tofloat64", NumericConversion, "ClickHouse (toFloat64)"),
    ("tofloat32", NumericConversion, "ClickHouse (toFloat32)"),
    (
        "tofloat64ornull",
        NumericConversion,
        "ClickHouse (toFloat64OrNull)",
    ),
    (
        "tofloat64orzero",
        NumericConversion,
        "ClickHouse (toFloat64OrZero)",
    ),
    (
        "tofloat32ornull",
        NumericConversion,
        "ClickHouse (toFloat32OrNull)",
    ),
    ("todecimal32", NumericConversion, "ClickHouse (toDecimal32)"),
    ("todecimal64", NumericConversion, "ClickHouse (toDecimal64)"),
    (
        "todecimal128",
        NumericConversion,
        "ClickHouse (toDecimal128)",
    ),
    (
        "todecimal256",
        NumericConversion,
        "ClickHouse (toDecimal256)",
    ),
    ("to_double", NumericConversion, "Snowflake"),
    ("to_decimal", NumericConversion, "Snowflake"),
    ("to_number", NumericConversion, "Snowflake"),
    ("to_numeric", NumericConversion, "Snowflake"),
    ("trunc", Round, "Snowflake, Postgres, Oracle"),
    ("truncate", Round, "MySQL, Databricks"),
    (
        "approx_count_distinct",
        OtherAggregate,
        "BigQuery, Snowflake, Databricks",
    ),
    ("approx_distinct", OtherAggregate, "Trino"),
    ("approx_percentile", OtherAggregate, "Databricks"),
    ("approx_quantiles", OtherAggregate, "BigQuery"),
    ("array_agg", OtherAggregate, "all"),
    ("bool_and", OtherAggregate, "Postgres, DuckDB"),
    ("bool_or", OtherAggregate, "Postgres, DuckDB"),
    ("corr", OtherAggregate, "all"),
    ("covar_pop", OtherAggregate, "all"),
    ("covar_samp", OtherAggregate, "all"),
    ("listagg", OtherAggregate, "Snowflake, Redshift"),
    ("logical_and", OtherAggregate, "BigQuery"),
    ("logical_or", OtherAggregate, "BigQuery"),
    ("median", OtherAggregate, "Snowflake, DuckDB, Databricks"),
    ("mode", OtherAggregate, "Snowflake, DuckDB"),
    ("percentile_cont", OtherAggregate, "all"),
    ("percentile_disc", OtherAggregate, "all"),
    ("stddev", OtherAggregate, "all"),
    ("stddev_pop", OtherAggregate, "all"),
    ("stddev_samp", OtherAggregate, "all"),
    ("string_agg", OtherAggregate, "BigQuery, Postgres, DuckDB"),
    ("uniq", OtherAggregate, "ClickHouse (approximate)"),
    ("var_pop", OtherAggregate, "all"),
    ("var_samp", OtherAggregate, "all"),
    ("variance", OtherAggregate, "all"),
];

/// The meaning of a function name, if it has one beyond "some function".
pub fn meaning(name: &str) -> Option<Meaning> {
    SPELLINGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, m, _)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_is_listed_once() {
        for (i, (name, _, _)) in SPELLINGS.iter().enumerate() {
            assert_eq!(name.to_lowercase(), *name);
            assert!(
                SPELLINGS[i + 1..].iter().all(|(n, _, _)| n != name),
                "{name} twice"
            );
        }
    }
}
