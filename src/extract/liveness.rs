//! Which columns of a file's temporary tables reach anything.
//!
//! A procedure builds temporary tables step by step and writes some of their
//! columns to the tables it publishes. A temporary table's column that no
//! later statement reads, or that only feeds columns nothing reads in turn
//! (a gross profit worked out and never inserted), is no figure of any
//! report: its computation is judged by no one, so metriclint judges it by
//! nothing either.
//!
//! Liveness is by column name, whatever the table, which can only keep a
//! column alive that is in fact dead, never the other way round. A `*` in a
//! statement that is not a temporary table's step keeps every column alive.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use sqlparser::ast::{Expr as AstExpr, SelectItem, SetExpr, Statement, Visit, Visitor};

use super::scope::last_part;

/// An output column of a temporary table's step, with the column names its
/// expression reads.
type Output = (String, BTreeSet<String>);

/// What one statement of a file reads, for the liveness of the columns of
/// the temporary tables built before it.
pub struct StatementUse {
    /// For a temporary table's `CREATE … AS SELECT`: the table, and each
    /// output column with the column names its expression reads. `None` for
    /// any other statement.
    outputs: Option<(String, Vec<Output>)>,
    /// The tables it reads (last name parts, lowercased).
    tables: BTreeSet<String>,
    /// The column names it reads anywhere else (every one, for a statement
    /// that is no temporary table's step).
    elsewhere: BTreeSet<String>,
    /// A `*` outside a temporary table's step.
    reads_everything: bool,
}

/// Whether a statement builds a temporary table from a query (`CREATE TEMP
/// TABLE _x AS SELECT …`, SQL Server's `#x`).
pub fn is_temporary_step(statement: &Statement) -> bool {
    matches!(statement, Statement::CreateTable(t) if t.query.is_some() && is_temporary(t))
}

impl StatementUse {
    pub fn of(statement: &Statement) -> Self {
        let temporary_step = match statement {
            Statement::CreateTable(t) if is_temporary(t) => t.query.as_deref(),
            _ => None,
        };
        let select = temporary_step.and_then(|q| match q.body.as_ref() {
            SetExpr::Select(s) => Some(s.as_ref()),
            _ => None,
        });
        let tables = tables_read(statement);
        let Some(select) = select else {
            return StatementUse {
                outputs: None,
                tables,
                elsewhere: names_read(statement).into_keys().collect(),
                reads_everything: has_wildcard(statement),
            };
        };
        let mut outputs = Vec::new();
        let mut in_outputs: BTreeMap<String, usize> = BTreeMap::new();
        for item in &select.projection {
            let (name, expr) = match item {
                SelectItem::ExprWithAlias { expr, alias } => (alias.value.to_lowercase(), expr),
                SelectItem::UnnamedExpr(expr) => match expr {
                    AstExpr::Identifier(i) => (i.value.to_lowercase(), expr),
                    AstExpr::CompoundIdentifier(parts) => match parts.last() {
                        Some(last) => (last.value.to_lowercase(), expr),
                        None => continue,
                    },
                    _ => continue,
                },
                // `o.*` passes each column on under its own name: a live
                // name stays live, whichever table it is read from.
                _ => continue,
            };
            let reads = names_read(expr);
            for (read, times) in &reads {
                *in_outputs.entry(read.clone()).or_default() += times;
            }
            outputs.push((name, reads.into_keys().collect()));
        }
        // Everything else it reads (its WHERE, joins, CTEs: a name read
        // more often than its outputs read it) counts once any of its
        // outputs does.
        let elsewhere = names_read(statement)
            .into_iter()
            .filter(|(name, times)| in_outputs.get(name).is_none_or(|n| times > n))
            .map(|(name, _)| name)
            .collect();
        let table = match statement {
            Statement::CreateTable(t) => last_part(&t.name),
            _ => String::new(),
        };
        StatementUse {
            outputs: Some((table, outputs)),
            tables,
            elsewhere,
            reads_everything: false,
        }
    }
}

/// The (statement, output column) pairs of temporary tables' steps whose
/// column nothing reads, by statement index in the file. A temporary table
/// no later statement of the file reads may be read outside it (by the
/// script that ran it): its columns are all live.
pub fn dead_columns(uses: &[(usize, StatementUse)]) -> BTreeSet<(usize, String)> {
    let mut dead = BTreeSet::new();
    if uses.iter().any(|(_, u)| u.reads_everything) {
        return dead;
    }
    let mut live: BTreeSet<String> = BTreeSet::new();
    let mut tables_read_later: BTreeSet<&str> = BTreeSet::new();
    for (statement, used) in uses.iter().rev() {
        let read_in_the_file = match &used.outputs {
            Some((table, _)) => tables_read_later.contains(table.as_str()),
            None => false,
        };
        tables_read_later.extend(used.tables.iter().map(String::as_str));
        match &used.outputs {
            None => live.extend(used.elsewhere.iter().cloned()),
            Some((_, outputs)) if !read_in_the_file => {
                for (_, reads) in outputs {
                    live.extend(reads.iter().cloned());
                }
                live.extend(used.elsewhere.iter().cloned());
            }
            Some((_, outputs)) => {
                let mut any_live = false;
                let mut now_read = Vec::new();
                for (name, reads) in outputs {
                    if live.contains(name) {
                        any_live = true;
                        now_read.extend(reads.iter().cloned());
                    } else {
                        dead.insert((*statement, name.clone()));
                    }
                }
                live.extend(now_read);
                if any_live {
                    live.extend(used.elsewhere.iter().cloned());
                }
            }
        }
    }
    dead
}

/// The tables a statement reads (last name parts, lowercased).
fn tables_read(statement: &Statement) -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    let _ = sqlparser::ast::visit_relations(statement, |name| {
        tables.insert(last_part(name));
        ControlFlow::<()>::Continue(())
    });
    tables
}

fn is_temporary(table: &sqlparser::ast::CreateTable) -> bool {
    table.temporary
        || table
            .name
            .0
            .last()
            .is_some_and(|part| part.to_string().starts_with('#'))
}

/// The column names an AST node reads (last name parts, lowercased), with
/// how often.
fn names_read<V: Visit>(node: &V) -> BTreeMap<String, usize> {
    struct Names(BTreeMap<String, usize>);
    impl Visitor for Names {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &AstExpr) -> ControlFlow<()> {
            match expr {
                AstExpr::Identifier(i) => {
                    *self.0.entry(i.value.to_lowercase()).or_default() += 1;
                }
                AstExpr::CompoundIdentifier(parts) => {
                    if let Some(last) = parts.last() {
                        *self.0.entry(last.value.to_lowercase()).or_default() += 1;
                    }
                }
                _ => {}
            }
            ControlFlow::Continue(())
        }
    }
    let mut names = Names(BTreeMap::new());
    let _ = node.visit(&mut names);
    names.0
}

fn has_wildcard(statement: &Statement) -> bool {
    struct Wildcards(bool);
    impl Visitor for Wildcards {
        type Break = ();
        fn pre_visit_query(&mut self, query: &sqlparser::ast::Query) -> ControlFlow<()> {
            for select in super::selects_of(&query.body) {
                self.0 |= select.projection.iter().any(|item| {
                    matches!(
                        item,
                        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
                    )
                });
            }
            ControlFlow::Continue(())
        }
    }
    let mut found = Wildcards(false);
    let _ = statement.visit(&mut found);
    found.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead(sql: &str) -> Vec<(usize, String)> {
        let dialect = sqlparser::dialect::SnowflakeDialect {};
        let statements = sqlparser::parser::Parser::parse_sql(&dialect, sql).unwrap();
        let uses: Vec<(usize, StatementUse)> = statements
            .iter()
            .enumerate()
            .map(|(i, s)| (i, StatementUse::of(s)))
            .collect();
        dead_columns(&uses).into_iter().collect()
    }

    #[test]
    fn a_column_only_a_dead_column_reads_is_dead() {
        let sql = "CREATE TEMP TABLE _orders AS SELECT store, SUM(margin_local) AS margin, SUM(revenue_usd) AS revenue FROM orders GROUP BY 1;
                   CREATE TEMP TABLE _gm AS SELECT store, revenue, margin - 1 AS gross_profit FROM _orders;
                   CREATE TEMP TABLE _gm_women AS SELECT DISTINCT 'w' AS category, o.* FROM _gm o;
                   INSERT INTO published SELECT store, revenue FROM _gm_women;";
        assert_eq!(
            dead(sql),
            vec![
                (0, "margin".to_string()),
                (1, "gross_profit".to_string()),
                (2, "category".to_string())
            ]
        );
    }

    #[test]
    fn what_a_published_statement_reads_or_a_star_reaches_is_live() {
        let reads_margin = "CREATE TEMP TABLE _orders AS SELECT store, SUM(margin_local) AS margin FROM orders GROUP BY 1;
                            INSERT INTO published SELECT store, margin FROM _orders;";
        assert!(dead(reads_margin).is_empty());
        let star = "CREATE TEMP TABLE _orders AS SELECT store, SUM(margin_local) AS margin FROM orders GROUP BY 1;
                    INSERT INTO published SELECT * FROM _orders;";
        assert!(dead(star).is_empty());
        let filtered = "CREATE TEMP TABLE _orders AS SELECT store, SUM(margin_local) AS margin FROM orders GROUP BY 1;
                        INSERT INTO published SELECT store FROM _orders WHERE margin > 0;";
        assert!(dead(filtered).is_empty());
        // A dead output's column also read in the WHERE of a live step.
        let scoped = "CREATE TEMP TABLE _orders AS SELECT store, SUM(margin_local) AS margin FROM orders GROUP BY 1;
                      CREATE TEMP TABLE _kept AS SELECT store, SUM(margin) AS unused FROM _orders WHERE margin > 0 GROUP BY 1;
                      INSERT INTO published SELECT store FROM _kept;";
        assert_eq!(dead(scoped), vec![(1, "unused".to_string())]);
        let persistent = "CREATE TABLE orders_agg AS SELECT store, SUM(margin_local) AS margin FROM orders GROUP BY 1;";
        assert!(dead(persistent).is_empty());
        // Read by no later statement, a temporary table may be read by the
        // script that ran the file.
        let left_for_the_caller = "CREATE TEMP TABLE _orders AS SELECT store, SUM(margin_local) AS margin FROM orders GROUP BY 1;
                                   INSERT INTO published SELECT store FROM other_orders;";
        assert!(dead(left_for_the_caller).is_empty());
    }
}
