//! Request parameters the way a Rails app sees them: a JSON body, or form fields (urlencoded or
//! multipart) with bracketed names folded into nested objects and arrays
//! (`test_run[metadata][build_id]`, `tags[][value]`).

use axum::http::{header, HeaderMap};
use bytes::Bytes;
use serde_json::{Map, Value};

/// A body that cannot become parameters; each service maps it to its "malformed request" answer.
#[derive(Debug)]
pub struct Unparsable;

/// Parses the body by its `Content-Type`; any other type gives no parameters (as Rails does).
pub async fn parse(headers: &HeaderMap, body: Bytes) -> Result<Value, Unparsable> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Map::new()));
        }
        return serde_json::from_slice(&body).map_err(|_| Unparsable);
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|_| Unparsable)?;
        return fold(pairs);
    }
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(&content_type).map_err(|_| Unparsable)?;
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        let mut pairs = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(|_| Unparsable)? {
            let name = field.name().unwrap_or("").to_owned();
            let text = field.text().await.map_err(|_| Unparsable)?;
            pairs.push((name, text));
        }
        return fold(pairs);
    }
    Ok(Value::Object(Map::new()))
}

/// Folds bracketed field names into one nested value; a name used both as a scalar and as a
/// container is unparsable.
pub fn fold(pairs: Vec<(String, String)>) -> Result<Value, Unparsable> {
    let mut root = Value::Object(Map::new());
    for (name, value) in pairs {
        let keys = split_name(&name);
        insert(&mut root, &keys, Value::String(value)).map_err(|()| Unparsable)?;
    }
    Ok(root)
}

fn split_name(name: &str) -> Vec<String> {
    let (head, rest) = name.split_once('[').map_or((name, ""), |(h, r)| (h, r));
    let mut keys = vec![head.to_owned()];
    if !rest.is_empty() {
        let rest = format!("[{rest}");
        for part in rest.split('[').skip(1) {
            keys.push(part.trim_end_matches(']').to_owned());
        }
    }
    keys
}

fn insert(node: &mut Value, keys: &[String], value: Value) -> Result<(), ()> {
    let Some((key, rest)) = keys.split_first() else {
        *node = value;
        return Ok(());
    };
    if key.is_empty() {
        // `[]`: an array; `[][k]` appends a new object when the last one already has `k`.
        if node.is_null() {
            *node = Value::Array(Vec::new());
        }
        let Value::Array(items) = node else {
            return Err(());
        };
        match rest.first() {
            None => {
                items.push(value);
                Ok(())
            }
            Some(next) => {
                let reuse = matches!(items.last(), Some(Value::Object(m)) if !m.contains_key(next));
                if !reuse {
                    items.push(Value::Object(Map::new()));
                }
                let last = items.last_mut().ok_or(())?;
                insert(last, rest, value)
            }
        }
    } else {
        if node.is_null() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else {
            return Err(());
        };
        let child = map.entry(key.clone()).or_insert(Value::Null);
        if rest.is_empty() && !child.is_null() {
            return Err(());
        }
        insert(child, rest, value)
    }
}

/// A scalar parameter as text (numbers and booleans too, as Rails would cast them).
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_names_fold_into_nested_values() {
        let pairs = [
            ("test_run[metadata][build_id]", "b1"),
            ("tags[][value]", "smoke"),
            ("tags[][value]", "api"),
            ("flat", "x"),
        ];
        let folded = fold(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
        .unwrap();
        assert_eq!(
            folded,
            serde_json::json!({"test_run":{"metadata":{"build_id":"b1"}},"tags":[{"value":"smoke"},{"value":"api"}],"flat":"x"})
        );
    }

    #[test]
    fn a_name_used_as_scalar_and_container_is_refused() {
        let pairs = vec![
            ("a".to_owned(), "1".to_owned()),
            ("a[b]".to_owned(), "2".to_owned()),
        ];
        assert!(fold(pairs).is_err());
    }
}
