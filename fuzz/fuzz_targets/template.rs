//! Arbitrary Jinja SQL: rendering either succeeds or reports an error (a
//! finding), never panics or runs without end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use metriclint::dialect::Dialect;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for dialect in [Dialect::Generic, Dialect::BigQuery] {
            let _ = metriclint::template::render(text, dialect, None);
        }
    }
});
