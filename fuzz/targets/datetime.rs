//! The `datetime` parameter: never a panic, and the OpenAPI document's pattern accepts
//! exactly what the parser accepts (a difference would be a constraint declared wrong).

use std::sync::OnceLock;

pub fn run(data: &[u8]) {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    let pattern = PATTERN
        .get_or_init(|| regex::Regex::new(tessera::temporal::DATETIME_PARAM_PATTERN).unwrap());
    if let Ok(s) = std::str::from_utf8(data) {
        let parsed = tessera::temporal::parse_datetime_param(s);
        assert_eq!(
            pattern.is_match(s),
            parsed.is_ok(),
            "`{s}`: pattern and parser disagree ({parsed:?})"
        );
    }
}
