//! Arbitrary `metriclint.yaml` text: a config either loads or reports
//! errors, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = metriclint::config::Config::parse("fuzz.yaml", text);
    }
});
