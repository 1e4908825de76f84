//! Repository policy documents: reading statements however they are written, recognising public
//! access, and merging required statements by `Sid` without losing anyone else's statements.

use serde_json::{Map, Value};

/// The policy language version used for documents ecr-warden creates from nothing.
pub const DEFAULT_VERSION: &str = "2012-10-17";

/// A parsed policy document: its statements, in order, and every other top-level key as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// Top-level keys other than `Statement` (e.g. `Version`, `Id`), kept untouched.
    pub other: Map<String, Value>,
    /// The statements, whether the document wrote one object or an array.
    pub statements: Vec<Value>,
}

impl PolicyDocument {
    /// An empty document with the default version.
    pub fn empty() -> Self {
        let mut other = Map::new();
        other.insert("Version".to_string(), Value::String(DEFAULT_VERSION.to_string()));
        Self { other, statements: Vec::new() }
    }

    /// Parses a policy text; a single statement object is accepted as well as an array.
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let Value::Object(mut other) = value else {
            return Err("a policy document must be a JSON object".to_string());
        };
        let statements = match other.remove("Statement") {
            None => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(single @ Value::Object(_)) => vec![single],
            Some(_) => return Err("`Statement` must be an object or an array of objects".to_string()),
        };
        if let Some(bad) = statements.iter().position(|s| !s.is_object()) {
            return Err(format!("statement {} is not an object", bad + 1));
        }
        Ok(Self { other, statements })
    }

    /// The document as compact JSON text, with `Statement` always an array.
    pub fn to_text(&self) -> String {
        let mut map = self.other.clone();
        map.insert("Statement".to_string(), Value::Array(self.statements.clone()));
        Value::Object(map).to_string()
    }
}

/// The `Sid` of a statement, if it has a string one.
pub fn sid(statement: &Value) -> Option<&str> {
    statement.get("Sid").and_then(Value::as_str)
}

/// Whether a statement grants access to anyone: `Effect: Allow` with `Principal: "*"` (or an `AWS`
/// principal list containing `"*"`), or with `NotPrincipal`, and no `Condition` narrowing it.
pub fn grants_public_access(statement: &Value) -> bool {
    let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
    let conditioned = statement.get("Condition").is_some_and(|c| c.as_object().is_none_or(|m| !m.is_empty()));
    if !allows || conditioned {
        return false;
    }
    if statement.get("NotPrincipal").is_some() {
        return true;
    }
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => map.get("AWS").is_some_and(is_or_contains_star),
        _ => false,
    }
}

fn is_or_contains_star(value: &Value) -> bool {
    match value {
        Value::String(s) => s == "*",
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    }
}

/// The outcome of merging required statements into a document and removing public statements.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merge {
    /// Sids of required statements that were missing or different and are now set.
    pub statements_set: Vec<String>,
    /// Public statements that were removed, in full.
    pub removed: Vec<Value>,
    /// Public statements found (removed or not, depending on `remove_public`).
    pub public: Vec<Value>,
}

/// Merges `required` statements (each with a `Sid`) into `document` by `Sid`: a statement with the same
/// `Sid` is replaced when it differs, a missing one is appended, every other statement is kept as it was.
/// With `remove_public`, statements granting public access (other than required ones) are removed.
pub fn merge(document: &mut PolicyDocument, required: &[Value], remove_public: bool) -> Merge {
    let mut outcome = Merge::default();
    let required_sids: Vec<&str> = required.iter().filter_map(sid).collect();
    let mut kept = Vec::with_capacity(document.statements.len() + required.len());
    for statement in document.statements.drain(..) {
        let owned = sid(&statement).is_some_and(|s| required_sids.contains(&s));
        if !owned && grants_public_access(&statement) {
            outcome.public.push(statement.clone());
            if remove_public {
                outcome.removed.push(statement);
                continue;
            }
        }
        kept.push(statement);
    }
    for want in required {
        let Some(want_sid) = sid(want) else { continue };
        let same_sid: Vec<usize> =
            kept.iter().enumerate().filter(|(_, s)| sid(s) == Some(want_sid)).map(|(i, _)| i).collect();
        match same_sid.as_slice() {
            [only] if &kept[*only] == want => {}
            [] => {
                kept.push(want.clone());
                outcome.statements_set.push(want_sid.to_string());
            }
            [first, rest @ ..] => {
                kept[*first] = want.clone();
                for index in rest.iter().rev() {
                    kept.remove(*index);
                }
                outcome.statements_set.push(want_sid.to_string());
            }
        }
    }
    document.statements = kept;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pull_statement() -> Value {
        json!({"Sid": "CrossAccountPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
               "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
    }

    #[test]
    fn single_statement_objects_are_read_as_a_list() {
        let doc = PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Deny"}}"#)
            .expect("valid");
        assert_eq!(doc.statements.len(), 1);
        assert_eq!(doc.other.get("Version"), Some(&json!("2012-10-17")));
    }

    #[test]
    fn malformed_documents_are_errors() {
        assert!(PolicyDocument::parse("{").is_err());
        assert!(PolicyDocument::parse("[]").is_err());
        assert!(PolicyDocument::parse(r#"{"Statement": 3}"#).is_err());
        assert!(PolicyDocument::parse(r#"{"Statement": [1]}"#).is_err());
    }

    #[test]
    fn public_access_is_recognised_in_every_spelling() {
        assert!(grants_public_access(&json!({"Effect":"Allow","Principal":"*","Action":"ecr:*"})));
        assert!(grants_public_access(&json!({"Effect":"Allow","Principal":{"AWS":"*"}})));
        assert!(grants_public_access(&json!({"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]}})));
        assert!(grants_public_access(&json!({"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"}})));
        assert!(!grants_public_access(&json!({"Effect":"Deny","Principal":"*"})));
        assert!(!grants_public_access(
            &json!({"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}})
        ));
        assert!(!grants_public_access(&pull_statement()));
    }

    #[test]
    fn merge_appends_missing_statements_and_keeps_the_others() {
        let user =
            json!({"Sid":"UserOwn","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999:root"},"Action":"ecr:*"});
        let mut doc =
            PolicyDocument::parse(&json!({"Version":"2008-10-17","Statement":[user]}).to_string()).expect("valid");
        let outcome = merge(&mut doc, &[pull_statement()], true);
        assert_eq!(outcome.statements_set, vec!["CrossAccountPull"]);
        assert_eq!(doc.statements, vec![user, pull_statement()]);
        assert_eq!(doc.other.get("Version"), Some(&json!("2008-10-17")), "version kept");
    }

    #[test]
    fn merge_is_idempotent() {
        let mut doc = PolicyDocument::empty();
        merge(&mut doc, &[pull_statement()], true);
        let again = merge(&mut doc, &[pull_statement()], true);
        assert_eq!(again, Merge::default());
        assert_eq!(doc.statements.len(), 1);
    }

    #[test]
    fn merge_replaces_a_changed_statement_with_the_same_sid_once() {
        let mut stale = pull_statement();
        stale["Action"] = json!("ecr:*");
        let mut doc = PolicyDocument::empty();
        doc.statements = vec![stale.clone(), json!({"Sid":"Other","Effect":"Deny"}), stale];
        let outcome = merge(&mut doc, &[pull_statement()], true);
        assert_eq!(outcome.statements_set, vec!["CrossAccountPull"]);
        assert_eq!(doc.statements, vec![pull_statement(), json!({"Sid":"Other","Effect":"Deny"})]);
    }

    #[test]
    fn public_statements_are_removed_only_when_asked_and_always_reported() {
        let public = json!({"Sid":"Public","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"});
        let mut doc = PolicyDocument::empty();
        doc.statements = vec![public.clone()];
        let kept = merge(&mut doc.clone(), &[], false);
        assert_eq!((kept.public.len(), kept.removed.len()), (1, 0));
        let removed = merge(&mut doc, &[], true);
        assert_eq!(removed.removed, vec![public]);
        assert!(doc.statements.is_empty());
    }
}
