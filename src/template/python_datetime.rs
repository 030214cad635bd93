//! `modules.datetime`: Python's `datetime` module as dbt hands it to
//! templates, for the macros that stamp a run (`datetime.now().strftime(…)`),
//! build a date (`datetime.date(2024, 1, 1)`) or read one
//! (`datetime.datetime.strptime(var('start'), '%Y-%m-%d')`).
//!
//! Dates are chrono's. The Jinja engine has no operator overloading, so
//! arithmetic on dates (`today - timedelta(days=7)`) is not rendered: it is
//! a template error, as it was when these were stand-ins.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};

use super::python_call::{error, split_args};

/// The `datetime` module.
#[derive(Debug)]
pub struct PythonDatetime;

impl PythonDatetime {
    pub fn value() -> Value {
        Value::from_object(PythonDatetime)
    }
}

impl Object for PythonDatetime {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "datetime" => Value::from_object(Class::Datetime),
            "date" => Value::from_object(Class::Date),
            "timedelta" => Value::from_object(Class::Timedelta),
            "MINYEAR" => Value::from(1),
            "MAXYEAR" => Value::from(9999),
            _ => return None,
        })
    }
}

/// `datetime.datetime`, `datetime.date` and `datetime.timedelta`: called to
/// build a value, or through their class methods (`now`, `today`,
/// `strptime`, `fromisoformat`).
#[derive(Debug)]
enum Class {
    Datetime,
    Date,
    Timedelta,
}

impl Object for Class {
    fn call(self: &Arc<Self>, _: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (positional, named) = split_args(args)?;
        let int = |name: &str, at: usize, default: i64| -> Result<i64, Error> {
            let value = match positional.get(at) {
                Some(v) => Some(v.clone()),
                None => named.get::<Option<Value>>(name)?,
            };
            match value {
                None => Ok(default),
                Some(v) => i64::try_from(v.clone()).map_err(|_| {
                    error(format!("datetime: {name} must be a whole number, not {v}"))
                }),
            }
        };
        match **self {
            Class::Date | Class::Datetime => {
                let date = date(int("year", 0, 0)?, int("month", 1, 0)?, int("day", 2, 0)?)?;
                if matches!(**self, Class::Date) {
                    return Ok(DateValue::Date(date).value());
                }
                let time = time(
                    int("hour", 3, 0)?,
                    int("minute", 4, 0)?,
                    int("second", 5, 0)?,
                    int("microsecond", 6, 0)?,
                )?;
                Ok(DateValue::Datetime(date.and_time(time)).value())
            }
            Class::Timedelta => {
                let float = |name: &str, at: usize| -> Result<f64, Error> {
                    let value = match positional.get(at) {
                        Some(v) => Some(v.clone()),
                        None => named.get::<Option<Value>>(name)?,
                    };
                    match value {
                        None => Ok(0.0),
                        Some(v) => f64::try_from(v.clone()).map_err(|_| {
                            error(format!("timedelta: {name} must be a number, not {v}"))
                        }),
                    }
                };
                let microseconds = float("days", 0)? * 86_400e6
                    + float("seconds", 1)? * 1e6
                    + float("microseconds", 2)?
                    + float("milliseconds", 3)? * 1e3
                    + float("minutes", 4)? * 60e6
                    + float("hours", 5)? * 3_600e6
                    + float("weeks", 6)? * 604_800e6;
                Ok(Value::from_object(Timedelta(microseconds.round() as i64)))
            }
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, _) = split_args(args)?;
        let text = |at: usize| -> Result<String, Error> {
            positional
                .get(at)
                .and_then(|v| v.as_str().map(str::to_string))
                .ok_or_else(|| error(format!("datetime.{method}() needs a string")))
        };
        let now = || chrono::Local::now().naive_local();
        let value = match (&**self, method) {
            (Class::Datetime, "now" | "today") => DateValue::Datetime(now()),
            (Class::Datetime, "utcnow") => DateValue::Datetime(chrono::Utc::now().naive_utc()),
            (Class::Date, "today") => DateValue::Date(now().date()),
            (Class::Datetime, "strptime") => {
                let (input, format) = (text(0)?, python_format(&text(1)?));
                DateValue::Datetime(strptime(&input, &format)?)
            }
            (Class::Datetime | Class::Date, "fromisoformat") => {
                let input = text(0)?;
                let datetime = [
                    "%Y-%m-%dT%H:%M:%S%.f",
                    "%Y-%m-%d %H:%M:%S%.f",
                    "%Y-%m-%dT%H:%M",
                    "%Y-%m-%d %H:%M",
                ]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(&input, f).ok())
                .or_else(|| {
                    NaiveDate::parse_from_str(&input, "%Y-%m-%d")
                        .ok()
                        .map(|d| d.and_time(NaiveTime::MIN))
                })
                .ok_or_else(|| error(format!("invalid isoformat string: {input:?}")))?;
                match **self {
                    Class::Date => DateValue::Date(datetime.date()),
                    _ => DateValue::Datetime(datetime),
                }
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::UnknownMethod,
                    format!("datetime has no {method}() metriclint renders"),
                ))
            }
        };
        Ok(value.value())
    }
}

/// A `datetime.date` or `datetime.datetime` value.
#[derive(Debug, Clone, Copy)]
enum DateValue {
    Date(NaiveDate),
    Datetime(NaiveDateTime),
}

impl DateValue {
    fn value(self) -> Value {
        Value::from_object(self)
    }

    fn datetime(self) -> NaiveDateTime {
        match self {
            DateValue::Date(d) => d.and_time(NaiveTime::MIN),
            DateValue::Datetime(dt) => dt,
        }
    }

    /// Python's `strftime`, for a value with no time zone (`%z`, `%Z` are
    /// empty, as Python writes them for a naive value).
    fn strftime(self, format: &str) -> Result<String, Error> {
        let format = python_format(format).replace("%z", "").replace("%Z", "");
        let mut out = String::new();
        write!(out, "{}", self.datetime().format(&format))
            .map_err(|_| error(format!("strftime: cannot write the format {format:?}")))?;
        Ok(out)
    }
}

impl Object for DateValue {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let dt = self.datetime();
        let is_datetime = matches!(**self, DateValue::Datetime(_));
        Some(Value::from(match key.as_str()? {
            "year" => dt.year() as i64,
            "month" => dt.month() as i64,
            "day" => dt.day() as i64,
            "hour" if is_datetime => dt.hour() as i64,
            "minute" if is_datetime => dt.minute() as i64,
            "second" if is_datetime => dt.second() as i64,
            "microsecond" if is_datetime => (dt.nanosecond() / 1000) as i64,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let (positional, named) = split_args(args)?;
        let dt = self.datetime();
        match method {
            "strftime" => {
                let format = positional
                    .first()
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| error("strftime() needs a format".to_string()))?;
                Ok(Value::from(self.strftime(format)?))
            }
            "isoformat" => Ok(Value::from(match **self {
                DateValue::Date(d) => d.format("%Y-%m-%d").to_string(),
                DateValue::Datetime(_) => {
                    let sep = positional
                        .first()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .or(named.get::<Option<String>>("sep")?)
                        .unwrap_or_else(|| "T".to_string());
                    format!("{}{sep}{}", dt.format("%Y-%m-%d"), time_text(dt))
                }
            })),
            "date" => Ok(DateValue::Date(dt.date()).value()),
            "weekday" => Ok(Value::from(dt.weekday().num_days_from_monday() as i64)),
            "isoweekday" => Ok(Value::from(dt.weekday().number_from_monday() as i64)),
            "timestamp" => Ok(Value::from(dt.and_utc().timestamp_micros() as f64 / 1e6)),
            "replace" => {
                let field = |name: &str, now: i64| -> Result<i64, Error> {
                    Ok(named.get::<Option<i64>>(name)?.unwrap_or(now))
                };
                let date = date(
                    field("year", dt.year() as i64)?,
                    field("month", dt.month() as i64)?,
                    field("day", dt.day() as i64)?,
                )?;
                Ok(match **self {
                    DateValue::Date(_) => DateValue::Date(date),
                    DateValue::Datetime(_) => DateValue::Datetime(date.and_time(time(
                        field("hour", dt.hour() as i64)?,
                        field("minute", dt.minute() as i64)?,
                        field("second", dt.second() as i64)?,
                        field("microsecond", (dt.nanosecond() / 1000) as i64)?,
                    )?)),
                }
                .value())
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("a date has no {method}() metriclint renders"),
            )),
        }
    }

    /// As Python's `str()` writes it: `2024-01-31` or `2024-01-31 08:00:00`.
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match **self {
            DateValue::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateValue::Datetime(dt) => write!(f, "{} {}", dt.format("%Y-%m-%d"), time_text(dt)),
        }
    }
}

/// A `datetime.timedelta`, in microseconds.
#[derive(Debug)]
struct Timedelta(i64);

impl Timedelta {
    /// Python's normalised parts: days (which may be negative), then
    /// seconds and microseconds (never negative).
    fn parts(&self) -> (i64, i64, i64) {
        let days = self.0.div_euclid(86_400_000_000);
        let rest = self.0.rem_euclid(86_400_000_000);
        (days, rest / 1_000_000, rest % 1_000_000)
    }
}

impl Object for Timedelta {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (days, seconds, microseconds) = self.parts();
        Some(Value::from(match key.as_str()? {
            "days" => days,
            "seconds" => seconds,
            "microseconds" => microseconds,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _: &mut State<'_, '_>,
        method: &str,
        _: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => Ok(Value::from(self.0 as f64 / 1e6)),
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("a timedelta has no {method}() metriclint renders"),
            )),
        }
    }

    /// As Python writes it: `7 days, 0:00:00`, `1 day, 2:03:04`, `0:00:30`.
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (days, seconds, microseconds) = self.parts();
        if days != 0 {
            let unit = if days.abs() == 1 { "day" } else { "days" };
            write!(f, "{days} {unit}, ")?;
        }
        write!(
            f,
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60
        )?;
        if microseconds != 0 {
            write!(f, ".{microseconds:06}")?;
        }
        Ok(())
    }
}

/// Python's `strptime`: what the format does not read is Python's default
/// (1900, January, the 1st, midnight), so `'%Y-%m'` reads a month.
fn strptime(input: &str, format: &str) -> Result<NaiveDateTime, Error> {
    use chrono::format::{parse, Parsed, StrftimeItems};
    let mismatch = |e: chrono::format::ParseError| {
        error(format!("time data {input:?} does not match format: {e}"))
    };
    let mut parsed = Parsed::new();
    parse(&mut parsed, input, StrftimeItems::new(format)).map_err(mismatch)?;
    let defaults = [
        (
            parsed.year().is_none(),
            Parsed::set_year as fn(&mut Parsed, i64) -> _,
            1900,
        ),
        (parsed.month().is_none(), Parsed::set_month, 1),
        (parsed.day().is_none(), Parsed::set_day, 1),
        (parsed.hour_div_12().is_none(), Parsed::set_hour, 0),
        (parsed.minute().is_none(), Parsed::set_minute, 0),
        (parsed.second().is_none(), Parsed::set_second, 0),
    ];
    for (missing, set, value) in defaults {
        if missing {
            set(&mut parsed, value).map_err(mismatch)?;
        }
    }
    let date = parsed.to_naive_date().map_err(mismatch)?;
    let time = parsed.to_naive_time().map_err(mismatch)?;
    Ok(date.and_time(time))
}

/// A time of day as Python's `str()` writes it, microseconds only when set.
fn time_text(dt: NaiveDateTime) -> String {
    let micros = dt.nanosecond() / 1000;
    if micros == 0 {
        dt.format("%H:%M:%S").to_string()
    } else {
        format!("{}.{micros:06}", dt.format("%H:%M:%S"))
    }
}

/// Python's format codes in chrono's: `%f` is microseconds in Python, six
/// digits.
fn python_format(format: &str) -> String {
    format.replace("%f", "%6f")
}

fn date(year: i64, month: i64, day: i64) -> Result<NaiveDate, Error> {
    let in_range = |v: i64| u32::try_from(v).ok();
    i32::try_from(year)
        .ok()
        .zip(in_range(month).zip(in_range(day)))
        .and_then(|(y, (m, d))| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or_else(|| error(format!("no such date: {year}-{month}-{day}")))
}

fn time(hour: i64, minute: i64, second: i64, microsecond: i64) -> Result<NaiveTime, Error> {
    let part = |v: i64| u32::try_from(v).ok();
    match (part(hour), part(minute), part(second), part(microsecond)) {
        (Some(h), Some(m), Some(s), Some(us)) => NaiveTime::from_hms_micro_opt(h, m, s, us),
        _ => None,
    }
    .ok_or_else(|| {
        error(format!(
            "no such time: {hour}:{minute}:{second}.{microsecond}"
        ))
    })
}
