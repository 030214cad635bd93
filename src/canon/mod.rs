//! The canonical form: one tree for every honest spelling of a computation.
//!
//! Reports and registry definitions are both lowered (see [`lower`]) into [`Expr`].
//! The constructors here normalise as they build, so two trees are equal exactly
//! when the computations are the same up to the equivalences metriclint knows:
//!
//! * identifiers are lowercased and unqualified (lineage is the resolver's job);
//! * `+`/`-` become one n-ary [`Expr::Sum`], `*`/`/` one [`Product`] of factors
//!   with a constant coefficient, both sorted, so operand order and grouping vanish
//!   and constant factors (`* 100`, `/ 1e6`) collect in one place (the scale);
//! * `AND`/`OR` are flattened, sorted and deduplicated; comparisons are oriented;
//! * numbers are exact fractions, so `1.0` is `1`.
//!
//! Anything the lowering does not understand becomes [`Expr::Opaque`], and a
//! comparison that meets it answers "unknown" rather than "different".

pub mod currency;
pub mod functions;
mod guards;
pub mod integer;
pub mod lower;
mod number;
mod print;
pub mod rounding;

pub use number::Number;
pub use print::{elide_apart, elide_middle};

/// A canonical expression.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Expr {
    /// A column, lowercased, without qualifier.
    Column(String),
    Number(Number),
    String(String),
    Bool(bool),
    Null,
    /// `*` (only as the argument of `COUNT`).
    Star,
    Aggregate(Box<Aggregate>),
    /// An n-ary sum; terms sorted. Never holds a single positive term.
    Sum(Vec<Term>),
    /// A product with a constant coefficient; factors sorted.
    Product(Product),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    /// Conjunction; operands flattened, sorted and deduplicated.
    And(Vec<Expr>),
    /// Disjunction; operands flattened, sorted and deduplicated.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    IsNull(Box<Expr>),
    InList {
        expr: Box<Expr>,
        /// Sorted and deduplicated: an `IN` list is a set.
        list: Vec<Expr>,
    },
    Case {
        operand: Option<Box<Expr>>,
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// A scalar function other than the ones given meaning above.
    Function {
        name: String,
        args: Vec<Expr>,
    },
    /// A cast to a non-numeric type (numeric casts are transparent).
    Cast {
        expr: Box<Expr>,
        to: String,
    },
    /// A column renamed on its way through a CTE or derived table
    /// (`source AS alias`). Which name is the metric's vocabulary is decided
    /// when judging: a staging model renames raw columns to the agreed names.
    Renamed {
        alias: String,
        source: Box<Expr>,
    },
    /// A reference to another registry metric, `metric('x')`; only in registry
    /// definitions and inlined before any comparison.
    MetricRef(String),
    /// A construct the canonical form does not model; comparisons meeting it are unknown.
    Opaque(String),
}

/// One operand of a [`Expr::Sum`].
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Term {
    pub negated: bool,
    pub expr: Expr,
}

/// `coefficient * f1 * f2 / f3 …`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Product {
    pub coefficient: Number,
    pub factors: Vec<Factor>,
}

/// One factor of a [`Product`]; `inverse` factors divide.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Factor {
    pub inverse: bool,
    pub expr: Expr,
}

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Aggregate {
    pub func: AggFunc,
    pub distinct: bool,
    pub arg: Expr,
    /// Conditions written on this aggregate (`FILTER (WHERE …)`, `CASE WHEN p
    /// THEN x END`, `COUNTIF(p)`), as sorted conjuncts.
    pub filter: Vec<Expr>,
    /// Conditions from the WHERE clauses (and inner-join ON clauses) of the
    /// scopes its rows pass through, as sorted conjuncts. Which of them are a
    /// difference and which are the report's slice is decided when judging.
    #[serde(with = "crate::cache::shared")]
    pub scope: Conditions,
}

/// Sorted conjuncts shared by every aggregate of one scope: a report's WHERE
/// applies to all its aggregates, so they hold one copy.
pub type Conditions = std::sync::Arc<Vec<Expr>>;

/// The condition standing for rows that how relations join picks, past what
/// conditions on one row can say (see `extract::Scope`): one table joined to
/// itself under filters of its own (`event = 'register'` beside `event =
/// 'gameStart'`), or rows with no match in another (`WHERE b.id IS NULL`
/// after `LEFT JOIN b`). It stands in an aggregate's scope for the
/// conditions: what holds whichever rows (how it aggregates, its scale, an
/// inversion) is still judged, filters and counts of rows are not.
pub const ROWS_PICKED_BY_JOINS: &str = "rows picked by how relations join";

#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum AggFunc {
    Sum,
    Count,
    Avg,
    Min,
    Max,
    Other(String),
}

/// Comparison operators after orientation: `a > b` is stored as `b < a`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
}

impl Expr {
    pub fn number(n: Number) -> Expr {
        Expr::Number(n)
    }

    pub fn column(name: &str) -> Expr {
        Expr::Column(name.to_lowercase())
    }

    pub fn aggregate(func: AggFunc, distinct: bool, arg: Expr, filter: Vec<Expr>) -> Expr {
        Expr::aggregate_scoped(func, distinct, arg, filter, Conditions::default())
    }

    /// An aggregate, normalised:
    /// * a conditional argument becomes a filter: `SUM(CASE WHEN p THEN x [ELSE 0] END)`
    ///   is `SUM(x) FILTER (WHERE p)`, `SUM(CASE WHEN p THEN 1 ELSE 0 END)` and
    ///   `COUNT(CASE WHEN p THEN 1 END)` are `COUNT(*) FILTER (WHERE p)`;
    /// * `COUNT(<non-null constant>)` is `COUNT(*)`;
    /// * sound re-aggregation folds: SUM of SUM, SUM of COUNT, MIN of MIN, MAX of
    ///   MAX (AVG of AVG and the like are different numbers and stay nested).
    pub fn aggregate_scoped(
        func: AggFunc,
        distinct: bool,
        arg: Expr,
        filter: Vec<Expr>,
        scope: Conditions,
    ) -> Expr {
        let (mut func, mut arg, mut filter, mut scope) = (func, arg, filter, scope);
        loop {
            if let Expr::Case {
                operand: None,
                branches,
                otherwise,
            } = &arg
            {
                let else_is_null = otherwise.as_deref().is_none_or(|e| *e == Expr::Null);
                let else_is_zero =
                    matches!(otherwise.as_deref(), Some(Expr::Number(n)) if n.is_zero());
                let droppable = match func {
                    // Adding zeros does not change a sum.
                    AggFunc::Sum => else_is_null || else_is_zero,
                    AggFunc::Count | AggFunc::Avg | AggFunc::Min | AggFunc::Max => else_is_null,
                    AggFunc::Other(_) => false,
                };
                if branches.len() == 1 && droppable {
                    let (when, then) = branches[0].clone();
                    filter.push(when);
                    arg = then;
                    continue;
                }
                // `SUM(CASE WHEN p THEN 0 ELSE x END)` (`SUM(IF(p, 0, x))`)
                // sums x where p does not hold, as `SUM(IF(p, x, 0))` sums it
                // where p does. (Rows where p is NULL are read as failing it.)
                let then_is_zero =
                    branches.len() == 1 && matches!(&branches[0].1, Expr::Number(n) if n.is_zero());
                if func == AggFunc::Sum && then_is_zero && !else_is_null && !else_is_zero {
                    let when = branches[0].0.clone();
                    let x = otherwise
                        .as_deref()
                        .cloned()
                        .expect("an ELSE that is not NULL");
                    filter.push(Expr::negate(when));
                    arg = x;
                    continue;
                }
            }
            break;
        }
        // SUM ignores NULLs and adding 0 changes nothing: SUM(COALESCE(x, 0)) is SUM(x),
        // and so is Oracle's SUM(NVL(x, '0')), whose '0' the sum reads as a number.
        if func == AggFunc::Sum {
            if let Expr::Function { name, args } = &arg {
                let zero = |e: &Expr| match e {
                    Expr::Number(n) => n.is_zero(),
                    Expr::String(text) => text.trim().parse::<f64>() == Ok(0.0),
                    _ => false,
                };
                let unwrapped = match (name.as_str(), args.as_slice()) {
                    ("coalesce" | "ifnull" | "nvl" | "isnull", [x, z]) if zero(z) => {
                        Some(x.clone())
                    }
                    ("zeroifnull", [x]) => Some(x.clone()),
                    _ => None,
                };
                if let Some(x) = unwrapped {
                    arg = x;
                }
            }
        }
        let constant = matches!(&arg, Expr::Number(_) | Expr::String(_) | Expr::Bool(_));
        if !distinct && constant {
            match func {
                AggFunc::Count => arg = Expr::Star,
                // Summing ones counts rows.
                AggFunc::Sum if matches!(&arg, Expr::Number(n) if n.is_one()) => {
                    func = AggFunc::Count;
                    arg = Expr::Star;
                }
                _ => {}
            }
        }
        if let Expr::Aggregate(inner) = &arg {
            let folded = match (&func, &inner.func) {
                (AggFunc::Sum, AggFunc::Sum) => Some(AggFunc::Sum),
                (AggFunc::Sum, AggFunc::Count) => Some(AggFunc::Count),
                (AggFunc::Min, AggFunc::Min) => Some(AggFunc::Min),
                (AggFunc::Max, AggFunc::Max) => Some(AggFunc::Max),
                _ => None,
            };
            // MAX(SUM(x)) picks one group's total: right when the groups are
            // the outer query's own (deduplicating after a join), wrong
            // otherwise; which, the grain decides, and we cannot see it.
            if folded.is_none() && matches!(func, AggFunc::Min | AggFunc::Max) {
                return Expr::Opaque(format!("{}() over already aggregated values", func.name()));
            }
            if let (Some(folded), false, false) = (folded, distinct, inner.distinct) {
                let inner = inner.as_ref().clone();
                filter.extend(inner.filter);
                if !inner.scope.is_empty() && inner.scope != scope {
                    let mut union: Vec<Expr> = scope.iter().cloned().collect();
                    union.extend(inner.scope.iter().cloned());
                    scope = Conditions::new(conjuncts(union));
                }
                func = folded;
                arg = inner.arg;
            }
        }
        // A constant factor comes out of a sum or an average: SUM(100 * x) = 100 * SUM(x).
        if let (AggFunc::Sum | AggFunc::Avg, false, Expr::Product(p)) = (&func, distinct, &arg) {
            if !p.coefficient.is_one() {
                let inner = Expr::product(Number::ONE, p.factors.clone());
                let coefficient = p.coefficient.clone();
                let aggregate = Expr::aggregate_scoped(func, distinct, inner, filter, scope);
                return Expr::product(coefficient, vec![Factor::mul(aggregate)]);
            }
        }
        Expr::Aggregate(Box::new(Aggregate {
            func,
            distinct,
            arg,
            filter: conjuncts(filter),
            scope,
        }))
    }

    /// `terms[0] ± terms[1] ± …`, flattened, constant-folded and sorted.
    pub fn sum(terms: Vec<Term>) -> Expr {
        let mut flat: Vec<Term> = Vec::new();
        let mut constant = Number::int(0);
        let mut push = |negated: bool, expr: Expr, flat: &mut Vec<Term>| match expr {
            Expr::Number(n) => {
                let signed = if negated { n.neg() } else { Some(n.clone()) };
                match signed.and_then(|s| constant.add(&s)) {
                    Some(sum) => constant = sum,
                    None => flat.push(Term {
                        negated,
                        expr: Expr::Number(n),
                    }),
                }
            }
            // `-x` as a term is `x` subtracted.
            Expr::Product(p) if p.coefficient.is_negative() => {
                let positive = p.coefficient.neg().expect("exact negative");
                let expr = Expr::product(positive, p.factors);
                flat.push(Term {
                    negated: !negated,
                    expr,
                })
            }
            expr => flat.push(Term { negated, expr }),
        };
        for term in terms {
            match term.expr {
                Expr::Sum(inner) => {
                    for t in inner {
                        push(t.negated != term.negated, t.expr, &mut flat);
                    }
                }
                expr => push(term.negated, expr, &mut flat),
            }
        }
        if !constant.is_zero() {
            flat.push(Term {
                negated: false,
                expr: Expr::Number(constant),
            });
        }
        flat.sort();
        match flat.len() {
            0 => Expr::Number(Number::int(0)),
            1 if !flat[0].negated => flat.pop().unwrap().expr,
            1 => Expr::product(Number::int(-1), vec![Factor::mul(flat.pop().unwrap().expr)]),
            _ => Expr::Sum(flat),
        }
    }

    /// `coefficient * factors…`, flattened, constant-folded and sorted.
    pub fn product(coefficient: Number, factors: Vec<Factor>) -> Expr {
        let mut coefficient = coefficient;
        let mut flat: Vec<Factor> = Vec::new();
        let mut stack: Vec<Factor> = factors;
        stack.reverse();
        while let Some(factor) = stack.pop() {
            match factor.expr {
                Expr::Product(inner) => {
                    let c = if factor.inverse {
                        inner.coefficient.recip()
                    } else {
                        Some(inner.coefficient.clone())
                    };
                    match c.and_then(|c| coefficient.mul(&c)) {
                        Some(c) => coefficient = c,
                        None => flat.push(Factor {
                            inverse: factor.inverse,
                            expr: Expr::number(inner.coefficient),
                        }),
                    }
                    for f in inner.factors.into_iter().rev() {
                        stack.push(Factor {
                            inverse: f.inverse != factor.inverse,
                            expr: f.expr,
                        });
                    }
                }
                Expr::Number(n) => {
                    let folded = if factor.inverse {
                        n.recip()
                    } else {
                        Some(n.clone())
                    }
                    .and_then(|v| coefficient.mul(&v));
                    match folded {
                        Some(c) => coefficient = c,
                        None => flat.push(Factor {
                            inverse: factor.inverse,
                            expr: Expr::Number(n),
                        }),
                    }
                }
                expr => flat.push(Factor {
                    inverse: factor.inverse,
                    expr,
                }),
            }
        }
        // -(a - b) is b - a: a negative coefficient goes into a lone sum.
        if coefficient.is_negative() {
            let sums: Vec<usize> = (0..flat.len())
                .filter(|&i| !flat[i].inverse && matches!(flat[i].expr, Expr::Sum(_)))
                .collect();
            if let ([only], Some(positive)) = (sums.as_slice(), coefficient.neg()) {
                if let Expr::Sum(terms) = &flat[*only].expr {
                    let negated = terms
                        .iter()
                        .map(|t| Term {
                            negated: !t.negated,
                            expr: t.expr.clone(),
                        })
                        .collect();
                    flat[*only].expr = Expr::sum(negated);
                    coefficient = positive;
                }
            }
        }
        flat.sort();
        if flat.is_empty() {
            return Expr::Number(coefficient);
        }
        if coefficient.is_zero() {
            return Expr::Number(coefficient);
        }
        if coefficient.is_one() && flat.len() == 1 && !flat[0].inverse {
            return flat.pop().unwrap().expr;
        }
        Expr::Product(Product {
            coefficient,
            factors: flat,
        })
    }

    pub fn and(operands: Vec<Expr>) -> Expr {
        Self::junction(operands, true)
    }

    pub fn or(operands: Vec<Expr>) -> Expr {
        Self::junction(operands, false)
    }

    fn junction(operands: Vec<Expr>, is_and: bool) -> Expr {
        let mut flat = Vec::new();
        for operand in operands {
            match (operand, is_and) {
                (Expr::And(inner), true) | (Expr::Or(inner), false) => flat.extend(inner),
                // The neutral element disappears.
                (Expr::Bool(b), _) if b == is_and => {}
                (other, _) => flat.push(other),
            }
        }
        flat.sort();
        flat.dedup();
        match flat.len() {
            0 => Expr::Bool(is_and),
            1 => flat.pop().unwrap(),
            _ if is_and => Expr::And(flat),
            _ => Expr::Or(flat),
        }
    }

    /// A comparison written as `left op right` with `op` one of `= <> < <= > >=`.
    pub fn compare(op: &str, left: Expr, right: Expr) -> Expr {
        let (op, left, right) = match op {
            "=" => (CompareOp::Eq, left, right),
            "<>" | "!=" => (CompareOp::NotEq, left, right),
            "<" => (CompareOp::Lt, left, right),
            "<=" => (CompareOp::LtEq, left, right),
            ">" => (CompareOp::Lt, right, left),
            ">=" => (CompareOp::LtEq, right, left),
            other => {
                return Expr::Function {
                    name: other.to_string(),
                    args: vec![left, right],
                }
            }
        };
        // `flag = true` is `flag`, `flag = false` is `NOT flag` (same under NULL).
        if matches!(op, CompareOp::Eq | CompareOp::NotEq) {
            let (value, other) = match (&left, &right) {
                (Expr::Bool(b), _) => (Some(*b), right.clone()),
                (_, Expr::Bool(b)) => (Some(*b), left.clone()),
                _ => (None, Expr::Null),
            };
            if let Some(b) = value {
                let positive = b == (op == CompareOp::Eq);
                return if positive { other } else { Expr::negate(other) };
            }
        }
        let (left, right) = if matches!(op, CompareOp::Eq | CompareOp::NotEq) && right < left {
            (right, left)
        } else {
            (left, right)
        };
        Expr::Compare(op, Box::new(left), Box::new(right))
    }

    pub fn negate(operand: Expr) -> Expr {
        match operand {
            Expr::Not(inner) => *inner,
            Expr::Bool(b) => Expr::Bool(!b),
            Expr::Compare(op, l, r) => match op {
                CompareOp::Eq => Expr::Compare(CompareOp::NotEq, l, r),
                CompareOp::NotEq => Expr::Compare(CompareOp::Eq, l, r),
                // NOT (a < b) is b <= a, also under NULL (both stay NULL).
                CompareOp::Lt => Expr::Compare(CompareOp::LtEq, r, l),
                CompareOp::LtEq => Expr::Compare(CompareOp::Lt, r, l),
            },
            other => Expr::Not(Box::new(other)),
        }
    }

    pub fn in_list(expr: Expr, mut list: Vec<Expr>, negated: bool) -> Expr {
        list.sort();
        list.dedup();
        let positive = if list.len() == 1 {
            Expr::compare("=", expr, list.pop().unwrap())
        } else {
            Expr::InList {
                expr: Box::new(expr),
                list,
            }
        };
        if negated {
            Expr::negate(positive)
        } else {
            positive
        }
    }

    /// True when some part of the tree is [`Expr::Opaque`] or an unresolved
    /// [`Expr::MetricRef`], i.e. the tree cannot be compared for sure.
    pub fn is_uncertain(&self) -> bool {
        let mut uncertain = false;
        self.walk(&mut |e| {
            if matches!(e, Expr::Opaque(_) | Expr::MetricRef(_)) {
                uncertain = true;
            }
        });
        uncertain
    }

    /// True when every aggregate is a sum or a plain count (and there is
    /// one): a figure that adds up across slices, or a ratio of such
    /// figures. Distinct counts, averages, minima and maxima do not.
    pub fn is_additive(&self) -> bool {
        let (mut any, mut all) = (false, true);
        self.walk(&mut |e| {
            if let Expr::Aggregate(agg) = e {
                any = true;
                all &= !agg.distinct && matches!(agg.func, AggFunc::Sum | AggFunc::Count);
            }
        });
        any && all
    }

    /// True when some aggregate's condition aggregates itself
    /// (`COUNTIF(LOGICAL_OR(is_terminal))` over an inner query's groups).
    pub fn has_aggregate_in_condition(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if let Expr::Aggregate(agg) = e {
                found |= agg.filter.iter().any(Expr::has_aggregate);
            }
        });
        found
    }

    /// True when the expression contains an aggregate.
    pub fn has_aggregate(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e, Expr::Aggregate(_)) {
                found = true;
            }
        });
        found
    }

    /// Drops the scope conditions of every aggregate, in place. Clearing a
    /// scope never reorders sorted operands (scope compares last), so no
    /// re-normalisation is needed.
    pub fn clear_scopes(&mut self) {
        match self {
            Expr::Aggregate(agg) => {
                if !agg.scope.is_empty() {
                    agg.scope = Conditions::default();
                }
                agg.arg.clear_scopes();
                agg.filter.iter_mut().for_each(Expr::clear_scopes);
            }
            Expr::Sum(terms) => terms.iter_mut().for_each(|t| t.expr.clear_scopes()),
            Expr::Product(p) => p.factors.iter_mut().for_each(|f| f.expr.clear_scopes()),
            Expr::Compare(_, l, r) => {
                l.clear_scopes();
                r.clear_scopes();
            }
            Expr::And(v) | Expr::Or(v) | Expr::Function { args: v, .. } => {
                v.iter_mut().for_each(Expr::clear_scopes)
            }
            Expr::Not(e)
            | Expr::IsNull(e)
            | Expr::Cast { expr: e, .. }
            | Expr::Renamed { source: e, .. } => e.clear_scopes(),
            Expr::InList { expr, list } => {
                expr.clear_scopes();
                list.iter_mut().for_each(Expr::clear_scopes);
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.clear_scopes();
                }
                for (w, t) in branches {
                    w.clear_scopes();
                    t.clear_scopes();
                }
                if let Some(o) = otherwise {
                    o.clear_scopes();
                }
            }
            Expr::Column(_)
            | Expr::Number(_)
            | Expr::String(_)
            | Expr::Bool(_)
            | Expr::Null
            | Expr::Star
            | Expr::MetricRef(_)
            | Expr::Opaque(_) => {}
        }
    }

    /// The number of nodes in the tree.
    pub fn size(&self) -> usize {
        let mut n = 0;
        self.walk(&mut |_| n += 1);
        n
    }

    /// Whether the value can never be NULL: literals, counts, and what is
    /// computed from them alone.
    pub fn is_never_null(&self) -> bool {
        match self {
            Expr::Number(_) | Expr::String(_) | Expr::Bool(_) | Expr::IsNull(_) => true,
            Expr::Aggregate(agg) => agg.func == AggFunc::Count,
            Expr::Compare(_, a, b) => a.is_never_null() && b.is_never_null(),
            Expr::Not(e) => e.is_never_null(),
            Expr::And(v) | Expr::Or(v) => v.iter().all(Expr::is_never_null),
            Expr::Case {
                branches,
                otherwise,
                ..
            } => {
                branches.iter().all(|(_, then)| then.is_never_null())
                    && otherwise.as_deref().is_some_and(Expr::is_never_null)
            }
            _ => false,
        }
    }

    /// Whether this is a value of its own, reading no column and no
    /// aggregate (`0`, `coalesce(null, 0)`, `null / 1000000`).
    pub fn is_constant(&self) -> bool {
        let mut reads = false;
        self.walk(&mut |e| {
            reads |= matches!(
                e,
                Expr::Column(_)
                    | Expr::Renamed { .. }
                    | Expr::Aggregate(_)
                    | Expr::Opaque(_)
                    | Expr::MetricRef(_)
            )
        });
        !reads
    }

    /// The columns the expression reads.
    pub fn columns(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.walk(&mut |e| match e {
            Expr::Column(c) | Expr::Renamed { alias: c, .. } => {
                out.insert(c.clone());
            }
            _ => {}
        });
        out
    }

    /// Whether some column was renamed on its way here.
    pub fn has_renames(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Renamed { .. }));
        found
    }

    /// What a dbt model's row-level column (`cost_cents / 100 AS spend`, a
    /// cast, a COALESCE) means to the models that read it: the column itself
    /// where the agreement uses that name, since defining the agreed columns
    /// is what staging models are for. Aggregates are not definitions of a
    /// column but computations, and are followed as they are. (Inside one
    /// report, a CTE that redefines an agreed column is still followed.)
    pub fn defining(self, alias: &str) -> Expr {
        match self {
            Expr::Column(ref c) if c == alias => self,
            Expr::Renamed { .. } => self,
            e if e.has_aggregate() => e,
            e => Expr::Renamed {
                alias: alias.to_string(),
                source: Box::new(e),
            },
        }
    }

    /// The computation with each upstream column whose definition cannot be
    /// compared (`lower(trim(exchange_name)) AS exchange`) read by its name:
    /// reports reading the column agree on what it is, whatever made it.
    pub fn opaque_renames_as_columns(self) -> Expr {
        if !self.has_renames() {
            return self;
        }
        self.rewrite(&mut |e| match e {
            Expr::Renamed { alias, source } if source.is_uncertain() => Expr::Column(alias),
            other => other,
        })
    }

    /// The tree with each renamed column read in `vocabulary`: the name along
    /// its lineage that the vocabulary uses (the base column first). A rename
    /// of a column to names the vocabulary does not use stays a rename of the
    /// base column, shown by the name the report reads; a computed column is
    /// its computation.
    pub fn in_vocabulary(self, vocabulary: &std::collections::BTreeSet<String>) -> Expr {
        if !self.has_renames() {
            return self;
        }
        self.rewrite(&mut |e| match e {
            Expr::Renamed { alias, source } => match *source {
                Expr::Column(base) if vocabulary.contains(&base) => Expr::Column(base),
                _ if vocabulary.contains(&alias) => Expr::Column(alias),
                Expr::Column(base) => Expr::Renamed {
                    alias,
                    source: Box::new(Expr::Column(base)),
                },
                // Inner renames were resolved first: the outer name is the
                // one the report reads.
                Expr::Renamed { source, .. } => Expr::Renamed { alias, source },
                other => other,
            },
            other => other,
        })
    }

    /// The tree with every renamed column read by the name the report reads
    /// (the outermost rename).
    pub fn read_by_name(self) -> Expr {
        if !self.has_renames() {
            return self;
        }
        self.rewrite(&mut |e| match e {
            Expr::Renamed { alias, .. } => Expr::Column(alias),
            other => other,
        })
    }

    /// The tree with every renamed column followed to its source, so that
    /// reports reading one column under two names compare equal.
    pub fn followed_to_sources(self) -> Expr {
        if !self.has_renames() {
            return self;
        }
        self.rewrite(&mut |e| match e {
            Expr::Renamed { source, .. } => *source,
            other => other,
        })
    }

    /// The columns the aggregates aggregate (their arguments', not their
    /// filters').
    pub fn aggregated_columns(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.walk(&mut |e| {
            if let Expr::Aggregate(agg) = e {
                out.extend(agg.arg.columns());
            }
        });
        out
    }

    /// The columns some aggregate's filter puts a condition on.
    pub fn filtered_columns(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.walk(&mut |e| {
            if let Expr::Aggregate(agg) = e {
                for condition in &agg.filter {
                    out.extend(condition.columns());
                }
            }
        });
        out
    }

    /// The same computation with `conditions` added to every aggregate's filter.
    pub fn with_filter(self, conditions: &[Expr]) -> Expr {
        if conditions.is_empty() {
            return self;
        }
        self.rewrite(&mut |e| match e {
            Expr::Aggregate(agg) => {
                let Aggregate {
                    func,
                    distinct,
                    arg,
                    mut filter,
                    scope,
                } = *agg;
                filter.extend(conditions.iter().cloned());
                Expr::aggregate_scoped(func, distinct, arg, filter, scope)
            }
            other => other,
        })
    }

    /// Calls `visit` on this node and every descendant, parents first.
    pub fn walk(&self, visit: &mut dyn FnMut(&Expr)) {
        visit(self);
        match self {
            Expr::Aggregate(agg) => {
                agg.arg.walk(visit);
                agg.filter.iter().for_each(|f| f.walk(visit));
                agg.scope.iter().for_each(|f| f.walk(visit));
            }
            Expr::Sum(terms) => terms.iter().for_each(|t| t.expr.walk(visit)),
            Expr::Product(p) => p.factors.iter().for_each(|f| f.expr.walk(visit)),
            Expr::Compare(_, l, r) => {
                l.walk(visit);
                r.walk(visit);
            }
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.walk(visit)),
            Expr::Function { args, .. } => args.iter().for_each(|e| e.walk(visit)),
            Expr::Not(e)
            | Expr::IsNull(e)
            | Expr::Cast { expr: e, .. }
            | Expr::Renamed { source: e, .. } => e.walk(visit),
            Expr::InList { expr, list } => {
                expr.walk(visit);
                list.iter().for_each(|e| e.walk(visit));
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                if let Some(o) = operand {
                    o.walk(visit);
                }
                for (w, t) in branches {
                    w.walk(visit);
                    t.walk(visit);
                }
                if let Some(o) = otherwise {
                    o.walk(visit);
                }
            }
            Expr::Column(_)
            | Expr::Number(_)
            | Expr::String(_)
            | Expr::Bool(_)
            | Expr::Null
            | Expr::Star
            | Expr::MetricRef(_)
            | Expr::Opaque(_) => {}
        }
    }

    /// A scalar function call, with COALESCE in one spelling: nested calls
    /// flattened (`COALESCE(COALESCE(a, b), c)` is `COALESCE(a, b, c)`), an
    /// argument after an equal one or after a constant dropped (it is never
    /// reached), and a trailing NULL dropped. One argument left is the
    /// argument itself. Lineage meets the first shape where two sources
    /// are merged (`COALESCE(s.is_active, l.is_active)`, qualifiers dropped).
    pub fn function(name: String, mut args: Vec<Expr>) -> Expr {
        if is_date_part_function(&name) {
            // `date_trunc('DAY', t)` is `date_trunc('day', t)`: date parts
            // are read without regard to case.
            for arg in &mut args {
                if let Expr::String(part) = arg {
                    if part.chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
                        part.make_ascii_lowercase();
                    }
                }
            }
        }
        if !matches!(name.as_str(), "coalesce" | "ifnull" | "nvl") {
            return Expr::Function { name, args };
        }
        let mut flat: Vec<Expr> = Vec::with_capacity(args.len());
        for arg in args {
            let inner = match arg {
                Expr::Function { name: inner, args }
                    if matches!(inner.as_str(), "coalesce" | "ifnull" | "nvl") =>
                {
                    args
                }
                other => vec![other],
            };
            for e in inner {
                let settled = flat.last().is_some_and(|last| {
                    matches!(last, Expr::Number(_) | Expr::String(_) | Expr::Bool(_))
                });
                if !settled && !flat.contains(&e) {
                    flat.push(e);
                }
            }
        }
        while flat.len() > 1 && flat.last() == Some(&Expr::Null) {
            flat.pop();
        }
        if flat.len() == 1 {
            return flat.remove(0);
        }
        Expr::Function { name, args: flat }
    }

    /// Rebuilds the tree bottom-up through `f`, re-normalising as it goes.
    pub fn rewrite(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let rebuilt = match self {
            Expr::Aggregate(agg) => {
                let Aggregate {
                    func,
                    distinct,
                    arg,
                    filter,
                    scope,
                } = *agg;
                Expr::aggregate_scoped(
                    func,
                    distinct,
                    arg.rewrite(f),
                    filter.into_iter().map(|e| e.rewrite(f)).collect(),
                    if scope.is_empty() {
                        scope
                    } else {
                        Conditions::new(conjuncts(
                            scope.iter().cloned().map(|e| e.rewrite(f)).collect(),
                        ))
                    },
                )
            }
            Expr::Sum(terms) => Expr::sum(
                terms
                    .into_iter()
                    .map(|t| Term {
                        negated: t.negated,
                        expr: t.expr.rewrite(f),
                    })
                    .collect(),
            ),
            Expr::Product(p) => Expr::product(
                p.coefficient,
                p.factors
                    .into_iter()
                    .map(|x| Factor {
                        inverse: x.inverse,
                        expr: x.expr.rewrite(f),
                    })
                    .collect(),
            ),
            Expr::Compare(op, l, r) => {
                let (l, r) = (l.rewrite(f), r.rewrite(f));
                match op {
                    CompareOp::Eq => Expr::compare("=", l, r),
                    CompareOp::NotEq => Expr::compare("<>", l, r),
                    CompareOp::Lt => Expr::compare("<", l, r),
                    CompareOp::LtEq => Expr::compare("<=", l, r),
                }
            }
            Expr::And(v) => Expr::and(v.into_iter().map(|e| e.rewrite(f)).collect()),
            Expr::Or(v) => Expr::or(v.into_iter().map(|e| e.rewrite(f)).collect()),
            Expr::Not(e) => Expr::negate(e.rewrite(f)),
            Expr::IsNull(e) => Expr::IsNull(Box::new(e.rewrite(f))),
            Expr::InList { expr, list } => Expr::in_list(
                expr.rewrite(f),
                list.into_iter().map(|e| e.rewrite(f)).collect(),
                false,
            ),
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => Expr::Case {
                operand: operand.map(|o| Box::new(o.rewrite(f))),
                branches: branches
                    .into_iter()
                    .map(|(w, t)| (w.rewrite(f), t.rewrite(f)))
                    .collect(),
                otherwise: otherwise.map(|o| Box::new(o.rewrite(f))),
            },
            Expr::Function { name, args } => {
                Expr::function(name, args.into_iter().map(|e| e.rewrite(f)).collect())
            }
            Expr::Cast { expr, to } => Expr::Cast {
                expr: Box::new(expr.rewrite(f)),
                to,
            },
            Expr::Renamed { alias, source } => Expr::Renamed {
                alias,
                source: Box::new(source.rewrite(f)),
            },
            leaf => leaf,
        };
        f(rebuilt)
    }

    /// Splits a ratio into `(scale, numerator, denominator)`: the constant
    /// coefficient, the product of the multiplying factors and of the dividing ones.
    /// A non-product is `(1, self, 1)`.
    pub fn as_ratio(&self) -> (Number, Expr, Expr) {
        match self {
            Expr::Product(p) => {
                let (inv, mul): (Vec<&Factor>, Vec<&Factor>) =
                    p.factors.iter().partition(|f| f.inverse);
                let rebuild = |fs: Vec<&Factor>| {
                    Expr::product(
                        Number::ONE,
                        fs.into_iter()
                            .map(|f| Factor::mul(f.expr.clone()))
                            .collect(),
                    )
                };
                (p.coefficient.clone(), rebuild(mul), rebuild(inv))
            }
            other => (Number::ONE, other.clone(), Expr::Number(Number::ONE)),
        }
    }
}

/// The sorted, deduplicated conjuncts of the AND of `predicates`.
pub fn conjuncts(predicates: Vec<Expr>) -> Vec<Expr> {
    match Expr::and(predicates) {
        Expr::And(parts) => parts,
        Expr::Bool(true) => Vec::new(),
        single => vec![single],
    }
}

impl Factor {
    pub fn mul(expr: Expr) -> Factor {
        Factor {
            inverse: false,
            expr,
        }
    }

    pub fn div(expr: Expr) -> Factor {
        Factor {
            inverse: true,
            expr,
        }
    }
}

impl Term {
    pub fn plus(expr: Expr) -> Term {
        Term {
            negated: false,
            expr,
        }
    }

    pub fn minus(expr: Expr) -> Term {
        Term {
            negated: true,
            expr,
        }
    }
}

impl AggFunc {
    pub fn name(&self) -> &str {
        match self {
            AggFunc::Sum => "sum",
            AggFunc::Count => "count",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Other(name) => name,
        }
    }
}

/// Functions whose string argument names a date part (`'day'`, `'MONTH'`),
/// which every dialect reads without regard to case.
fn is_date_part_function(name: &str) -> bool {
    matches!(
        name,
        "date_trunc"
            | "datetrunc"
            | "timestamp_trunc"
            | "datetime_trunc"
            | "date_part"
            | "datepart"
            | "datediff"
            | "date_diff"
            | "timestamp_diff"
            | "timestampdiff"
            | "dateadd"
            | "date_add"
            | "timestampadd"
            | "last_day"
    )
}
