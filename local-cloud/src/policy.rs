//! Reading IAM policy documents, where every list may also be written as its one element: a
//! statement or a list of them, a string or a list of strings. The trust check and the policy
//! simulator both read them so.

use serde_json::Value;

/// A document's statements, one or many.
pub fn statements(document: &Value) -> Vec<Value> {
    match &document["Statement"] {
        Value::Array(a) => a.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    }
}

/// A string or a list of strings.
pub fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}
