//! Whole numbers in the SQL as written: which divisions a dialect that
//! divides integers by truncating (Postgres, Redshift, SQL Server, SQLite)
//! computes as whole numbers, `3 / 4` being `0`.
//!
//! This reads the AST, not the canonical form: the canonical form treats a
//! numeric cast as the value itself, and so cannot tell `COUNT(x) / COUNT(*)`
//! from `COUNT(x)::numeric / COUNT(*)`, which is exactly the difference here.
//! Only what is a whole number for sure counts (counts, sums of whole
//! numbers, integer literals and casts, and columns whose model's property
//! file declares an integer `data_type`); a column of unknown type is not.

use std::ops::ControlFlow;

use sqlparser::ast::Visit;

use sqlparser::ast::{
    self, BinaryOperator, Expr as AstExpr, FunctionArg, FunctionArgExpr, FunctionArguments,
    Statement,
};

use super::lower::function_name;
use crate::dialect::Dialect;

/// A division that loses its fraction: `a / b` of two whole numbers in a
/// truncating dialect, or DuckDB's `//`, where a side aggregates (a metric's
/// ratio, not row arithmetic such as `seconds / 60`).
pub struct WholeNumberDivision {
    /// The whole division.
    pub division: AstExpr,
    /// `//`: a division to whole numbers by its operator alone.
    pub by_operator: bool,
}

/// A whole number's width, where it matters: Postgres sums a `bigint` (a
/// count, say) into a `numeric`, which divides exactly, and an `integer`
/// into a `bigint`, which does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Whole {
    Int,
    BigInt,
}

/// A column's declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Whole(Whole),
    Other,
}

/// What is declared of columns' types.
pub struct Declared<'a> {
    /// A model's column's type, where a property file declares one:
    /// `(model, column)`.
    pub by_model: &'a dyn Fn(&str, &str) -> Option<ColumnType>,
    /// Whether a column holds a count: the column a team's registry sums
    /// for a metric of `unit: count` (`impressions: sum(impressions)`), of
    /// a width nothing says (taken as the wider).
    pub counted: &'a dyn Fn(&str) -> bool,
}

impl Declared<'_> {
    /// Nothing declared.
    pub const NOTHING: Declared<'static> = Declared {
        by_model: &|_, _| None,
        counted: &|_| false,
    };
}

/// The divisions of `statement` that lose their fraction (see
/// [`WholeNumberDivision`]) in `dialect`, with what the property files and
/// the registry declare of columns.
pub fn whole_number_divisions(
    statement: &Statement,
    dialect: Dialect,
    declared: &Declared<'_>,
) -> Vec<WholeNumberDivision> {
    use sqlparser::ast::Spanned;
    let truncates = dialect.truncates_integer_division();
    let typing = Typing {
        sums_widen: dialect == Dialect::Postgres,
    };
    // Worked out for the first division that needs it: most statements have none.
    let mut columns: Option<IntegerColumns> = None;
    let mut out: Vec<WholeNumberDivision> = Vec::new();
    let mut reported: Vec<sqlparser::tokenizer::Span> = Vec::new();
    // A quotient the statement also takes the remainder of (`seconds / 60`
    // beside `seconds % 60`: hours, minutes and seconds) is whole on purpose.
    let mut remainders: std::collections::HashSet<(String, String)> =
        std::collections::HashSet::new();
    let _ = ast::visit_expressions(statement, |expr| {
        if let AstExpr::BinaryOp {
            left,
            op: BinaryOperator::Modulo,
            right,
        } = expr
        {
            remainders.insert((left.to_string(), right.to_string()));
        }
        ControlFlow::<()>::Continue(())
    });
    let _ = ast::visit_expressions(statement, |expr| {
        let AstExpr::BinaryOp { left, op, right } = expr else {
            return ControlFlow::<()>::Continue(());
        };
        if remainders.contains(&(left.to_string(), right.to_string())) {
            return ControlFlow::Continue(());
        }
        let by_operator = match op {
            BinaryOperator::Divide => false,
            BinaryOperator::DuckIntegerDivide => true,
            _ => return ControlFlow::Continue(()),
        };
        let aggregates_here = contains_aggregate(left) || contains_aggregate(right);
        let loses_fraction = if by_operator {
            aggregates_here
        } else {
            truncates && {
                let columns =
                    columns.get_or_insert_with(|| IntegerColumns::of(statement, declared, typing));
                columns.whole(left).is_some()
                    && columns.whole(right).is_some()
                    // A CTE's totals divided in the query over it are a ratio too.
                    && (aggregates_here || columns.aggregated(left) || columns.aggregated(right))
            }
        };
        // Outer expressions are visited first: a division inside a reported
        // one (`count(a) / count(b) / 2`) is reported once, at the outermost.
        let span = expr.span();
        let inside = reported
            .iter()
            .any(|r| r.start <= span.start && span.end <= r.end);
        if loses_fraction && !inside {
            reported.push(span);
            out.push(WholeNumberDivision {
                division: expr.clone(),
                by_operator,
            });
        }
        ControlFlow::Continue(())
    });
    out
}

/// The columns of a statement that are integers for sure: every CTE or
/// subquery of the statement that computes a column of that name computes a
/// whole number (`COUNT(*) AS n`), or none computes it and a model the
/// statement reads declares the name an integer (or the registry counts
/// it), none declaring it another type.
struct IntegerColumns {
    /// Unqualified column names that are whole numbers.
    names: std::collections::HashMap<String, Whole>,
    /// Qualified references (`m.member_months`) that are, through the CTE
    /// or model their qualifier names.
    qualified: std::collections::HashMap<(String, String), Whole>,
    /// The names CTEs and subqueries give aggregates (`COUNT(*) AS n`).
    aggregates: std::collections::HashSet<String>,
    typing: Typing,
}

impl IntegerColumns {
    fn of(statement: &Statement, declared: &Declared<'_>, typing: Typing) -> Self {
        let mut reads = Reads {
            typing,
            ..Reads::default()
        };
        let _ = statement.visit(&mut reads);
        let models: Vec<&String> = reads
            .relations
            .iter()
            .filter(|r| !reads.ctes.contains(*r))
            .collect();
        let mut names = std::collections::HashMap::new();
        let mut columns = reads.columns;
        columns.sort_unstable();
        columns.dedup();
        for column in columns {
            if reads.computed.contains(&column) {
                continue;
            }
            if let Some(&width) = reads.computed_whole.get(&column) {
                names.insert(column, width);
                continue;
            }
            let mut types = models
                .iter()
                .filter_map(|m| (declared.by_model)(m, &column))
                .peekable();
            let width = if types.peek().is_some() {
                types.try_fold(Whole::Int, |widest, t| match t {
                    ColumnType::Whole(w) => Some(widest.max(w)),
                    ColumnType::Other => None,
                })
            } else {
                (declared.counted)(&column).then_some(Whole::BigInt)
            };
            if let Some(width) = width {
                names.insert(column, width);
            }
        }
        // A qualified reference is what its own relation makes it: a CTE's
        // computed column, a model's declared one; a column a CTE passes on,
        // or a derived table's, is what its name is statement-wide.
        let mut qualified = std::collections::HashMap::new();
        for (qualifier, column) in reads.qualified {
            let table = reads.bindings.get(&qualifier).unwrap_or(&qualifier);
            let width = if let Some(width) = reads.cte_columns.get(&(table.clone(), column.clone()))
            {
                *width
            } else if table.is_empty() || reads.ctes.contains(table) {
                names.get(&column).copied()
            } else {
                match (declared.by_model)(table, &column) {
                    Some(ColumnType::Whole(width)) => Some(width),
                    Some(ColumnType::Other) => None,
                    None => (declared.counted)(&column).then_some(Whole::BigInt),
                }
            };
            if let Some(width) = width {
                qualified.insert((qualifier, column), width);
            }
        }
        IntegerColumns {
            names,
            qualified,
            aggregates: reads.aggregates,
            typing,
        }
    }

    /// Whether the expression reads a column a CTE or subquery aggregated.
    fn aggregated(&self, expr: &AstExpr) -> bool {
        let mut found = false;
        let _ = ast::visit_expressions(expr, |e| {
            let name = match e {
                AstExpr::Identifier(ident) => Some(ident),
                AstExpr::CompoundIdentifier(parts) => parts.last(),
                _ => None,
            };
            if name.is_some_and(|n| self.aggregates.contains(&n.value.to_lowercase())) {
                found = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        found
    }

    /// The expression's width, when it is a whole number for sure.
    fn whole(&self, expr: &AstExpr) -> Option<Whole> {
        match expr {
            AstExpr::Identifier(ident) => self.names.get(&ident.value.to_lowercase()).copied(),
            AstExpr::CompoundIdentifier(parts) => match parts.as_slice() {
                [.., qualifier, column] => self
                    .qualified
                    .get(&(qualifier.value.to_lowercase(), column.value.to_lowercase()))
                    .copied(),
                _ => None,
            },
            _ => self.typing.whole_with(expr, &|e| self.whole(e)),
        }
    }
}

/// What a statement reads and computes, for [`IntegerColumns`].
#[derive(Default)]
struct Reads {
    typing: Typing,
    /// The relations it reads, by their own (last) name.
    relations: Vec<String>,
    /// Its CTEs' names.
    ctes: Vec<String>,
    /// Every column name it refers to.
    columns: Vec<String>,
    /// The names its CTEs and subqueries give computed columns: whole
    /// numbers for sure (`COUNT(*) AS n`), and the others.
    computed_whole: std::collections::HashMap<String, Whole>,
    computed: std::collections::HashSet<String>,
    /// The names its CTEs and subqueries give aggregates.
    aggregates: std::collections::HashSet<String>,
    /// Each CTE's named outputs (CTE, column): the width of a computed whole
    /// number, `None` for anything else.
    cte_columns: std::collections::HashMap<(String, String), Option<Whole>>,
    /// What each FROM item is called in the query (its alias, else its
    /// name) to the relation's own name (empty for a derived table).
    bindings: std::collections::HashMap<String, String>,
    /// The qualified column references (qualifier, column).
    qualified: Vec<(String, String)>,
    /// Whether the statement's outermost query was met (its own outputs are
    /// what it publishes, not what it reads).
    outermost_seen: bool,
}

impl ast::Visitor for Reads {
    type Break = ();

    fn pre_visit_query(&mut self, query: &ast::Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let cte_name = cte.alias.name.value.to_lowercase();
                if let ast::SetExpr::Select(select) = cte.query.body.as_ref() {
                    for item in &select.projection {
                        if let ast::SelectItem::ExprWithAlias { expr, alias } = item {
                            let width = match expr {
                                AstExpr::Identifier(_) | AstExpr::CompoundIdentifier(_) => None,
                                computed => self.typing.whole(computed),
                            };
                            self.cte_columns
                                .insert((cte_name.clone(), alias.value.to_lowercase()), width);
                        }
                    }
                }
                self.ctes.push(cte_name);
            }
        }
        if std::mem::replace(&mut self.outermost_seen, true) {
            if let ast::SetExpr::Select(select) = query.body.as_ref() {
                for item in &select.projection {
                    if let ast::SelectItem::ExprWithAlias { expr, alias } = item {
                        let name = alias.value.to_lowercase();
                        let renamed = match expr {
                            AstExpr::Identifier(c) => Some(c),
                            AstExpr::CompoundIdentifier(parts) => parts.last(),
                            _ => None,
                        };
                        if let Some(column) = renamed {
                            // Another column under this name: of unknown type.
                            if column.value.to_lowercase() != name {
                                self.computed.insert(name);
                            }
                            continue;
                        }
                        if contains_aggregate(expr) {
                            self.aggregates.insert(name.clone());
                        }
                        match self.typing.whole(expr) {
                            Some(width) => {
                                let at = self.computed_whole.entry(name).or_insert(width);
                                *at = (*at).max(width);
                            }
                            None => {
                                self.computed.insert(name);
                            }
                        }
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ast::ObjectName) -> ControlFlow<()> {
        if let Some(ast::ObjectNamePart::Identifier(last)) = relation.0.last() {
            let name = last.value.to_lowercase();
            self.relations
                .push(name.rsplit('.').next().unwrap_or(&name).to_string());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &ast::TableFactor) -> ControlFlow<()> {
        let last = |name: &ast::ObjectName| match name.0.last() {
            Some(ast::ObjectNamePart::Identifier(i)) => {
                let name = i.value.to_lowercase();
                name.rsplit('.').next().unwrap_or(&name).to_string()
            }
            _ => String::new(),
        };
        match factor {
            ast::TableFactor::Table { name, alias, .. } => {
                let table = last(name);
                let binding = alias
                    .as_ref()
                    .map_or_else(|| table.clone(), |a| a.name.value.to_lowercase());
                self.bindings.insert(binding, table);
            }
            ast::TableFactor::Derived {
                alias: Some(alias), ..
            } => {
                self.bindings
                    .insert(alias.name.value.to_lowercase(), String::new());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
        match expr {
            AstExpr::Identifier(ident) => self.columns.push(ident.value.to_lowercase()),
            AstExpr::CompoundIdentifier(parts) => {
                if let [.., qualifier, last] = parts.as_slice() {
                    self.qualified
                        .push((qualifier.value.to_lowercase(), last.value.to_lowercase()));
                }
                if let Some(last) = parts.last() {
                    self.columns.push(last.value.to_lowercase());
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// How a dialect types whole numbers.
#[derive(Clone, Copy, Debug, Default)]
struct Typing {
    /// Postgres: `SUM` of an `integer` is a `bigint`, of a `bigint` a `numeric`.
    sums_widen: bool,
}

impl Typing {
    /// The expression's width, when it is a whole number for sure, with no
    /// column known to be one.
    fn whole(self, expr: &AstExpr) -> Option<Whole> {
        self.whole_with(expr, &|e| self.whole(e))
    }

    /// [`Typing::whole`], with `part` typing the expression's parts.
    fn whole_with(self, expr: &AstExpr, part: &dyn Fn(&AstExpr) -> Option<Whole>) -> Option<Whole> {
        let all = |parts: &[&AstExpr]| {
            parts
                .iter()
                .try_fold(Whole::Int, |widest, p| Some(widest.max(part(p)?)))
        };
        match expr {
            AstExpr::Nested(inner) => part(inner),
            AstExpr::Value(v) => match &v.value {
                ast::Value::Number(n, _) if n.bytes().all(|b| b.is_ascii_digit()) => {
                    Some(if n.parse::<i32>().is_ok() {
                        Whole::Int
                    } else {
                        Whole::BigInt
                    })
                }
                _ => None,
            },
            AstExpr::UnaryOp {
                op: ast::UnaryOperator::Minus | ast::UnaryOperator::Plus,
                expr,
            } => part(expr),
            AstExpr::BinaryOp {
                left,
                op:
                    BinaryOperator::Plus
                    | BinaryOperator::Minus
                    | BinaryOperator::Multiply
                    | BinaryOperator::Divide
                    | BinaryOperator::Modulo,
                right,
            } => all(&[left, right]),
            AstExpr::Cast { data_type, .. } => integer_type_width(&data_type.to_string()),
            AstExpr::Case {
                conditions,
                else_result,
                ..
            } => {
                let mut results: Vec<&AstExpr> = conditions.iter().map(|w| &w.result).collect();
                results.extend(else_result.as_deref().filter(|e| !is_null(e)));
                all(&results)
            }
            AstExpr::Function(function) if function.over.is_none() => {
                let name = function_name(&function.name);
                let args = plain_arguments(&function.args);
                match (name.as_str(), args.as_deref()) {
                    ("count" | "count_if" | "countif" | "count_big", _) => Some(Whole::BigInt),
                    ("sum", Some([x])) => match part(x)? {
                        Whole::Int => Some(Whole::BigInt),
                        Whole::BigInt if self.sums_widen => None,
                        Whole::BigInt => Some(Whole::BigInt),
                    },
                    ("min" | "max", Some([x])) => part(x),
                    ("coalesce" | "ifnull" | "isnull" | "nvl" | "nullif", Some(args))
                        if !args.is_empty() =>
                    {
                        all(args)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

fn is_null(expr: &AstExpr) -> bool {
    matches!(expr, AstExpr::Value(v) if matches!(v.value, ast::Value::Null))
}

/// The width of an integer type name (a cast's, a property file's
/// `data_type`), or `None` for another type.
pub fn integer_type_width(name: &str) -> Option<Whole> {
    match name.trim().to_ascii_lowercase().as_str() {
        "int" | "integer" | "smallint" | "tinyint" | "int2" | "int4" => Some(Whole::Int),
        "bigint" | "int8" | "int64" => Some(Whole::BigInt),
        _ => None,
    }
}

/// The arguments of a call, when all are plain expressions.
pub(crate) fn plain_arguments(args: &FunctionArguments) -> Option<Vec<&AstExpr>> {
    match args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Whether an aggregate is computed inside the expression.
fn contains_aggregate(expr: &AstExpr) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(expr, |e| {
        if let AstExpr::Function(f) = e {
            let name = function_name(&f.name);
            if f.over.is_none()
                && matches!(
                    super::functions::meaning(&name),
                    Some(
                        super::functions::Meaning::Aggregate(_)
                            | super::functions::Meaning::AggregateIf(_)
                            | super::functions::Meaning::CountIf
                            | super::functions::Meaning::CountDistinct
                    )
                )
            {
                found = true;
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{DuckDbDialect, PostgreSqlDialect};
    use sqlparser::parser::Parser;

    fn divisions(sql: &str, truncates: bool) -> Vec<String> {
        let statements = if truncates {
            Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap()
        } else {
            Parser::parse_sql(&DuckDbDialect {}, sql).unwrap()
        };
        let dialect = if truncates {
            Dialect::Postgres
        } else {
            Dialect::DuckDb
        };
        whole_number_divisions(&statements[0], dialect, &Declared::NOTHING)
            .iter()
            .map(|d| d.division.to_string())
            .collect()
    }

    #[test]
    fn whole_numbers_divided_lose_their_fraction() {
        // (SQL, the divisions reported)
        let cases: &[(&str, &[&str])] = &[
            (
                "select count(clicks) / count(*) as ctr from t",
                &["count(clicks) / count(*)"],
            ),
            (
                "select sum(case when clicked then 1 else 0 end) / count(*) as ctr from t",
                &["sum(CASE WHEN clicked THEN 1 ELSE 0 END) / count(*)"],
            ),
            (
                "select 100 * count(a) / count(b) as pct from t",
                &["100 * count(a) / count(b)"],
            ),
            (
                "select count(distinct a) / nullif(count(b), 0) as r from t",
                &["count(DISTINCT a) / nullif(count(b), 0)"],
            ),
            (
                "select count(a) / count(b) / 2 as r from t",
                &["count(a) / count(b) / 2"],
            ),
            ("select count(*) / 7 as per_day from t", &["count(*) / 7"]),
            (
                "select sum(x::int) / count(*) as r from t",
                &["sum(x::INT) / count(*)"],
            ),
            // A side that is a decimal makes it exact.
            ("select count(a)::numeric / count(b) as r from t", &[]),
            ("select 1.0 * count(a) / count(b) as r from t", &[]),
            ("select count(a) / count(b)::float as r from t", &[]),
            (
                "select cast(count(a) as decimal) / count(b) as r from t",
                &[],
            ),
            // Columns of unknown type, and row arithmetic, are not reported.
            ("select sum(clicks) / sum(impressions) as ctr from t", &[]),
            ("select clicks / impressions as ctr from t", &[]),
            ("select seconds / 60 as minutes from t", &[]),
            ("select count(*) over () / 2 as half from t", &[]),
        ];
        for (sql, want) in cases {
            assert_eq!(divisions(sql, true), want.to_vec(), "{sql}");
        }
    }

    #[test]
    fn only_truncating_dialects_lose_the_fraction_of_a_slash() {
        assert!(divisions("select count(a) / count(b) as r from t", false).is_empty());
        assert_eq!(
            divisions("select sum(a) // sum(b) as r from t", false),
            vec!["sum(a) // sum(b)"]
        );
    }

    #[test]
    fn columns_a_model_declares_integers_are_whole_numbers() {
        // `fct_ads` declares clicks and impressions integers, spend numeric.
        let by_model = |model: &str, column: &str| match (model, column) {
            ("fct_ads", "clicks" | "impressions") => Some(ColumnType::Whole(Whole::Int)),
            ("fct_ads", "spend") => Some(ColumnType::Other),
            _ => None,
        };
        let declared = Declared {
            by_model: &by_model,
            counted: &|column| column == "sessions",
        };
        let found = |sql: &str| -> Vec<String> {
            let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
            whole_number_divisions(&statements[0], Dialect::Postgres, &declared)
                .iter()
                .map(|d| d.division.to_string())
                .collect()
        };
        let cases: &[(&str, &[&str])] = &[
            ("select sum(clicks) / sum(impressions) as ctr from fct_ads", &["sum(clicks) / sum(impressions)"]),
            ("select sum(a.clicks) / sum(a.impressions) as ctr from analytics.fct_ads a", &["sum(a.clicks) / sum(a.impressions)"]),
            ("with f as (select * from fct_ads) select sum(clicks) / count(*) as r from f", &["sum(clicks) / count(*)"]),
            // A registered count measure's column, over any relation.
            ("select sum(clicks) / sum(sessions) as r from events", &[]),
            // (A count measure's width is not known: Postgres may sum it into a numeric.)
            ("select sum(sessions) / count(distinct user_id) as r from events", &[]),
            ("select max(sessions) / count(distinct user_id) as r from events", &["max(sessions) / count(DISTINCT user_id)"]),
            // Another type, an undeclared relation, a recomputed name.
            ("select sum(spend) / sum(clicks) as cpc from fct_ads", &[]),
            ("select sum(clicks) / sum(impressions) as ctr from other_ads", &[]),
            ("with f as (select sum(clicks) * 1.0 as clicks from fct_ads) select clicks / count(*) as r from f", &[]),
            // A CTE's counts, divided in the query over it.
            ("with f as (select day, count(*) as n, count(clicked_at) as c from events group by 1) select day, c / n as ctr from f", &["c / n"]),
            ("with f as (select day, count(*) as n, sum(spend) as c from events group by 1) select day, c / n as cpa from f", &[]),
            ("with f as (select day, count(*) as n, count(clicked_at) as c from events group by 1) select sum(c) / sum(n) as ctr from f", &[]),
            ("select day, seconds / 60 as minutes from (select day, 120 as seconds from t) s", &[]),
            // A qualifier names the CTE a column comes from: `p.value` is
            // `prior`'s, a column it passes on, not `current`'s count.
            ("with current as (select countif(x) as value from t), prior as (select total as value from u) select (c.value - p.value) / nullif(p.value, 0) as growth from current c, prior p", &[]),
            ("with current as (select countif(x) as value from t), prior as (select count(*) as value from u) select (c.value - p.value) / nullif(p.value, 0) as growth from current c, prior p", &["(c.value - p.value) / nullif(p.value, 0)"]),
            ("with m as (select ym, count(1) as member_months from mm group by 1) select count(e.id) / m.member_months as pkpy from e join m on e.ym = m.ym group by m.member_months", &["count(e.id) / m.member_months"]),
            ("with f as (select count(*) as n from a), g as (select avg(x) as n from b) select count(*) / sum(n) as r from f, g", &[]),
            ("select sum(clicks)::numeric / sum(impressions) as ctr from fct_ads", &[]),
        ];
        for (sql, want) in cases {
            assert_eq!(found(sql), want.to_vec(), "{sql}");
        }
    }

    #[test]
    fn postgres_sums_a_bigint_into_a_numeric() {
        // (SQL, found in Postgres, found in Redshift)
        let cases: &[(&str, bool, bool)] = &[
            // A sum of counts is a numeric in Postgres, a bigint in Redshift.
            ("with p as (select u, count(*) as n from e group by 1) select sum(n) / count(distinct u) as r from p", false, true),
            ("select sum(x::bigint) / count(*) as r from t", false, true),
            // A sum of integers is a bigint in both.
            ("select sum(case when c then 1 else 0 end) / count(*) as r from t", true, true),
            ("select sum(x::int) / count(*) as r from t", true, true),
            // Counts divided are bigints in both.
            ("with m as (select count(1) as months from mm) select count(e.id) / m.months as r from e, m group by m.months", true, true),
        ];
        for (sql, postgres, redshift) in cases {
            let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
            for (dialect, want) in [(Dialect::Postgres, postgres), (Dialect::Redshift, redshift)] {
                let found =
                    !whole_number_divisions(&statements[0], dialect, &Declared::NOTHING).is_empty();
                assert_eq!(found, *want, "{dialect}: {sql}");
            }
        }
    }
}
