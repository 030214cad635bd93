//! Exact numeric literals for the canonical form.
//!
//! Literals are kept as reduced fractions so that `1`, `1.0`, `1e0` and `100/100`
//! are one value, and constant factors (`* 1000`, `/ 1e6`) fold exactly.

use std::fmt;

/// A numeric literal: an exact fraction, or the literal's text when it does not fit.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Number {
    /// `num / den`, reduced, `den > 0`.
    Ratio { num: i128, den: i128 },
    /// A literal too large or too precise for an exact fraction (kept verbatim, lowercased).
    Text(String),
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

impl Number {
    pub const ONE: Number = Number::Ratio { num: 1, den: 1 };

    pub fn int(n: i128) -> Number {
        Number::Ratio { num: n, den: 1 }
    }

    fn ratio(num: i128, den: i128) -> Option<Number> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let (mut num, mut den) = (num / g, den / g);
        if den < 0 {
            num = num.checked_neg()?;
            den = den.checked_neg()?;
        }
        Some(Number::Ratio { num, den })
    }

    /// Parses a SQL numeric literal such as `1`, `1.0`, `.5`, `1e6`, `2.5E-3`.
    pub fn parse(text: &str) -> Number {
        Self::parse_exact(text).unwrap_or_else(|| Number::Text(text.to_ascii_lowercase()))
    }

    fn parse_exact(text: &str) -> Option<Number> {
        let text = text.trim();
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (&text[..at], text[at + 1..].parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let digits = format!("{int_part}{frac_part}");
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 30 {
            return None;
        }
        let mut num: i128 = digits.parse().ok()?;
        let mut den: i128 = 1;
        let scale = exponent - frac_part.len() as i32;
        if scale.unsigned_abs() > 30 {
            return None;
        }
        let factor = 10i128.checked_pow(scale.unsigned_abs())?;
        if scale >= 0 {
            num = num.checked_mul(factor)?;
        } else {
            den = factor;
        }
        Self::ratio(num, den)
    }

    pub fn is_one(&self) -> bool {
        *self == Number::ONE
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Number::Ratio { num: 0, .. })
    }

    /// The product, or `None` when either side is not exact or it overflows.
    pub fn mul(&self, other: &Number) -> Option<Number> {
        match (self, other) {
            (Number::Ratio { num: a, den: b }, Number::Ratio { num: c, den: d }) => {
                // Cross-reduce first to keep the intermediates small.
                let g1 = gcd(*a, *d).max(1);
                let g2 = gcd(*c, *b).max(1);
                let num = (a / g1).checked_mul(c / g2)?;
                let den = (b / g2).checked_mul(d / g1)?;
                Self::ratio(num, den)
            }
            _ => None,
        }
    }

    pub fn add(&self, other: &Number) -> Option<Number> {
        match (self, other) {
            (Number::Ratio { num: a, den: b }, Number::Ratio { num: c, den: d }) => {
                let num = a.checked_mul(*d)?.checked_add(c.checked_mul(*b)?)?;
                Self::ratio(num, b.checked_mul(*d)?)
            }
            _ => None,
        }
    }

    pub fn recip(&self) -> Option<Number> {
        match self {
            Number::Ratio { num, den } => Self::ratio(*den, *num),
            Number::Text(_) => None,
        }
    }

    pub fn neg(&self) -> Option<Number> {
        match self {
            Number::Ratio { num, den } => Some(Number::Ratio {
                num: num.checked_neg()?,
                den: *den,
            }),
            Number::Text(_) => None,
        }
    }

    pub fn is_negative(&self) -> bool {
        matches!(self, Number::Ratio { num, .. } if *num < 0)
    }

    /// The value as a float, for words such as "percent (×100)".
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Ratio { num, den } => Some(*num as f64 / *den as f64),
            Number::Text(t) => t.parse().ok(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Text(text) => f.write_str(text),
            Number::Ratio { num, den: 1 } => write!(f, "{num}"),
            Number::Ratio { num, den } => {
                // Exact decimal when the denominator is 2^a * 5^b, else a fraction.
                let mut d = *den;
                while d % 2 == 0 {
                    d /= 2;
                }
                while d % 5 == 0 {
                    d /= 5;
                }
                if d == 1 {
                    let mut digits = 0u32;
                    while 10i128.pow(digits) % den != 0 {
                        digits += 1;
                    }
                    let scaled = num * (10i128.pow(digits) / den);
                    let sign = if scaled < 0 { "-" } else { "" };
                    let abs = scaled.unsigned_abs();
                    let unit = 10u128.pow(digits);
                    write!(
                        f,
                        "{sign}{}.{:0width$}",
                        abs / unit,
                        abs % unit,
                        width = digits as usize
                    )
                } else {
                    write!(f, "{num}/{den}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_value_are_equal() {
        let same = [
            ("1", "1.0"),
            ("1", "1.000"),
            ("1000", "1e3"),
            ("1000", "1000.0"),
            ("0.5", ".5"),
            ("0.001", "1e-3"),
            ("1000000", "1E6"),
        ];
        for (a, b) in same {
            assert_eq!(Number::parse(a), Number::parse(b), "{a} vs {b}");
        }
    }

    #[test]
    fn different_values_differ() {
        let differ = [("1", "10"), ("100", "1000"), ("0.1", "0.01"), ("1", "-1")];
        for (a, b) in differ {
            assert_ne!(Number::parse(a), Number::parse(b), "{a} vs {b}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        let thousand = Number::parse("1000");
        let milli = thousand.recip().unwrap();
        assert_eq!(milli.to_string(), "0.001");
        assert!(thousand.mul(&milli).unwrap().is_one());
        assert_eq!(Number::parse("1").recip().unwrap(), Number::ONE);
        assert_eq!(Number::int(3).recip().unwrap().to_string(), "1/3");
        assert_eq!(
            Number::parse("0.25").add(&Number::parse("0.75")).unwrap(),
            Number::ONE
        );
        assert_eq!(Number::parse("-2.5").to_string(), "-2.5");
    }

    #[test]
    fn huge_literals_are_kept_verbatim() {
        assert!(matches!(Number::parse("1e400"), Number::Text(_)));
        assert!(matches!(Number::parse("0x1F"), Number::Text(_)));
    }
}
