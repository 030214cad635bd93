//! Prints the canonical form as readable, lowercase SQL.
//!
//! The text is what users see in messages (`found`/`expected`), so it reads like
//! the SQL they would write: `sum(spend) * 1000 / sum(impressions)`.

use std::fmt::{self, Display, Write};

use super::{CompareOp, Expr, Number, Product};

/// Binding strength, loosest first; a child binding looser than its slot is parenthesised.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Prec {
    Or,
    And,
    Not,
    Compare,
    Sum,
    Product,
    Atom,
}

fn prec(expr: &Expr) -> Prec {
    match expr {
        Expr::Or(_) => Prec::Or,
        Expr::And(_) => Prec::And,
        Expr::Not(_) => Prec::Not,
        Expr::Compare(..) | Expr::IsNull(_) | Expr::InList { .. } => Prec::Compare,
        Expr::Sum(_) => Prec::Sum,
        Expr::Product(_) => Prec::Product,
        Expr::Number(n) if n.is_negative() => Prec::Sum,
        _ => Prec::Atom,
    }
}

struct At<'a>(&'a Expr, Prec);

impl Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if prec(self.0) < self.1 {
            write!(f, "({})", self.0)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

fn join(f: &mut fmt::Formatter<'_>, items: &[Expr], sep: &str, slot: Prec) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{}", At(item, slot))?;
    }
    Ok(())
}

/// Whether `1 / den` is a terminating decimal (`den` is 2^a * 5^b).
fn terminates(mut den: i128) -> bool {
    if den <= 0 {
        return false;
    }
    while den % 2 == 0 {
        den /= 2;
    }
    while den % 5 == 0 {
        den /= 5;
    }
    den == 1
}

fn print_product(f: &mut fmt::Formatter<'_>, p: &Product) -> fmt::Result {
    let mut numerator: Vec<String> = Vec::new();
    let mut denominator: Vec<String> = Vec::new();
    for factor in &p.factors {
        // Inside a product, a sum needs parentheses; a nested ratio cannot occur.
        let text = At(&factor.expr, Prec::Atom).to_string();
        if factor.inverse {
            denominator.push(text);
        } else {
            numerator.push(text);
        }
    }
    let mut sign = "";
    let mut coefficient = p.coefficient.clone();
    if coefficient.is_negative() {
        sign = "-";
        coefficient = coefficient.neg().unwrap_or(coefficient);
    }
    if let Number::Ratio { num, den } = &coefficient {
        if *num != 1 && *den != 1 && terminates(*den) {
            // `* 0.66` as the user wrote it, not `* 33 / 50`.
            numerator.push(coefficient.to_string());
        } else {
            if *num != 1 {
                numerator.push(num.to_string());
            }
            if *den != 1 {
                denominator.push(den.to_string());
            }
        }
    } else {
        numerator.push(coefficient.to_string());
    }
    if numerator.is_empty() {
        numerator.push("1".to_string());
    }
    f.write_str(sign)?;
    f.write_str(&numerator.join(" * "))?;
    match denominator.len() {
        0 => Ok(()),
        1 => write!(f, " / {}", denominator[0]),
        _ => write!(f, " / ({})", denominator.join(" * ")),
    }
}

/// Messages show a form with a precision (`{found:.120}`): a longer form is
/// elided in its middle, so a lineage-inlined CASE of hundreds of characters
/// still reads as its start and its end. Machine fields keep it whole.
impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(limit) = f.precision() else {
            return Whole(self).fmt(f);
        };
        f.write_str(&elide_middle(&Whole(self).to_string(), limit))
    }
}

/// `text` as it is when at most `limit` characters long, else its start and
/// its end with ` … ` between.
pub fn elide_middle(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let head: String = text.chars().take(limit * 2 / 3).collect();
    let tail: String = {
        let all: Vec<char> = text.chars().collect();
        all[all.len() - limit / 3..].iter().collect()
    };
    format!("{head} … {tail}")
}

/// Two forms printed to be told apart, each at most about `limit`
/// characters: where one is longer, what both start and end with is elided
/// (`… then 'MATRIX' …`), so that the part that differs stays in view;
/// then, if still long, its middle.
pub fn elide_apart(a: &Expr, b: &Expr, limit: usize) -> (String, String) {
    let (a, b) = (Whole(a).to_string(), Whole(b).to_string());
    let (a_chars, b_chars): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a_chars.len() <= limit && b_chars.len() <= limit {
        return (a, b);
    }
    const CONTEXT: usize = 12;
    let prefix = a_chars
        .iter()
        .zip(&b_chars)
        .take_while(|(x, y)| x == y)
        .count();
    let shortest = a_chars.len().min(b_chars.len());
    let suffix = a_chars
        .iter()
        .rev()
        .zip(b_chars.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
        .min(shortest - prefix);
    let cut = |chars: &[char]| {
        let start = prefix.saturating_sub(CONTEXT);
        let end = (chars.len() - suffix + CONTEXT).min(chars.len());
        let kept: String = chars[start..end].iter().collect();
        let mut out = String::new();
        if start > 0 {
            out.push_str("… ");
        }
        out.push_str(kept.trim());
        if end < chars.len() {
            out.push_str(" …");
        }
        elide_middle(&out, limit)
    };
    (cut(&a_chars), cut(&b_chars))
}

/// The whole printed form.
struct Whole<'e>(&'e Expr);

impl Display for Whole<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Expr::Column(name) => f.write_str(name),
            Expr::Number(n) => write!(f, "{n}"),
            Expr::String(s) => {
                f.write_char('\'')?;
                f.write_str(&s.replace('\'', "''"))?;
                f.write_char('\'')
            }
            Expr::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
            Expr::Null => f.write_str("null"),
            Expr::Star => f.write_char('*'),
            Expr::Aggregate(agg) => {
                write!(f, "{}(", agg.func.name())?;
                if agg.distinct {
                    f.write_str("distinct ")?;
                }
                write!(f, "{})", agg.arg)?;
                let conditions =
                    super::conjuncts(agg.filter.iter().chain(agg.scope.iter()).cloned().collect());
                if !conditions.is_empty() {
                    f.write_str(" filter (where ")?;
                    join(f, &conditions, " and ", Prec::Not)?;
                    f.write_char(')')?;
                }
                Ok(())
            }
            Expr::Sum(terms) => {
                for (i, term) in terms.iter().enumerate() {
                    match (i, term.negated) {
                        (0, false) => {}
                        (0, true) => f.write_char('-')?,
                        (_, false) => f.write_str(" + ")?,
                        (_, true) => f.write_str(" - ")?,
                    }
                    let slot = if term.negated {
                        Prec::Product
                    } else {
                        Prec::Sum
                    };
                    write!(f, "{}", At(&term.expr, slot))?;
                }
                Ok(())
            }
            Expr::Product(p) => print_product(f, p),
            Expr::Compare(op, l, r) => {
                let op = match op {
                    CompareOp::Eq => "=",
                    CompareOp::NotEq => "<>",
                    CompareOp::Lt => "<",
                    CompareOp::LtEq => "<=",
                };
                write!(f, "{} {op} {}", At(l, Prec::Sum), At(r, Prec::Sum))
            }
            Expr::And(v) => join(f, v, " and ", Prec::Not),
            Expr::Or(v) => join(f, v, " or ", Prec::And),
            // `flag = false` reads better than `not flag` in a message.
            Expr::Not(e) if matches!(**e, Expr::Column(_)) => write!(f, "{e} = false"),
            Expr::Not(e) => write!(f, "not {}", At(e, Prec::Compare)),
            Expr::IsNull(e) => write!(f, "{} is null", At(e, Prec::Sum)),
            Expr::InList { expr, list } => {
                write!(f, "{} in (", At(expr, Prec::Sum))?;
                join(f, list, ", ", Prec::Or)?;
                f.write_char(')')
            }
            Expr::Case {
                operand,
                branches,
                otherwise,
            } => {
                f.write_str("case")?;
                if let Some(o) = operand {
                    write!(f, " {o}")?;
                }
                for (when, then) in branches {
                    write!(f, " when {when} then {then}")?;
                }
                if let Some(o) = otherwise {
                    write!(f, " else {o}")?;
                }
                f.write_str(" end")
            }
            Expr::Function { name, args } => {
                write!(f, "{name}(")?;
                join(f, args, ", ", Prec::Or)?;
                f.write_char(')')
            }
            Expr::Cast { expr, to } => write!(f, "cast({expr} as {to})"),
            // In the name the report reads, not the raw column upstream.
            Expr::Renamed { alias, .. } => f.write_str(alias),
            Expr::MetricRef(name) => write!(f, "metric('{name}')"),
            Expr::Opaque(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_form_is_elided_in_its_middle_only_when_asked() {
        let column = |n: usize| Expr::column(&format!("column_number_{n}"));
        let long = Expr::aggregate(
            crate::canon::AggFunc::Sum,
            false,
            Expr::Function {
                name: "coalesce".to_string(),
                args: (0..12).map(column).collect(),
            },
            Vec::new(),
        );
        let whole = long.to_string();
        assert!(whole.len() > 100 && !whole.contains('…'));
        let short = format!("{long:.60}");
        assert!(short.starts_with("sum(coalesce(column_number_0"), "{short}");
        assert!(short.ends_with("column_number_11))"), "{short}");
        assert!(
            short.contains(" … ") && short.chars().count() <= 63,
            "{short}"
        );
        // A short form is as it is.
        assert_eq!(format!("{:.60}", column(1)), "column_number_1");
    }

    #[test]
    fn two_long_forms_keep_the_part_they_differ_in() {
        let form = |cost: &str| {
            let mut args: Vec<Expr> = (0..10)
                .map(|n| Expr::column(&format!("category_override_{n}")))
                .collect();
            args.push(Expr::column(cost));
            Expr::aggregate(
                crate::canon::AggFunc::Sum,
                false,
                Expr::Function {
                    name: "coalesce".to_string(),
                    args,
                },
                Vec::new(),
            )
        };
        let (avg, actual) = (form("ext_avg_cogs_amount"), form("ext_actual_cogs_amount"));
        let (a, b) = elide_apart(&avg, &actual, 60);
        assert!(
            a.contains("ext_avg_cogs_amount") && a.starts_with("… "),
            "{a}"
        );
        assert!(b.contains("ext_actual_cogs_amount"), "{b}");
        assert!(
            a.chars().count() <= 63 && b.chars().count() <= 63,
            "{a} / {b}"
        );
        // Short forms are as they are.
        let (x, y) = (Expr::column("clicks"), Expr::column("taps"));
        assert_eq!(elide_apart(&x, &y, 60), ("clicks".into(), "taps".into()));
    }

    /// The form of `expr` as a report computes it.
    fn printed(expr: &str) -> String {
        let text = format!("SELECT {expr} AS m FROM t");
        let dialect = sqlparser::dialect::GenericDialect {};
        let statements = sqlparser::parser::Parser::parse_sql(&dialect, &text).unwrap();
        let sites = crate::extract::extract_sites(&statements, &text, &|_| true);
        sites[0].computation.to_string()
    }

    #[test]
    fn constant_factors_read_as_written() {
        for (written, shown) in [
            ("SUM(x) * 0.66", "sum(x) * 0.66"),
            ("0.66 * SUM(x)", "sum(x) * 0.66"),
            ("SUM(x) * 1.5", "sum(x) * 1.5"),
            ("SUM(x) / 100", "sum(x) / 100"),
            ("SUM(x) * 1000 / SUM(y)", "sum(x) * 1000 / sum(y)"),
            ("SUM(x) * 2 / 3", "sum(x) * 2 / 3"),
            // A unit fraction reads as a division.
            ("-SUM(x) * 0.25", "-sum(x) / 4"),
        ] {
            assert_eq!(printed(written), shown, "{written}");
        }
    }
}
