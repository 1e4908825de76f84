//! A loopback stand-in for ECR's repository creation templates, which moto 5.2 doesn't implement: a
//! [`FaultProxy`] answers `DescribeRepositoryCreationTemplates`, `CreateRepositoryCreationTemplate`,
//! `UpdateRepositoryCreationTemplate` and `DeleteRepositoryCreationTemplate` from a store the test can read and
//! edit, and forwards every other call to moto. The requests are those of the AWS SDK, which the contract check
//! validates against ECR's service model like any other; the answers have the shape of the API reference's.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::faults::FaultProxy;
use crate::ACCOUNT;

/// The templates the stand-in holds, by prefix, as ECR describes them.
#[derive(Clone, Default)]
pub struct Templates(Arc<Mutex<BTreeMap<String, Value>>>);

impl Templates {
    /// Answers the template operations on `proxy` from a new, empty store.
    pub fn stand_in(proxy: &FaultProxy) -> Templates {
        let templates = Templates::default();
        for operation in ["Describe", "Create", "Update", "Delete"] {
            let store = templates.clone();
            let target = match operation {
                "Describe" => "DescribeRepositoryCreationTemplates".to_string(),
                other => format!("{other}RepositoryCreationTemplate"),
            };
            proxy.answer(&target, move |body| store.answer(operation, body));
        }
        templates
    }

    /// A copy of what is held.
    pub fn all(&self) -> BTreeMap<String, Value> {
        self.0.lock().expect("templates").clone()
    }

    /// Edits the template for `prefix` by hand, as someone in the console would.
    pub fn edit(&self, prefix: &str, edit: impl FnOnce(&mut Value)) {
        let mut held = self.0.lock().expect("templates");
        edit(held.get_mut(prefix).expect("a template for the prefix"));
    }

    /// Puts a template as it is, as someone else would.
    pub fn put(&self, template: Value) {
        let prefix = template["prefix"].as_str().expect("a prefix").to_string();
        self.0.lock().expect("templates").insert(prefix, template);
    }

    fn answer(&self, operation: &str, body: &str) -> Option<String> {
        let request: Value = serde_json::from_str(body).ok()?;
        let mut held = self.0.lock().expect("templates");
        let answer = match operation {
            "Describe" => {
                json!({"registryId": ACCOUNT, "repositoryCreationTemplates": held.values().collect::<Vec<_>>()})
            }
            "Delete" => {
                let prefix = request["prefix"].as_str()?;
                json!({"registryId": ACCOUNT, "repositoryCreationTemplate": held.remove(prefix)?})
            }
            _ => {
                // What was sent, as ECR would describe it: an update replaces every part it is given.
                let prefix = request["prefix"].as_str()?.to_string();
                let mut template = match operation {
                    "Update" => held.get(&prefix)?.clone(),
                    _ => json!({}),
                };
                for (key, value) in request.as_object()? {
                    template[key] = value.clone();
                }
                held.insert(prefix, template.clone());
                json!({"registryId": ACCOUNT, "repositoryCreationTemplate": template})
            }
        };
        Some(answer.to_string())
    }
}
