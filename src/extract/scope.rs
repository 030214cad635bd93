//! Name resolution inside one SELECT: which relation a column comes from,
//! through CTEs and derived tables.
//!
//! This is where lineage lives. Today a column read from a CTE or derived
//! table resolves through plain pass-throughs (`SELECT clicks …`, `SELECT *`,
//! renames); a column the CTE computes is opaque, so the site is "unknown"
//! rather than misjudged.

use sqlparser::ast::{Query, Select, SelectItem, SetExpr, TableFactor, TableWithJoins};

use crate::canon::lower::Resolver;
use crate::canon::Expr;

/// What a FROM item is.
#[derive(Clone, Copy)]
pub enum RelationKind<'a> {
    /// A table or view outside this statement; `name` is the last name part, lowercased.
    Base,
    /// A CTE or a derived table, whose projection is known.
    Derived(&'a Query),
    /// A table function, UNNEST, PIVOT …: columns are not known.
    Opaque,
}

#[derive(Clone)]
pub struct Relation<'a> {
    /// What the query calls it: the alias, else the table's last name part (lowercased).
    pub binding: String,
    /// The table's own last name part (lowercased), for base relations.
    pub name: String,
    pub kind: RelationKind<'a>,
}

/// CTEs visible at some point of a statement, innermost last.
pub type Ctes<'a> = Vec<(String, &'a Query)>;

/// The relations of one SELECT and the CTEs it can see.
pub struct Scope<'a> {
    pub relations: Vec<Relation<'a>>,
    pub ctes: Ctes<'a>,
}

fn last_part(name: &sqlparser::ast::ObjectName) -> String {
    name.0
        .last()
        .map(|p| match p {
            sqlparser::ast::ObjectNamePart::Identifier(i) => i.value.to_lowercase(),
            other => other.to_string().to_lowercase(),
        })
        .unwrap_or_default()
}

impl<'a> Scope<'a> {
    pub fn of_select(select: &'a Select, ctes: &Ctes<'a>) -> Scope<'a> {
        let mut relations = Vec::new();
        for table in &select.from {
            collect_relations(table, ctes, &mut relations);
        }
        Scope {
            relations,
            ctes: ctes.clone(),
        }
    }

    /// Base relations this scope reads, directly or through derived ones.
    pub fn base_relations(&self, out: &mut Vec<String>, depth: usize) {
        for relation in &self.relations {
            match relation.kind {
                RelationKind::Base => out.push(relation.name.clone()),
                RelationKind::Derived(query) if depth < 16 => {
                    for select in selects_of(&query.body) {
                        Scope::of_select(select, &self.ctes_for(query))
                            .base_relations(out, depth + 1);
                    }
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
    }

    fn ctes_for(&self, query: &'a Query) -> Ctes<'a> {
        let mut ctes = self.ctes.clone();
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                ctes.push((cte.alias.name.value.to_lowercase(), &cte.query));
            }
        }
        ctes
    }

    fn resolve(&self, qualifier: Option<&str>, column: &str, depth: usize) -> Expr {
        let column_lc = column.to_lowercase();
        let relation = match qualifier {
            Some(q) => {
                let q = q.rsplit('.').next().unwrap_or(q).to_lowercase();
                self.relations
                    .iter()
                    .find(|r| r.binding == q || r.name == q)
            }
            None if self.relations.len() == 1 => self.relations.first(),
            None => {
                // Several relations: a derived one that outputs the column wins,
                // else the column belongs to one of the base tables.
                self.relations.iter().find(|r| match r.kind {
                    RelationKind::Derived(q) => output_item(q, &column_lc).is_some(),
                    _ => false,
                })
            }
        };
        let Some(relation) = relation else {
            return Expr::column(column);
        };
        match relation.kind {
            RelationKind::Base => Expr::column(column),
            RelationKind::Opaque => Expr::Opaque(format!("{}.{column_lc}", relation.binding)),
            RelationKind::Derived(query) => self.resolve_derived(query, &column_lc, depth),
        }
    }

    /// A column of a CTE or derived table: followed through pass-throughs only.
    fn resolve_derived(&self, query: &'a Query, column: &str, depth: usize) -> Expr {
        let opaque = || Expr::Opaque(format!("derived column {column}"));
        if depth > 16 {
            return opaque();
        }
        let SetExpr::Select(select) = query.body.as_ref() else {
            return opaque();
        };
        let inner = Scope::of_select(select, &self.ctes_for(query));
        match output_item(query, column) {
            Some(Output::Column(qualifier, name)) => {
                inner.resolve(qualifier.as_deref(), &name, depth + 1)
            }
            Some(Output::Wildcard) => inner.resolve(None, column, depth + 1),
            Some(Output::Computed) | None => opaque(),
        }
    }
}

/// How a derived table produces one of its output columns.
enum Output {
    /// A plain column reference (possibly renamed).
    Column(Option<String>, String),
    /// Only through `*`.
    Wildcard,
    /// An expression.
    Computed,
}

fn output_item(query: &Query, column: &str) -> Option<Output> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let mut wildcard = false;
    for item in &select.projection {
        match item {
            SelectItem::ExprWithAlias { expr, alias } if alias.value.to_lowercase() == column => {
                return Some(plain_column(expr).unwrap_or(Output::Computed));
            }
            SelectItem::UnnamedExpr(expr) => {
                if let Some(Output::Column(q, name)) = plain_column(expr) {
                    if name.to_lowercase() == column {
                        return Some(Output::Column(q, name));
                    }
                }
            }
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => wildcard = true,
            _ => {}
        }
    }
    wildcard.then_some(Output::Wildcard)
}

fn plain_column(expr: &sqlparser::ast::Expr) -> Option<Output> {
    match expr {
        sqlparser::ast::Expr::Identifier(i) => Some(Output::Column(None, i.value.clone())),
        sqlparser::ast::Expr::CompoundIdentifier(parts) => {
            let (last, rest) = parts.split_last()?;
            let qualifier = rest.last().map(|p| p.value.clone());
            Some(Output::Column(qualifier, last.value.clone()))
        }
        sqlparser::ast::Expr::Nested(e) => plain_column(e),
        _ => None,
    }
}

/// The SELECTs a set expression is made of (each branch of a UNION).
pub fn selects_of(body: &SetExpr) -> Vec<&Select> {
    match body {
        SetExpr::Select(s) => vec![s],
        SetExpr::Query(q) => selects_of(&q.body),
        SetExpr::SetOperation { left, right, .. } => {
            let mut v = selects_of(left);
            v.extend(selects_of(right));
            v
        }
        _ => Vec::new(),
    }
}

fn collect_relations<'a>(table: &'a TableWithJoins, ctes: &Ctes<'a>, out: &mut Vec<Relation<'a>>) {
    collect_factor(&table.relation, ctes, out);
    for join in &table.joins {
        collect_factor(&join.relation, ctes, out);
    }
}

fn collect_factor<'a>(factor: &'a TableFactor, ctes: &Ctes<'a>, out: &mut Vec<Relation<'a>>) {
    match factor {
        TableFactor::Table {
            name, alias, args, ..
        } => {
            let table = last_part(name);
            let binding = alias
                .as_ref()
                .map(|a| a.name.value.to_lowercase())
                .unwrap_or_else(|| table.clone());
            let cte = (name.0.len() == 1)
                .then(|| ctes.iter().rev().find(|(n, _)| *n == table))
                .flatten();
            let kind = match (cte, args) {
                (Some((_, query)), _) => RelationKind::Derived(query),
                (None, Some(_)) => RelationKind::Opaque,
                (None, None) => RelationKind::Base,
            };
            out.push(Relation {
                binding,
                name: table,
                kind,
            });
        }
        TableFactor::Derived {
            subquery, alias, ..
        } => out.push(Relation {
            binding: alias
                .as_ref()
                .map(|a| a.name.value.to_lowercase())
                .unwrap_or_default(),
            name: String::new(),
            kind: RelationKind::Derived(subquery),
        }),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => collect_relations(table_with_joins, ctes, out),
        _ => out.push(Relation {
            binding: String::new(),
            name: String::new(),
            kind: RelationKind::Opaque,
        }),
    }
}

impl Resolver for Scope<'_> {
    fn column(&self, qualifier: Option<&str>, name: &str) -> Expr {
        self.resolve(qualifier, name, 0)
    }
}
