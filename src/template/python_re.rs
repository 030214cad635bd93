//! `modules.re`: Python's `re` module as dbt hands it to templates, for the
//! macros that slug, match or split names while rendering (dbt_utils'
//! `slugify`, a project's `modules.re.match(...)` on a model's name).
//!
//! Patterns are read by `fancy-regex`, which knows Python's syntax where
//! templates use it (groups, `(?P<name>…)`, look-around, back-references).

use std::sync::Arc;

use fancy_regex::{Captures, Regex};
use minijinja::value::{Kwargs, Object, Value};
use minijinja::{Error, ErrorKind, State};

use super::python_call::{error, split_args};

// Python's flag values (`re.IGNORECASE` is 2), as templates pass them.
const IGNORECASE: i64 = 2;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const VERBOSE: i64 = 64;

/// The `re` module.
#[derive(Debug)]
pub struct PythonRe;

impl PythonRe {
    pub fn value() -> Value {
        Value::from_object(PythonRe)
    }
}

impl Object for PythonRe {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let flag = match key.as_str()? {
            "I" | "IGNORECASE" => IGNORECASE,
            "M" | "MULTILINE" => MULTILINE,
            "S" | "DOTALL" => DOTALL,
            "X" | "VERBOSE" => VERBOSE,
            _ => return None,
        };
        Some(Value::from(flag))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, named) = split_args(args)?;
        let Some((pattern, rest)) = positional.split_first() else {
            return Err(error(format!("re.{method}() needs a pattern")));
        };
        let pattern = text(pattern, "pattern")?;
        if method == "escape" {
            return Ok(Value::from(fancy_regex::escape(&pattern).into_owned()));
        }
        // The flags come last among the positional arguments, or by name.
        let flags_at = match method {
            "sub" | "subn" => 3,
            "split" => 2,
            "finditer" => 1,
            "compile" => 0,
            _ => 1,
        };
        let flags = named_or_at(rest, &named, "flags", flags_at)?.unwrap_or(0);
        let pattern = Arc::new(Pattern::compile(&pattern, flags)?);
        if method == "compile" {
            return Ok(Value::from_object(PatternObject(pattern)));
        }
        pattern.call(method, rest, &named)
    }
}

/// A compiled pattern, as `re.compile(…)` gives it.
#[derive(Debug)]
struct PatternObject(Arc<Pattern>);

impl Object for PatternObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        (key.as_str()? == "pattern").then(|| Value::from(self.0.source.clone()))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, named) = split_args(args)?;
        self.0.call(method, &positional, &named)
    }
}

#[derive(Debug)]
struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    fn compile(source: &str, flags: i64) -> Result<Pattern, Error> {
        let mut inline = String::new();
        for (flag, letter) in [
            (IGNORECASE, 'i'),
            (MULTILINE, 'm'),
            (DOTALL, 's'),
            (VERBOSE, 'x'),
        ] {
            if flags & flag != 0 {
                inline.push(letter);
            }
        }
        let written = if inline.is_empty() {
            source.to_string()
        } else {
            format!("(?{inline}){source}")
        };
        let regex = Regex::new(&written)
            .map_err(|e| error(format!("re cannot read the pattern {source:?}: {e}")))?;
        Ok(Pattern {
            source: source.to_string(),
            regex,
        })
    }

    /// `method` of the pattern on the rest of the arguments (the string first).
    fn call(&self, method: &str, args: &[Value], named: &Kwargs) -> Result<Value, Error> {
        let subject = |at: usize, name: &str| -> Result<String, Error> {
            match args.get(at).cloned().or_else(|| named.get(name).ok()) {
                Some(value) => text(&value, name),
                None => Err(error(format!("re.{method}() needs {name}"))),
            }
        };
        match method {
            "match" | "fullmatch" | "search" => {
                let string = subject(0, "string")?;
                let found = self.captures(&string)?.filter(|c| {
                    let whole = c.get(0).expect("group 0 is the match");
                    match method {
                        "match" => whole.start() == 0,
                        "fullmatch" => whole.start() == 0 && whole.end() == string.len(),
                        _ => true,
                    }
                });
                // A pattern that matches later but not at the start may
                // still match at the start with another alternative.
                let found = match (found, method) {
                    (None, "match" | "fullmatch") => {
                        self.anchored(&string, method == "fullmatch")?
                    }
                    (found, _) => found.map(|c| MatchObject::of(&c, &self.regex, &string)),
                };
                Ok(found.map_or(Value::from(()), Value::from_object))
            }
            "sub" | "subn" => {
                let replacement = subject(0, "repl")?;
                let string = subject(1, "string")?;
                let count: i64 = named_or_at(args, named, "count", 2)?.unwrap_or(0);
                let (out, made) = self.substitute(&replacement, &string, count)?;
                Ok(if method == "subn" {
                    Value::from(vec![Value::from(out), Value::from(made)])
                } else {
                    Value::from(out)
                })
            }
            "findall" => {
                let string = subject(0, "string")?;
                let groups = self.regex.captures_len() - 1;
                let mut found = Vec::new();
                for captures in self.regex.captures_iter(&string) {
                    let captures = captures.map_err(regex_error)?;
                    let group = |i: usize| {
                        Value::from(captures.get(i).map_or("", |m| m.as_str()).to_string())
                    };
                    found.push(match groups {
                        0 => group(0),
                        1 => group(1),
                        n => Value::from((1..=n).map(group).collect::<Vec<_>>()),
                    });
                }
                Ok(Value::from(found))
            }
            "split" => {
                // At most `maxsplit` splits (0: all), with the groups of
                // each separator between the parts, as Python gives them.
                let string = subject(0, "string")?;
                let most: i64 = named_or_at(args, named, "maxsplit", 1)?.unwrap_or(0);
                let mut parts = Vec::new();
                let mut last = 0;
                for captures in self.regex.captures_iter(string.as_str()) {
                    if most > 0 && parts.len() as i64 >= most * self.regex.captures_len() as i64 {
                        break;
                    }
                    let captures = captures.map_err(regex_error)?;
                    let whole = captures.get(0).expect("group 0 is the match");
                    parts.push(Value::from(string[last..whole.start()].to_string()));
                    for i in 1..captures.len() {
                        parts.push(
                            captures
                                .get(i)
                                .map_or(Value::from(()), |m| Value::from(m.as_str().to_string())),
                        );
                    }
                    last = whole.end();
                }
                parts.push(Value::from(string[last..].to_string()));
                Ok(Value::from(parts))
            }
            "finditer" => {
                let string = subject(0, "string")?;
                let found: Result<Vec<Value>, Error> = self
                    .regex
                    .captures_iter(string.as_str())
                    .map(|c| {
                        c.map(|c| Value::from_object(MatchObject::of(&c, &self.regex, &string)))
                            .map_err(regex_error)
                    })
                    .collect();
                Ok(Value::from(found?))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("re has no {method}()"),
            )),
        }
    }

    fn captures<'t>(&self, string: &'t str) -> Result<Option<Captures<'t, str>>, Error> {
        self.regex.captures(string).map_err(regex_error)
    }

    /// `re.match`/`re.fullmatch` where the first match found starts later.
    fn anchored(&self, string: &str, full: bool) -> Result<Option<MatchObject>, Error> {
        let anchored = Regex::new(&format!(
            "\\A(?:{}){}",
            self.regex.as_str(),
            if full { "\\z" } else { "" }
        ))
        .map_err(regex_error)?;
        Ok(anchored
            .captures(string)
            .map_err(regex_error)?
            .map(|c| MatchObject::of(&c, &anchored, string)))
    }

    /// The string with (at most `count`, or all if 0) matches replaced by
    /// Python's replacement template (`\1`, `\g<1>`, `\g<name>`).
    fn substitute(
        &self,
        replacement: &str,
        string: &str,
        count: i64,
    ) -> Result<(String, usize), Error> {
        let mut out = String::with_capacity(string.len());
        let (mut last, mut made) = (0, 0);
        for captures in self.regex.captures_iter(string) {
            if count > 0 && made as i64 >= count {
                break;
            }
            let captures = captures.map_err(regex_error)?;
            let whole = captures.get(0).expect("group 0 is the match");
            out.push_str(&string[last..whole.start()]);
            expand(replacement, &captures, &self.regex, &mut out)?;
            last = whole.end();
            made += 1;
        }
        out.push_str(&string[last..]);
        Ok((out, made))
    }
}

/// Python's replacement template expanded for one match.
fn expand(
    replacement: &str,
    captures: &Captures<'_, str>,
    regex: &Regex,
    out: &mut String,
) -> Result<(), Error> {
    let group = |name: &str| -> Result<String, Error> {
        let index = match name.parse::<usize>() {
            Ok(index) => Some(index),
            Err(_) => regex.capture_names().position(|n| n == Some(name)),
        };
        match index.filter(|i| *i < captures.len()) {
            Some(i) => Ok(captures.get(i).map_or("", |m| m.as_str()).to_string()),
            None => Err(error(format!("re.sub(): no group {name}"))),
        }
    };
    let mut chars = replacement.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(d) if d.is_ascii_digit() && d != '0' => {
                let mut digits = d.to_string();
                if let Some(&e) = chars.peek().filter(|e| e.is_ascii_digit()) {
                    digits.push(e);
                    chars.next();
                }
                out.push_str(&group(&digits)?);
            }
            Some('g') if chars.peek() == Some(&'<') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                out.push_str(&group(&name)?);
            }
            // `\0` is a NUL character in Python, not the whole match.
            Some('0') => out.push('\0'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Ok(())
}

/// What `re.match` gives: its groups, by number or name.
#[derive(Debug)]
struct MatchObject {
    /// Each group's start, in characters as Python counts, and its text.
    groups: Vec<Option<(usize, String)>>,
    names: Vec<Option<String>>,
}

impl MatchObject {
    fn of(captures: &Captures<'_, str>, regex: &Regex, string: &str) -> MatchObject {
        let characters_before = |byte: usize| string[..byte].chars().count();
        MatchObject {
            groups: (0..captures.len())
                .map(|i| {
                    captures
                        .get(i)
                        .map(|m| (characters_before(m.start()), m.as_str().to_string()))
                })
                .collect(),
            names: regex
                .capture_names()
                .map(|n| n.map(str::to_string))
                .collect(),
        }
    }

    fn group(&self, which: &Value) -> Result<Value, Error> {
        let index = match which.as_str() {
            Some(name) => self.names.iter().position(|n| n.as_deref() == Some(name)),
            None => usize::try_from(which.clone()).ok(),
        };
        match index.and_then(|i| self.groups.get(i)) {
            Some(found) => Ok(found
                .as_ref()
                .map_or(Value::from(()), |(_, s)| Value::from(s.clone()))),
            None => Err(error(format!("no such group: {which}"))),
        }
    }
}

impl Object for MatchObject {
    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, _) = split_args(args)?;
        let span = |i: usize| self.groups.get(i).cloned().flatten();
        match method {
            "group" if positional.len() > 1 => Ok(Value::from(
                positional
                    .iter()
                    .map(|g| self.group(g))
                    .collect::<Result<Vec<_>, _>>()?,
            )),
            "group" => self.group(positional.first().unwrap_or(&Value::from(0))),
            "groups" => Ok(Value::from(
                (1..self.groups.len())
                    .map(|i| span(i).map_or(Value::from(()), |(_, s)| Value::from(s)))
                    .collect::<Vec<_>>(),
            )),
            "groupdict" => Ok(Value::from_iter(self.names.iter().enumerate().filter_map(
                |(i, name)| {
                    let value = span(i).map_or(Value::from(()), |(_, s)| Value::from(s));
                    name.clone().map(|n| (n, value))
                },
            ))),
            "start" | "end" | "span" => {
                let i = positional
                    .first()
                    .and_then(|v| usize::try_from(v.clone()).ok())
                    .unwrap_or(0);
                let (start, text) = span(i).ok_or_else(|| error(format!("no group {i}")))?;
                let end = start + text.chars().count();
                Ok(match method {
                    "start" => Value::from(start),
                    "end" => Value::from(end),
                    _ => Value::from(vec![start, end]),
                })
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("a match has no {method}()"),
            )),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.groups.first().cloned().flatten().unwrap_or_default();
        write!(f, "<re.Match object; match={:?}>", whole.1)
    }
}

/// The positional arguments, and the keyword arguments if the call has them.
fn named_or_at<T: TryFrom<Value>>(
    args: &[Value],
    named: &Kwargs,
    name: &str,
    at: usize,
) -> Result<Option<T>, Error> {
    let value = match args.get(at) {
        Some(value) => Some(value.clone()),
        None => named.get::<Option<Value>>(name)?,
    };
    Ok(value.and_then(|v| T::try_from(v).ok()))
}

fn text(value: &Value, what: &str) -> Result<String, Error> {
    match value.as_str() {
        Some(s) => Ok(s.to_string()),
        // A stand-in or a number is written as its text, as Jinja prints it.
        None if !value.is_undefined() && !value.is_none() => Ok(value.to_string()),
        None => Err(error(format!("re needs a string for {what}, not {value}"))),
    }
}

fn regex_error(e: fancy_regex::Error) -> Error {
    error(format!("re: {e}"))
}
