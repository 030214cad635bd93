//! Properties of the canonical form, on generated report expressions:
//! equivalent renderings of one computation canonicalise alike, and printing a
//! canonical form then reading it back gives the same form.

use metriclint::canon::Expr;
use metriclint::extract::extract_sites;
use metriclint::parse::parse_file;
use proptest::prelude::*;
use sqlparser::dialect::GenericDialect;

/// A computation, independent of how it is spelled.
#[derive(Clone, Debug)]
enum Gen {
    Column(&'static str),
    Number(u32),
    Sum(Box<Gen>, Box<Gen>),
    Difference(Box<Gen>, Box<Gen>),
    Product(Box<Gen>, Box<Gen>),
    Quotient(Box<Gen>, Box<Gen>),
    Aggregate(&'static str, Box<Gen>),
    Conditional(&'static str, Predicate, Box<Gen>),
}

#[derive(Clone, Debug)]
enum Predicate {
    Equals(&'static str, &'static str),
    Both(Box<Predicate>, Box<Predicate>),
    Either(Box<Predicate>, Box<Predicate>),
}

const COLUMNS: &[&str] = &["clicks", "impressions", "spend", "bids", "wins"];
const FLAGS: &[(&str, &str)] = &[
    ("integration_type", "'s2s'"),
    ("device_type", "'ctv'"),
    ("country", "'US'"),
];

fn predicate() -> impl Strategy<Value = Predicate> {
    let leaf = prop::sample::select(FLAGS).prop_map(|(c, v)| Predicate::Equals(c, v));
    leaf.prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Predicate::Both(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Predicate::Either(Box::new(a), Box::new(b))),
        ]
    })
}

/// Row-level expressions, then aggregates over them, then arithmetic on those.
fn computation() -> impl Strategy<Value = Gen> {
    let row = prop_oneof![
        prop::sample::select(COLUMNS).prop_map(Gen::Column),
        (1u32..5).prop_map(Gen::Number),
    ];
    let aggregate = (
        prop::sample::select(&["sum", "max", "min", "count"][..]),
        row.clone(),
        prop::option::of(predicate()),
    )
        .prop_map(|(f, x, p)| match p {
            Some(p) => Gen::Conditional(f, p, Box::new(x)),
            None => Gen::Aggregate(f, Box::new(x)),
        });
    aggregate.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Gen::Sum(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Gen::Difference(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Gen::Product(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Gen::Quotient(Box::new(a), Box::new(b))),
        ]
    })
}

/// How to spell a computation: each choice must not change its meaning.
struct Spelling {
    choices: Vec<bool>,
    next: usize,
    alias: &'static str,
}

impl Spelling {
    fn flip(&mut self) -> bool {
        let b = self
            .choices
            .get(self.next % self.choices.len().max(1))
            .copied()
            .unwrap_or(false);
        self.next += 1;
        b
    }

    fn predicate(&mut self, p: &Predicate) -> String {
        match p {
            Predicate::Equals(c, v) => {
                if self.flip() {
                    format!("{v} = {}.{c}", self.alias)
                } else {
                    format!("{} = {v}", c.to_uppercase())
                }
            }
            Predicate::Both(a, b) => self.pair(a, b, "AND"),
            Predicate::Either(a, b) => self.pair(a, b, "OR"),
        }
    }

    fn pair(&mut self, a: &Predicate, b: &Predicate, op: &str) -> String {
        let (a, b) = (self.predicate(a), self.predicate(b));
        if self.flip() {
            format!("({b} {op} {a})")
        } else {
            format!("({a} {op} {b})")
        }
    }

    fn commutative(&mut self, a: &Gen, b: &Gen, op: &str) -> String {
        let (a, b) = (self.render(a), self.render(b));
        if self.flip() {
            format!("({b} {op} {a})")
        } else {
            format!("({a} {op} {b})")
        }
    }

    fn render(&mut self, g: &Gen) -> String {
        let text = match g {
            Gen::Column(c) => {
                if self.flip() {
                    format!("{}.\"{c}\"", self.alias)
                } else {
                    c.to_uppercase()
                }
            }
            Gen::Number(n) => {
                if self.flip() {
                    format!("{n}.0")
                } else {
                    n.to_string()
                }
            }
            Gen::Sum(a, b) => self.commutative(a, b, "+"),
            Gen::Product(a, b) => self.commutative(a, b, "*"),
            Gen::Difference(a, b) => format!("({} - {})", self.render(a), self.render(b)),
            Gen::Quotient(a, b) => {
                let (a, b) = (self.render(a), self.render(b));
                if self.flip() {
                    format!("({a} / NULLIF({b}, 0))")
                } else {
                    format!("({a} / {b})")
                }
            }
            Gen::Aggregate(f, x) => format!("{}({})", f.to_uppercase(), self.render(x)),
            Gen::Conditional(f, p, x) => {
                let (p, x) = (self.predicate(p), self.render(x));
                if self.flip() && *f != "count" {
                    format!("{f}({x}) FILTER (WHERE {p})")
                } else {
                    format!("{f}(CASE WHEN {p} THEN {x} END)")
                }
            }
        };
        // A numeric cast never changes a metric.
        if self.flip() && self.flip() {
            format!("CAST({text} AS DOUBLE)")
        } else {
            text
        }
    }
}

fn canonical(expr_sql: &str, alias: &str) -> Expr {
    let sql = format!("SELECT {expr_sql} AS m FROM fct AS {alias}");
    let parsed = parse_file(&sql, &GenericDialect {});
    assert!(parsed.failures.is_empty(), "{sql}: {:?}", parsed.failures);
    let mut sites = extract_sites(&parsed.statements, &sql, &|n: &str| n == "m");
    assert_eq!(sites.len(), 1, "{sql}");
    sites.pop().unwrap().computation
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn spellings_of_one_computation_canonicalise_alike(
        g in computation(),
        first in prop::collection::vec(any::<bool>(), 1..40),
        second in prop::collection::vec(any::<bool>(), 1..40),
    ) {
        let a = Spelling { choices: first, next: 0, alias: "e" }.render(&g);
        let b = Spelling { choices: second, next: 0, alias: "x" }.render(&g);
        prop_assert_eq!(canonical(&a, "e"), canonical(&b, "x"), "\n{}\n{}", a, b);
    }

    #[test]
    fn printing_and_reading_back_is_the_same_form(g in computation(), choices in prop::collection::vec(any::<bool>(), 1..40)) {
        let sql = Spelling { choices, next: 0, alias: "e" }.render(&g);
        let once = canonical(&sql, "e");
        let printed = once.to_string();
        let twice = canonical(&printed, "e");
        prop_assert_eq!(&once, &twice, "\n{}\n{}", sql, printed);
        // Canonicalising is idempotent: the printed form prints the same.
        prop_assert_eq!(printed, twice.to_string());
    }
}
