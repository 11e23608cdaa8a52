//! Just enough of OpenAPI 3 and Swagger 2 to check a fake against a published description:
//! does a route exist, and does an answer match the response schema (types, required,
//! enums, nullability, through `$ref`, `allOf`, `oneOf` and `anyOf`).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where `npm install --prefix tools` puts the description packages.
pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/node_modules")
}

/// A loaded description.
pub struct Spec {
    doc: Value,
}

impl Spec {
    /// Reads a description from `tools/node_modules`, or fails saying how to install it.
    pub fn load(relative: &str) -> Spec {
        let path = tools_dir().join(relative);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install the API descriptions with `npm install --prefix tools`",
                path.display()
            )
        });
        Spec {
            doc: serde_json::from_str(&text).unwrap(),
        }
    }

    fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        let wanted = normalize(template);
        let paths = self.doc["paths"].as_object()?;
        paths
            .iter()
            .find(|(path, _)| normalize(path) == wanted)
            .and_then(|(_, item)| item.get(method.to_ascii_lowercase()))
    }

    /// Whether the description has `method template` (parameter names may differ).
    pub fn has_route(&self, method: &str, template: &str) -> bool {
        self.operation(method, template).is_some()
    }

    /// The schema of the `status` answer (or `default`), if the description gives one.
    pub fn response_schema(&self, method: &str, template: &str, status: u16) -> Option<&Value> {
        let responses = &self.operation(method, template)?["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))?;
        let response = self.resolve(response);
        response["content"]["application/json"]["schema"]
            .as_object()
            .map(|_| &response["content"]["application/json"]["schema"])
            .or_else(|| response.get("schema"))
    }

    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference.trim_start_matches('#');
                self.resolve(self.doc.pointer(pointer).unwrap_or(&Value::Null))
            }
            None => value,
        }
    }

    /// Every way `value` breaks `schema`, as `path: problem` lines.
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors);
        errors
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        if value.is_null() && (schema["nullable"] == true || schema["x-nullable"] == true) {
            return;
        }
        if let Some(all) = schema["allOf"].as_array() {
            for s in all {
                self.check(s, value, at, errors);
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema[key].as_array() {
                let fits = options.iter().any(|s| {
                    let mut e = Vec::new();
                    self.check(s, value, at, &mut e);
                    e.is_empty()
                });
                if !fits {
                    errors.push(format!("{at}: matches none of the `{key}` schemas"));
                }
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() && !types.iter().any(|t| type_fits(t, value)) {
            errors.push(format!(
                "{at}: expected {}, found {}",
                types.join("|"),
                kind(value)
            ));
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !value.is_null()
            && !allowed.contains(value)
        {
            errors.push(format!(
                "{at}: {value} is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
        if let Some(object) = value.as_object() {
            for name in schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(name) {
                    errors.push(format!("{at}: missing required `{name}`"));
                }
            }
            if let Some(properties) = schema["properties"].as_object() {
                for (name, sub) in properties {
                    if let Some(v) = object.get(name) {
                        self.check(sub, v, &format!("{at}.{name}"), errors);
                    }
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for (i, v) in array.iter().enumerate() {
                self.check(items, v, &format!("{at}[{i}]"), errors);
            }
        }
    }
}

fn type_fits(t: &str, value: &Value) -> bool {
    match t {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `/a/{x}/b/{y}` → `/a/{}/b/{}`: parameter names differ between descriptions and fakes.
pub fn normalize(template: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in template.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => out.push(c),
        }
    }
    out
}

/// Whether a concrete request path matches a template; the last parameter may hold slashes.
pub fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    let last_is_param = t.last().is_some_and(|s| s.starts_with('{'));
    if p.len() < t.len() || (p.len() > t.len() && !last_is_param) {
        return false;
    }
    t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(normalize("/repos/{owner}/{repo}"), "/repos/{}/{}");
        assert!(path_matches(
            "/deploys/{id}/files/{path}",
            "/deploys/abc/files/assets/a.js"
        ));
        assert!(!path_matches("/repos/{o}/{r}/issues", "/repos/a/b/pulls"));
        assert!(!path_matches("/v13/deployments", "/v13/deployments/dpl_1"));
    }

    #[test]
    fn validation() {
        let spec = Spec {
            doc: serde_json::json!({ "components": { "schemas": { "u": { "type": "object", "required": ["login"], "properties": { "login": { "type": "string" }, "site": { "type": "string", "nullable": true } } } } } }),
        };
        let schema =
            serde_json::json!({ "type": "array", "items": { "$ref": "#/components/schemas/u" } });
        assert!(
            spec.validate(
                &schema,
                &serde_json::json!([{ "login": "a", "site": null }])
            )
            .is_empty()
        );
        let errors = spec.validate(&schema, &serde_json::json!([{ "site": 3 }]));
        assert_eq!(
            errors,
            [
                "$[0]: missing required `login`",
                "$[0].site: expected string, found number"
            ]
        );
    }
}
