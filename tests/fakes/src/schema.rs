//! The JSON Schema subset GitHub's request-body schemas use (`tests/fakes/schemas/
//! github-requests.json`, extracted from `@octokit/openapi`): `type`, `properties`, `required`,
//! `enum`, `maxLength` (characters), `maxItems`, `items`, `anyOf`, `format: date-time`.
//! Other keywords (`default`, `additionalProperties: true`) do not restrict.

use serde_json::Value;

/// The first violation, as "For 'path', what." (GitHub's wording for schema errors).
pub fn validate(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(kind) = schema.get("type").and_then(Value::as_str) {
        let ok = match kind {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            _ => true,
        };
        if !ok {
            return Err(format!("For '{at}', {value} is not {kind}."));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            return Err(format!("For '{at}', {value} is not a member of enum."));
        }
    }
    if let (Some(max), Some(text)) = (
        schema.get("maxLength").and_then(Value::as_u64),
        value.as_str(),
    ) {
        let chars = text.chars().count() as u64;
        if chars > max {
            return Err(format!(
                "For '{at}', only {max} characters are allowed; {chars} were supplied."
            ));
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time") {
        if let Some(text) = value.as_str() {
            if !is_date_time(text) {
                return Err(format!("For '{at}', {value} is not a date-time."));
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                return Err(format!(
                    "For '{at}', only {max} items are allowed; {} were supplied.",
                    items.len()
                ));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                validate(item_schema, item, &format!("{at}/{i}"))?;
            }
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                return Err(format!("\"{name}\" wasn't supplied."));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if let Some(v) = object.get(name) {
                    validate(property, v, &format!("{at}/{name}"))?;
                }
            }
        }
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let mut first_error = None;
        for option in options {
            match validate(option, value, at) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(format!("No subschema in \"anyOf\" matched. {e}"));
        }
    }
    Ok(())
}

/// RFC 3339 / ISO 8601 `YYYY-MM-DDTHH:MM:SS(.frac)?(Z|±HH:MM)`.
fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    shape && {
        let rest = text[19..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        matches!(rest, "Z" | "z")
            || (rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn date_times_in_rfc_3339_only() {
        assert!(is_date_time("2026-12-01T00:25:00Z"));
        assert!(is_date_time("2026-12-01T00:25:00.123+02:00"));
        assert!(!is_date_time("2026-12-01 00:25:00"));
        assert!(!is_date_time("yesterday"));
    }

    #[test]
    fn any_of_needs_one_matching_option() {
        let schema = json!({"anyOf":[{"required":["a"]},{"required":["b"]}]});
        assert!(validate(&schema, &json!({"b":1}), "").is_ok());
        assert!(validate(&schema, &json!({"c":1}), "").is_err());
    }
}
