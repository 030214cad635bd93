//! Rounding before aggregation: `SUM(ROUND(x, 2))` rounds every row, then
//! adds the rounded values, where `ROUND(SUM(x), 2)` rounds the total once.
//!
//! The canonical form reads rounding as presentation (`ROUND(SUM(x), 2)` is
//! `SUM(x)`), which is right after the aggregate and wrong inside it: this
//! walk reads the statement as written.

use std::ops::ControlFlow;

use sqlparser::ast::{self, Expr as AstExpr, Query, SelectItem, Statement, Value, Visit, Visitor};

use super::functions::{meaning, Meaning};
use super::integer::plain_arguments;
use super::lower::function_name;
use crate::extract::selects_of;

/// An output that adds up (or averages) values rounded row by row.
#[derive(Debug)]
pub struct RoundedBeforeAggregation {
    /// The output's name, as written.
    pub output: String,
    /// The aggregate, as written (`SUM(ROUND(spend, 2))`).
    pub aggregate: AstExpr,
    /// The rounded value inside it (`ROUND(spend, 2)`).
    pub rounding: AstExpr,
    /// The columns rounded.
    pub columns: Vec<String>,
}

/// Every named output of `statement` (its queries, CTEs and subqueries)
/// that sums or averages a rounded value.
pub fn rounded_before_aggregation(statement: &Statement) -> Vec<RoundedBeforeAggregation> {
    struct Outputs(Vec<RoundedBeforeAggregation>);
    impl Visitor for Outputs {
        type Break = ();
        fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
            for select in selects_of(&query.body) {
                for item in &select.projection {
                    if let SelectItem::ExprWithAlias { expr, alias } = item {
                        self.0.extend(in_output(&alias.value, expr));
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut outputs = Outputs(Vec::new());
    let _ = statement.visit(&mut outputs);
    outputs.0
}

/// The aggregates of one output's expression over rounded values.
fn in_output(output: &str, expr: &AstExpr) -> Vec<RoundedBeforeAggregation> {
    let mut found = Vec::new();
    let _ = ast::visit_expressions(expr, |e| {
        if let AstExpr::Function(f) = e {
            let adds_up = f.over.is_none()
                && matches!(
                    meaning(&function_name(&f.name)),
                    Some(Meaning::Aggregate(
                        super::functions::AggFuncKind::Sum | super::functions::AggFuncKind::Avg
                    ))
                );
            let argument = plain_arguments(&f.args).and_then(|args| match args.as_slice() {
                [x] => Some(*x),
                _ => None,
            });
            if let Some(rounding) = argument.filter(|_| adds_up).and_then(rounded) {
                let mut columns = Vec::new();
                let _ = ast::visit_expressions(rounding, |c| {
                    if let AstExpr::Identifier(i) = c {
                        columns.push(i.value.to_lowercase());
                    } else if let AstExpr::CompoundIdentifier(parts) = c {
                        columns.extend(parts.last().map(|i| i.value.to_lowercase()));
                    }
                    ControlFlow::<()>::Continue(())
                });
                found.push(RoundedBeforeAggregation {
                    output: output.to_string(),
                    aggregate: e.clone(),
                    rounding: rounding.clone(),
                    columns,
                });
            }
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// The rounding call an aggregate's argument is, through numeric casts and
/// conversions and a `COALESCE(…, 0)`: `ROUND(x)`, `ROUND(x, 2)`,
/// `TRUNC(x, 2)` of a value (not of a date: `TRUNC(d, 'MONTH')`).
fn rounded(argument: &AstExpr) -> Option<&AstExpr> {
    match argument {
        AstExpr::Nested(inner) | AstExpr::Cast { expr: inner, .. } => rounded(inner),
        AstExpr::Function(f) => {
            let args = plain_arguments(&f.args)?;
            match (meaning(&function_name(&f.name)), args.as_slice()) {
                (Some(Meaning::Round), [x]) if !is_literal(x) => Some(argument),
                (Some(Meaning::Round), [x, digits])
                    if !is_literal(x)
                        && matches!(digits, AstExpr::Value(v) if matches!(v.value, Value::Number(..))) =>
                {
                    Some(argument)
                }
                (Some(Meaning::NumericConversion), [x, ..]) => rounded(x),
                (Some(Meaning::ZeroIfNull2), [x, zero]) if is_zero(zero) => rounded(x),
                (Some(Meaning::ZeroIfNull1), [x]) => rounded(x),
                _ => None,
            }
        }
        _ => None,
    }
}

fn is_literal(expr: &AstExpr) -> bool {
    matches!(expr, AstExpr::Value(_))
}

fn is_zero(expr: &AstExpr) -> bool {
    matches!(expr, AstExpr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.parse::<f64>() == Ok(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(sql: &str) -> Vec<(String, String)> {
        let dialect = sqlparser::dialect::GenericDialect {};
        let statements = sqlparser::parser::Parser::parse_sql(&dialect, sql).unwrap();
        rounded_before_aggregation(&statements[0])
            .into_iter()
            .map(|r| (r.output, r.rounding.to_string()))
            .collect()
    }

    #[test]
    fn rounding_inside_an_aggregate_is_found() {
        for (sql, output, rounding) in [
            ("select sum(round(spend, 2)) as spend from t", "spend", "round(spend, 2)"),
            ("select avg(round(price)) as price from t", "price", "round(price)"),
            (
                "select sum(round(cast(balance_usd as double), 2)) as value_usd from t",
                "value_usd",
                "round(CAST(balance_usd AS DOUBLE), 2)",
            ),
            (
                "select sum(coalesce(trunc(cost, 2), 0)) as cost from t",
                "cost",
                "trunc(cost, 2)",
            ),
            (
                "with d as (select day, sum(round(revenue, 2)) as revenue from t group by 1) select * from d",
                "revenue",
                "round(revenue, 2)",
            ),
        ] {
            assert_eq!(
                outputs(sql),
                [(output.to_string(), rounding.to_string())],
                "{sql}"
            );
        }
    }

    #[test]
    fn rounding_a_total_or_a_date_is_not() {
        for sql in [
            "select round(sum(spend), 2) as spend from t",
            "select sum(spend) as spend from t",
            "select count(distinct trunc(created_at, 'MONTH')) as months from t",
            "select sum(trunc(created_at, 'MONTH')) as x from t",
            "select max(round(spend, 2)) as spend from t",
            "select sum(round(spend, 2)) over (partition by day) as spend from t",
        ] {
            assert!(outputs(sql).is_empty(), "{sql}");
        }
    }
}
