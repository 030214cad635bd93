//! Lowering: sqlparser's AST to the canonical form.
//!
//! Column references go through a [`Resolver`], which is where query lineage
//! plugs in: the registry resolves every column to itself, a report resolves
//! them through its FROM clause, CTEs and derived tables.

use sqlparser::ast::{
    self, BinaryOperator, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArguments,
    UnaryOperator, Value,
};

use super::functions::{self, AggFuncKind, Meaning};
use super::guards::unguarded_ratio;
use super::{AggFunc, Conditions, Expr, Factor, Number, Term};

/// Maps a column reference, as written, to its canonical meaning.
pub trait Resolver {
    /// `qualifier` is the table or alias part (`e` in `e.clicks`), if any.
    fn column(&self, qualifier: Option<&str>, name: &str) -> Expr;

    /// Conditions an aggregate of the column sees beyond the query's own
    /// (the filters of a relation on the outer side of an outer join).
    fn outer_conditions(&self, _qualifier: Option<&str>, _name: &str) -> Vec<Expr> {
        Vec::new()
    }

    /// Whether the column is an aggregate of a relation of one row (a CTE
    /// that aggregates with no GROUP BY): joined in, its value repeats on
    /// every row, and its average, minimum or maximum is that value.
    fn is_one_row_value(&self, _qualifier: Option<&str>, _name: &str) -> bool {
        false
    }

    /// The column each row of the query's only relation has its own value
    /// of (a CTE that groups by that one column): counting its rows counts
    /// that column's distinct values.
    fn row_key(&self) -> Option<String> {
        None
    }
}

/// Every column is a base column of the (single) relation the expression reads.
pub struct BaseColumns;

impl Resolver for BaseColumns {
    fn column(&self, _qualifier: Option<&str>, name: &str) -> Expr {
        Expr::column(name)
    }
}

/// Lowers expressions against one resolver.
pub struct Lowerer<'r> {
    resolver: &'r dyn Resolver,
    /// Whether `metric('x')` is a reference to another registry metric.
    metric_refs: bool,
    /// The WHERE conditions of the scope, attached to each aggregate built here.
    conditions: Conditions,
    /// The outer-join conditions of the columns read so far (see
    /// [`Resolver::outer_conditions`]); an aggregate takes those its
    /// argument's columns added.
    outer: std::cell::RefCell<Vec<Expr>>,
}

/// Type names whose casts do not change a metric's value.
const NUMERIC_TYPES: &[&str] = &[
    "int",
    "integer",
    "bigint",
    "smallint",
    "tinyint",
    "int2",
    "int4",
    "int8",
    "int64",
    "float",
    "float4",
    "float8",
    "float32",
    "float64",
    "double",
    "real",
    "decimal",
    "numeric",
    "number",
    "dec",
    "bignumeric",
    "bigdecimal",
    "decfloat",
    "signed",
    "unsigned",
    "hugeint",
    "uhugeint",
    "ubigint",
    "uinteger",
    "usmallint",
    "utinyint",
    "long",
    "short",
    "byte",
];

pub fn is_numeric_type(data_type: &ast::DataType) -> bool {
    let text = data_type.to_string().to_ascii_lowercase();
    let head = text
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    NUMERIC_TYPES.contains(&head) || is_sized_number(head)
}

/// The sized number types of DuckDB, ClickHouse and Dune's Trino:
/// `int32`, `uint256`, `decimal128`, `float64` (lowercased).
fn is_sized_number(head: &str) -> bool {
    let unsigned = head.strip_prefix('u').unwrap_or(head);
    ["int", "decimal", "float"].iter().any(|kind| {
        unsigned
            .strip_prefix(kind)
            .is_some_and(|bits| matches!(bits, "8" | "16" | "32" | "64" | "128" | "256"))
    })
}

/// A function's name, lowercased, without schema or package (`dbt.safe_divide` is `safe_divide`).
/// `(qualifier, name)` of a plain column reference (`mm.member_months`).
fn column_reference(expr: &ast::Expr) -> Option<(Option<String>, String)> {
    match expr {
        ast::Expr::Identifier(ident) => Some((None, ident.value.clone())),
        ast::Expr::CompoundIdentifier(parts) => {
            let (name, qualifier) = parts.split_last()?;
            let qualifier = qualifier
                .iter()
                .map(|p| p.value.as_str())
                .collect::<Vec<_>>()
                .join(".");
            Some((
                Some(qualifier).filter(|q| !q.is_empty()),
                name.value.clone(),
            ))
        }
        ast::Expr::Nested(inner) => column_reference(inner),
        _ => None,
    }
}

pub fn function_name(name: &ast::ObjectName) -> String {
    match name.0.last() {
        Some(ast::ObjectNamePart::Identifier(ident)) => {
            let value = ident.value.rsplit('.').next().unwrap_or(&ident.value);
            value.to_ascii_lowercase()
        }
        _ => {
            let text = name.to_string().to_ascii_lowercase();
            text.rsplit('.').next().unwrap_or(&text).to_string()
        }
    }
}

/// `DATE_TRUNC('year', x)` and the like: a truncation to a day, week,
/// month, quarter or year, whose value is a day's start.
fn is_a_truncation_to_a_day_or_longer(expr: &Expr) -> bool {
    const UNITS: &[&str] = &["day", "week", "month", "quarter", "year"];
    matches!(expr, Expr::Function { name, args }
        if name == "date_trunc"
            && args.iter().any(|a| matches!(a, Expr::String(unit)
                if UNITS.contains(&unit.to_ascii_lowercase().as_str()))))
}

fn is_zero_literal(expr: &ast::Expr) -> bool {
    match expr {
        ast::Expr::Value(v) => {
            matches!(&v.value, Value::Number(n, _) if Number::parse(n).is_zero())
        }
        ast::Expr::Nested(e) => is_zero_literal(e),
        ast::Expr::Cast { expr, .. } => is_zero_literal(expr),
        _ => false,
    }
}

impl<'r> Lowerer<'r> {
    pub fn new(resolver: &'r dyn Resolver) -> Self {
        Lowerer {
            resolver,
            metric_refs: false,
            conditions: Conditions::default(),
            outer: Default::default(),
        }
    }

    /// Attaches the scope's WHERE conditions to every aggregate lowered here.
    pub fn with_conditions(mut self, conditions: Vec<Expr>) -> Self {
        self.conditions = Conditions::new(conditions);
        self
    }

    /// A lowerer for registry definitions, where `metric('x')` names another metric.
    pub fn for_registry(resolver: &'r dyn Resolver) -> Self {
        Lowerer {
            resolver,
            metric_refs: true,
            conditions: Conditions::default(),
            outer: Default::default(),
        }
    }

    fn note_outer(&self, qualifier: Option<&str>, name: &str) {
        let conditions = self.resolver.outer_conditions(qualifier, name);
        if !conditions.is_empty() {
            self.outer.borrow_mut().extend(conditions);
        }
    }

    pub fn lower(&self, expr: &ast::Expr) -> Expr {
        match expr {
            // What a template left unrendered (an unknown macro) means nothing yet.
            ast::Expr::Identifier(ident) if crate::template::is_placeholder_name(&ident.value) => {
                Expr::Opaque(ident.value.clone())
            }
            ast::Expr::Identifier(ident) => {
                self.note_outer(None, &ident.value);
                self.resolver.column(None, &ident.value)
            }
            ast::Expr::CompoundIdentifier(parts) => {
                let (last, qualifier) = parts.split_last().expect("non-empty identifier");
                let qualifier = qualifier
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                self.note_outer(Some(&qualifier), &last.value);
                self.resolver.column(Some(&qualifier), &last.value)
            }
            ast::Expr::Value(v) => lower_value(&v.value),
            ast::Expr::Nested(inner) => self.lower(inner),
            ast::Expr::BinaryOp { left, op, right } => self.lower_binary(left, op, right),
            ast::Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Minus => {
                    Expr::product(Number::int(-1), vec![Factor::mul(self.lower(expr))])
                }
                UnaryOperator::Plus => self.lower(expr),
                UnaryOperator::Not => Expr::negate(self.lower(expr)),
                other => Expr::Function {
                    name: other.to_string().to_ascii_lowercase(),
                    args: vec![self.lower(expr)],
                },
            },
            ast::Expr::Cast {
                expr, data_type, ..
            } => {
                let lowered = self.lower(expr);
                // A date truncated to its year, month, week or day is a
                // date: `CAST(DATE_TRUNC('year', CURRENT_DATE) AS DATE)`
                // starts the same day.
                let a_date_already = is_a_truncation_to_a_day_or_longer(&lowered)
                    && data_type.to_string().eq_ignore_ascii_case("date");
                let to = data_type.to_string().to_ascii_lowercase();
                let cast_already = matches!(&lowered, Expr::Cast { to: inner, .. } if *inner == to);
                if is_numeric_type(data_type) || a_date_already || cast_already {
                    lowered
                } else {
                    Expr::Cast {
                        expr: Box::new(lowered),
                        to,
                    }
                }
            }
            ast::Expr::IsNull(e) => Expr::IsNull(Box::new(self.lower(e))),
            ast::Expr::IsNotNull(e) => Expr::negate(Expr::IsNull(Box::new(self.lower(e)))),
            ast::Expr::IsTrue(e) => self.lower(e),
            ast::Expr::IsFalse(e) => Expr::negate(self.lower(e)),
            ast::Expr::In {
                expr,
                target: ast::InTarget::List(list),
                negated,
                ..
            } => Expr::in_list(
                self.lower(expr),
                list.iter().map(|e| self.lower(e)).collect(),
                *negated,
            ),
            ast::Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = self.lower(expr);
                let range = Expr::and(vec![
                    Expr::compare("<=", self.lower(low), x.clone()),
                    Expr::compare("<=", x, self.lower(high)),
                ]);
                if *negated {
                    Expr::negate(range)
                } else {
                    range
                }
            }
            ast::Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => case(
                operand.as_ref().map(|o| self.lower(o)),
                conditions
                    .iter()
                    .map(|c| (self.lower(&c.condition), self.lower(&c.result)))
                    .collect(),
                else_result.as_ref().map(|e| self.lower(e)),
            ),
            ast::Expr::Function(function) => self.lower_function(function),
            ast::Expr::Like {
                negated,
                expr,
                pattern,
                ..
            } => self.lower_like("like", *negated, expr, pattern),
            ast::Expr::ILike {
                negated,
                expr,
                pattern,
                ..
            } => self.lower_like("ilike", *negated, expr, pattern),
            ast::Expr::Interval(interval) if fixed_interval(interval).is_some() => Expr::Function {
                name: "literal".to_string(),
                args: vec![Expr::String(
                    fixed_interval(interval).expect("checked in the guard"),
                )],
            },
            // `SUBSTRING(x, 1, 42)` and `SUBSTRING(x FROM 1 FOR 42)` are `SUBSTR`.
            ast::Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => Expr::Function {
                name: "substr".to_string(),
                args: std::iter::once(self.lower(expr))
                    .chain(substring_from.iter().map(|e| self.lower(e)))
                    .chain(substring_for.iter().map(|e| self.lower(e)))
                    .collect(),
            },
            ast::Expr::TypedString(_) | ast::Expr::Interval(_) => Expr::Function {
                name: "literal".to_string(),
                args: vec![Expr::String(expr.to_string().to_ascii_lowercase())],
            },
            other => Expr::Opaque(other.to_string()),
        }
    }

    /// The key column whose distinct values a count of rows counts, where
    /// the query reads one relation of one row per key.
    fn row_key(&self, func: &AggFunc, distinct: bool) -> Option<Expr> {
        let key = (*func == AggFunc::Count && !distinct)
            .then(|| self.resolver.row_key())
            .flatten()?;
        Some(self.resolver.column(None, &key))
    }

    /// `a + b - c + …` as one sum. The parser builds long chains left-deep;
    /// walking the left spine in a loop keeps the stack flat for thousands of terms.
    fn lower_sum_chain(&self, left: &ast::Expr, op: &BinaryOperator, right: &ast::Expr) -> Expr {
        let mut terms = vec![if *op == BinaryOperator::Minus {
            Term::minus(self.lower(right))
        } else {
            Term::plus(self.lower(right))
        }];
        let mut spine = left;
        loop {
            match spine {
                ast::Expr::BinaryOp { left, op, right }
                    if matches!(op, BinaryOperator::Plus | BinaryOperator::Minus) =>
                {
                    terms.push(if *op == BinaryOperator::Minus {
                        Term::minus(self.lower(right))
                    } else {
                        Term::plus(self.lower(right))
                    });
                    spine = left;
                }
                other => {
                    terms.push(Term::plus(self.lower(other)));
                    break;
                }
            }
        }
        Expr::sum(terms)
    }

    fn lower_binary(&self, left: &ast::Expr, op: &BinaryOperator, right: &ast::Expr) -> Expr {
        match op {
            BinaryOperator::Plus | BinaryOperator::Minus => self.lower_sum_chain(left, op, right),
            BinaryOperator::Multiply => Expr::product(
                Number::ONE,
                vec![
                    Factor::mul(self.lower(left)),
                    Factor::mul(self.lower(right)),
                ],
            ),
            BinaryOperator::Divide => self.ratio(left, right),
            BinaryOperator::And => Expr::and(vec![self.lower(left), self.lower(right)]),
            BinaryOperator::Or => Expr::or(vec![self.lower(left), self.lower(right)]),
            BinaryOperator::Eq => Expr::compare("=", self.lower(left), self.lower(right)),
            BinaryOperator::NotEq => Expr::compare("<>", self.lower(left), self.lower(right)),
            BinaryOperator::Lt => Expr::compare("<", self.lower(left), self.lower(right)),
            BinaryOperator::LtEq => Expr::compare("<=", self.lower(left), self.lower(right)),
            BinaryOperator::Gt => Expr::compare(">", self.lower(left), self.lower(right)),
            BinaryOperator::GtEq => Expr::compare(">=", self.lower(left), self.lower(right)),
            other => Expr::Function {
                name: other.to_string().to_ascii_lowercase(),
                args: vec![self.lower(left), self.lower(right)],
            },
        }
    }

    /// `numerator / denominator`, seeing through a zero guard on the denominator
    /// (`NULLIF(d, 0)`): the guard only changes what a division by zero returns.
    fn ratio(&self, numerator: &ast::Expr, denominator: &ast::Expr) -> Expr {
        Expr::product(
            Number::ONE,
            vec![
                Factor::mul(self.lower(numerator)),
                Factor::div(self.lower(strip_zero_guard(denominator))),
            ],
        )
    }

    fn lower_function(&self, function: &ast::Function) -> Expr {
        let name = function_name(&function.name);
        let (args, distinct) = match &function.args {
            FunctionArguments::List(list) => (
                list.args.iter().collect::<Vec<_>>(),
                matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)),
            ),
            FunctionArguments::None => (Vec::new(), false),
            FunctionArguments::Subquery(_) => return Expr::Opaque(function.to_string()),
        };
        let arg_exprs: Vec<&ast::Expr> = args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e))
                | FunctionArg::Named {
                    arg: FunctionArgExpr::Expr(e),
                    ..
                }
                | FunctionArg::ExprNamed {
                    arg: FunctionArgExpr::Expr(e),
                    ..
                } => Some(e),
                _ => None,
            })
            .collect();
        let is_star = args.len() == 1 && arg_exprs.is_empty();

        if self.metric_refs && name == "metric" {
            if let [ast::Expr::Value(v)] = arg_exprs.as_slice() {
                if let Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) = &v.value {
                    return Expr::MetricRef(s.to_lowercase());
                }
            }
        }

        if crate::template::is_placeholder_name(&name) {
            return Expr::Opaque(function.to_string());
        }
        let meaning = functions::meaning(&name);
        let aggregate = match meaning {
            Some(Meaning::Aggregate(kind) | Meaning::AggregateIf(kind)) => Some(kind.func()),
            Some(Meaning::CountIf | Meaning::CountDistinct) => Some(AggFunc::Count),
            Some(Meaning::OtherAggregate) => Some(AggFunc::Other(name.clone())),
            _ => None,
        };
        if let Some(func) = aggregate {
            if function.over.is_some() || !function.within_group.is_empty() {
                // A window aggregate computes a per-row value; not modelled yet.
                return Expr::Opaque(function.to_string());
            }
            let outer_from = self.outer.borrow().len();
            let mut filter: Vec<Expr> = function
                .filter
                .as_deref()
                .map(|p| vec![self.lower(p)])
                .unwrap_or_default();
            let mut distinct = distinct || meaning == Some(Meaning::CountDistinct);
            // `AVG(mm.member_months)` over a one-row CTE cross-joined in is
            // `member_months` itself, not an average of averages.
            if matches!(func, AggFunc::Avg | AggFunc::Min | AggFunc::Max) && filter.is_empty() {
                if let [column] = arg_exprs.as_slice() {
                    if let Some((qualifier, name)) = column_reference(column) {
                        if self.resolver.is_one_row_value(qualifier.as_deref(), &name) {
                            return self.lower(column);
                        }
                    }
                }
            }
            let arg = match (meaning, arg_exprs.as_slice()) {
                // COUNTIF(p) counts the rows where p holds.
                (Some(Meaning::CountIf), [p]) => {
                    filter.push(self.lower(p));
                    Expr::Star
                }
                (Some(Meaning::AggregateIf(_)), [x, p]) => {
                    filter.push(self.lower(p));
                    self.lower(x)
                }
                // Rows (ClickHouse's `count()` and `COUNT(1)` count them
                // too); the rows of a relation with one row per key are its
                // keys.
                (_, []) if is_star || meaning == Some(Meaning::Aggregate(AggFuncKind::Count)) => {
                    match self.row_key(&func, distinct) {
                        Some(key) => {
                            distinct = true;
                            key
                        }
                        None => Expr::Star,
                    }
                }
                (Some(Meaning::Aggregate(AggFuncKind::Count)), [ast::Expr::Value(v)])
                    if matches!(v.value, Value::Number(..)) =>
                {
                    match self.row_key(&func, distinct) {
                        Some(key) => {
                            distinct = true;
                            key
                        }
                        None => self.lower(arg_exprs[0]),
                    }
                }
                // The key of a relation of one row per key counted: its
                // values are distinct.
                (Some(Meaning::Aggregate(AggFuncKind::Count)), [e])
                    if !distinct
                        && column_reference(e).is_some_and(|(_, name)| {
                            self.resolver
                                .row_key()
                                .is_some_and(|key| key.eq_ignore_ascii_case(&name))
                        }) =>
                {
                    distinct = true;
                    self.lower(e)
                }
                (_, [e]) => self.lower(e),
                _ => return self.plain_function(name, &arg_exprs),
            };
            let outer: Vec<Expr> = {
                let mut collected = self.outer.borrow_mut();
                let from = outer_from.min(collected.len());
                collected.drain(from..).collect()
            };
            let scope = if outer.is_empty() {
                self.conditions.clone()
            } else {
                let mut all: Vec<Expr> = self.conditions.iter().cloned().collect();
                all.extend(outer);
                Conditions::new(crate::canon::conjuncts(all))
            };
            return Expr::aggregate_scoped(func, distinct, arg, filter, scope);
        }

        match (meaning, arg_exprs.as_slice()) {
            (Some(Meaning::Divide), [a, b]) => self.ratio(a, b),
            (Some(Meaning::ZeroIfNull2), [x, zero]) if is_zero_literal(zero) => {
                let lowered = self.lower(x);
                if lowered.has_aggregate() {
                    lowered
                } else {
                    self.plain_function(name, &arg_exprs)
                }
            }
            // `coalesce(0 < count(*), false)`: a value that is never NULL
            // needs no default.
            (Some(Meaning::ZeroIfNull2), [x, _]) => {
                let lowered = self.lower(x);
                if lowered.is_never_null() {
                    lowered
                } else {
                    self.plain_function(name, &arg_exprs)
                }
            }
            (Some(Meaning::ZeroIfNull1), [x]) => {
                let lowered = self.lower(x);
                if lowered.has_aggregate() {
                    lowered
                } else {
                    self.plain_function(name, &arg_exprs)
                }
            }
            (Some(Meaning::IfThenElse), [p, a, b]) => case(
                None,
                vec![(self.lower(p), self.lower(a))],
                Some(self.lower(b)),
            ),
            // A value picked from a group is the value (the group is at its grain).
            (Some(Meaning::Pick), [x]) => self.lower(x),
            // Rounding is presentation, not a different metric.
            (Some(Meaning::Round), [x, ..]) => self.lower(x),
            (Some(Meaning::ZeroGuard), [d]) => self.lower(d),
            (Some(Meaning::NumericConversion), [x, ..]) => self.lower(without_to_string(x)),
            _ if function.over.is_some() => Expr::Opaque(function.to_string()),
            _ if arg_exprs.len() != args.len() => Expr::Opaque(function.to_string()),
            _ => self.plain_function(name, &arg_exprs),
        }
    }

    fn lower_like(&self, name: &str, negated: bool, expr: &ast::Expr, pattern: &ast::Expr) -> Expr {
        let like = Expr::Function {
            name: name.to_string(),
            args: vec![self.lower(expr), self.lower(pattern)],
        };
        if negated {
            Expr::negate(like)
        } else {
            like
        }
    }

    fn plain_function(&self, name: String, args: &[&ast::Expr]) -> Expr {
        Expr::function(name, args.iter().map(|e| self.lower(e)).collect())
    }
}

/// A CASE, or the ratio it guards when its only job is to keep a zero or
/// null denominator out.
fn case(operand: Option<Expr>, branches: Vec<(Expr, Expr)>, otherwise: Option<Expr>) -> Expr {
    // `CASE WHEN SUM(x) IS NULL THEN 0 ELSE SUM(x) END` is `COALESCE(SUM(x),
    // 0)`: the aggregate (see `Meaning::ZeroIfNull2`).
    if let (None, [(Expr::IsNull(tested), Expr::Number(zero))], Some(value)) =
        (&operand, branches.as_slice(), &otherwise)
    {
        if zero.is_zero() && **tested == *value && value.has_aggregate() {
            return value.clone();
        }
    }
    match unguarded_ratio(operand.as_ref(), &branches, otherwise.as_ref()) {
        Some(ratio) => ratio,
        None => Expr::Case {
            operand: operand.map(Box::new),
            branches,
            otherwise: otherwise.map(Box::new),
        },
    }
}

/// `x` of `toString(x)` (ClickHouse's way to a `toFloat64OrNull`), else the expression.
fn without_to_string(expr: &ast::Expr) -> &ast::Expr {
    match expr {
        ast::Expr::Function(f) if function_name(&f.name) == "tostring" => match &f.args {
            FunctionArguments::List(list) => match list.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] => x,
                _ => expr,
            },
            _ => expr,
        },
        _ => expr,
    }
}

/// Peels parentheses, numeric casts and a `NULLIF(d, 0)` guard off a denominator.
fn strip_zero_guard(expr: &ast::Expr) -> &ast::Expr {
    match expr {
        ast::Expr::Nested(inner) => strip_zero_guard(inner),
        ast::Expr::Cast {
            expr, data_type, ..
        } if is_numeric_type(data_type) => strip_zero_guard(expr),
        ast::Expr::Function(f) if function_name(&f.name) == "nullifzero" => match &f.args {
            FunctionArguments::List(list) => match list.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(d))] => strip_zero_guard(d),
                _ => expr,
            },
            _ => expr,
        },
        ast::Expr::Function(f) if function_name(&f.name) == "nullif" => match &f.args {
            FunctionArguments::List(list) => match list.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(d)), FunctionArg::Unnamed(FunctionArgExpr::Expr(zero))]
                    if is_zero_literal(zero) =>
                {
                    strip_zero_guard(d)
                }
                _ => expr,
            },
            _ => expr,
        },
        _ => expr,
    }
}

fn lower_value(value: &Value) -> Expr {
    match value {
        Value::Number(n, _) => Expr::Number(Number::parse(n)),
        Value::SingleQuotedString(s)
        | Value::DoubleQuotedString(s)
        | Value::TripleSingleQuotedString(s)
        | Value::TripleDoubleQuotedString(s)
        | Value::EscapedStringLiteral(s)
        | Value::UnicodeStringLiteral(s)
        | Value::NationalStringLiteral(s) => Expr::String(s.clone()),
        Value::Boolean(b) => Expr::Bool(*b),
        Value::Null => Expr::Null,
        other => Expr::Opaque(other.to_string()),
    }
}

/// A fixed-length interval (`INTERVAL '24' HOUR`, `INTERVAL '1 day'`,
/// `INTERVAL 7 DAY`, weeks, minutes, seconds) written in the largest unit
/// that measures it whole: `24 hour` and `1 day` are one window.
/// Months and years have no fixed length and stay as written.
fn fixed_interval(interval: &ast::Interval) -> Option<String> {
    use ast::DateTimeField as F;
    if interval.last_field.is_some() {
        return None;
    }
    let text = match interval.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::Number(s, _) => s.clone(),
            _ => return None,
        },
        _ => return None,
    };
    let mut words = text.split_whitespace();
    let count: i64 = words.next()?.parse().ok()?;
    let unit = match (&interval.leading_field, words.next()) {
        (Some(field), None) => match field {
            F::Week(None) | F::Weeks => "week",
            F::Day | F::Days => "day",
            F::Hour | F::Hours => "hour",
            F::Minute | F::Minutes => "minute",
            F::Second | F::Seconds => "second",
            _ => return None,
        },
        (None, Some(word)) if words.next().is_none() => {
            match word.to_ascii_lowercase().trim_end_matches('s') {
                "week" => "week",
                "day" => "day",
                "hour" => "hour",
                "minute" => "minute",
                "second" => "second",
                _ => return None,
            }
        }
        _ => return None,
    };
    const UNITS: [(&str, i64); 5] = [
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
        ("second", 1),
    ];
    let seconds = count.checked_mul(UNITS.iter().find(|(u, _)| *u == unit)?.1)?;
    // Weeks are written as days: `7 day` and `1 week` are one window.
    let (name, size) = UNITS[1..]
        .iter()
        .find(|(_, size)| seconds % size == 0)
        .expect("every whole number of seconds");
    Some(format!("interval '{}' {name}", seconds / size))
}
