//! Where each service's variables go. Secret ones go to a Secret `SERVICE-env` that the pod
//! references by key; plain ones written under `environment:` stay in the pod spec, where
//! they are read; plain ones from `env_file` go to a ConfigMap `SERVICE-env-file`.
//!
//! A variable is secret when:
//! - its name says so (it contains PASSWORD, PASSWD, SECRET, TOKEN, API_KEY, APIKEY,
//!   PRIVATE_KEY, ACCESS_KEY or CREDENTIAL, and does not end in `_FILE`, which names a path);
//! - the user marks it: `--secret-env NAME` on the command line, or in the compose file under
//!   the service's `x-kubernetes: {secret-environment: [NAME, ...]}`;
//! - its value contains a secret's value (`DATABASE_URL` holding `POSTGRES_PASSWORD`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapEnvSource, EnvFromSource, EnvVar, EnvVarSource, Secret, SecretKeySelector,
};

use super::{label_name, metadata, Object, Options, RawProject};
use crate::project::Project;

/// Words that make a variable's name secret.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "ACCESS_KEY",
    "CREDENTIAL",
];

/// Secret values shorter than this are not looked for inside other values (too many false
/// matches); such a secret is reported.
pub const MIN_SECRET_LEN: usize = 4;

/// True when a variable's name says it holds a secret.
pub fn named_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    !upper.ends_with("_FILE") && SECRET_WORDS.iter().any(|w| upper.contains(w))
}

/// Where one service's variables go.
#[derive(Debug, Clone, Default)]
pub struct ServiceEnv {
    /// Written in the pod spec.
    pub plain: BTreeMap<String, String>,
    /// From `env_file`, in a ConfigMap.
    pub from_file: BTreeMap<String, String>,
    /// In a Secret.
    pub secret: BTreeMap<String, String>,
}

/// Every service's variables, sorted.
#[derive(Debug, Clone, Default)]
pub struct EnvPlan {
    /// Service name -> its variables.
    pub services: BTreeMap<String, ServiceEnv>,
}

/// The Secret holding a service's secret variables.
pub fn secret_name(service: &str) -> String {
    format!("{}-env", label_name(service))
}

/// The ConfigMap holding a service's `env_file` variables.
pub fn config_map_name(service: &str) -> String {
    format!("{}-env-file", label_name(service))
}

/// Sorts every service's variables into plain, from a file, and secret.
pub fn plan(
    project: &Project,
    raw: &RawProject,
    options: &Options,
    warnings: &mut Vec<String>,
) -> EnvPlan {
    let marked = |service: &str, name: &str| {
        named_secret(name)
            || options.secret_env.iter().any(|n| n == name)
            || raw
                .service(service)
                .and_then(|s| s.get("x-kubernetes")?.get("secret-environment"))
                .and_then(|v| v.as_array())
                .is_some_and(|names| names.iter().any(|n| n.as_str() == Some(name)))
    };
    let mut secret_values = BTreeSet::new();
    for (service_name, service) in &project.services {
        for (name, value) in &service.environment {
            if let Some(value) = value.as_deref().filter(|_| marked(service_name, name)) {
                if value.len() >= MIN_SECRET_LEN {
                    secret_values.insert(value.to_owned());
                } else if !value.is_empty() {
                    warnings.push(format!(
                        "services.{service_name}.environment.{name}: the secret value is shorter \
                         than {MIN_SECRET_LEN} characters, so other values are not searched for it"
                    ));
                }
            }
        }
    }
    check_marks(project, raw, options, warnings);
    let mut plan = EnvPlan::default();
    for (service_name, service) in &project.services {
        let written: BTreeSet<&String> = raw
            .service(service_name)
            .and_then(|s| s.get("environment")?.as_object())
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let mut env = ServiceEnv::default();
        for (name, value) in &service.environment {
            let Some(value) = value else {
                warnings.push(format!(
                    "services.{service_name}.environment.{name} has no value here; left out"
                ));
                continue;
            };
            let is_marked = marked(service_name, name);
            let holds_secret = secret_values.iter().any(|s| value.contains(s.as_str()));
            if holds_secret && !is_marked {
                warnings.push(format!(
                    "services.{service_name}.environment.{name} holds a secret's value, so it \
                     goes to the Secret too"
                ));
            }
            let target = if is_marked || holds_secret {
                &mut env.secret
            } else if written.contains(name) {
                &mut env.plain
            } else {
                &mut env.from_file
            };
            target.insert(name.clone(), value.clone());
        }
        plan.services.insert(service_name.clone(), env);
    }
    plan
}

/// Warns about marks that mark nothing: a `--secret-env` no service has, an `x-kubernetes`
/// key we do not read, a `secret-environment` that is not a list of names.
fn check_marks(project: &Project, raw: &RawProject, options: &Options, warnings: &mut Vec<String>) {
    for name in &options.secret_env {
        if !project
            .services
            .values()
            .any(|s| s.environment.contains_key(name))
        {
            warnings.push(format!("--secret-env {name}: no service has this variable"));
        }
    }
    for service in project.services.keys() {
        let Some(x) = raw.service(service).and_then(|s| s.get("x-kubernetes")) else {
            continue;
        };
        let path = format!("services.{service}.x-kubernetes");
        let Some(map) = x.as_object() else {
            warnings.push(format!("{path} is not a mapping; ignored"));
            continue;
        };
        for (key, value) in map {
            let names = value.as_array().filter(|a| a.iter().all(|n| n.is_string()));
            if key != "secret-environment" {
                warnings.push(format!(
                    "{path}.{key} is not read (the one key is secret-environment)"
                ));
            } else if names.is_none() {
                warnings.push(format!(
                    "{path}.{key} is not a list of variable names; ignored"
                ));
            }
        }
    }
}

impl EnvPlan {
    /// The ConfigMaps and Secrets the plan needs.
    pub fn objects(&self, project: &Project) -> Vec<Object> {
        let mut objects = Vec::new();
        for (service, env) in &self.services {
            if !env.from_file.is_empty() {
                objects.push(Object::ConfigMap(ConfigMap {
                    metadata: metadata(&config_map_name(service), &project.name, Some(service)),
                    data: Some(env.from_file.clone()),
                    ..ConfigMap::default()
                }));
            }
            if !env.secret.is_empty() {
                objects.push(Object::Secret(Secret {
                    metadata: metadata(&secret_name(service), &project.name, Some(service)),
                    type_: Some("Opaque".into()),
                    string_data: Some(env.secret.clone()),
                    ..Secret::default()
                }));
            }
        }
        objects
    }

    /// A container's `env` (plain values, and secret ones by reference) and `envFrom`.
    pub fn container_env(&self, service: &str) -> (Vec<EnvVar>, Vec<EnvFromSource>) {
        let Some(env) = self.services.get(service) else {
            return (Vec::new(), Vec::new());
        };
        let mut vars: Vec<EnvVar> = env
            .plain
            .iter()
            .map(|(name, value)| EnvVar {
                name: name.clone(),
                value: Some(escape_references(value)),
                ..EnvVar::default()
            })
            .collect();
        vars.extend(env.secret.keys().map(|name| EnvVar {
            name: name.clone(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret_name(service),
                    key: name.clone(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        }));
        vars.sort_by(|a, b| a.name.cmp(&b.name));
        let from = if env.from_file.is_empty() {
            Vec::new()
        } else {
            vec![EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: config_map_name(service),
                    optional: None,
                }),
                ..EnvFromSource::default()
            }]
        };
        (vars, from)
    }
}

/// Kubernetes expands `$(NAME)` in `env` values, `command` and `args`; Compose has already
/// interpolated, so a `$(` left is literal and is written `$$(`.
pub fn escape_references(value: &str) -> String {
    value.replace("$(", "$$(")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_say_secret_are_secret_but_file_paths_are_not() {
        assert!(named_secret("POSTGRES_PASSWORD"));
        assert!(named_secret("github_token"));
        assert!(named_secret("AWS_SECRET_ACCESS_KEY"));
        assert!(!named_secret("POSTGRES_PASSWORD_FILE"));
        assert!(!named_secret("POSTGRES_USER"));
        assert!(!named_secret("DATABASE_URL"));
    }

    #[test]
    fn kubernetes_references_in_values_are_escaped() {
        assert_eq!(escape_references("a$(B)c"), "a$$(B)c");
        assert_eq!(escape_references("$HOME"), "$HOME");
    }
}
