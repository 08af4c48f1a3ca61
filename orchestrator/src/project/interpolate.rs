//! Variable substitution as Compose does it: `$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}`, and `$$`
//! for a literal dollar. Defaults and alternatives may themselves hold substitutions.
//!
//! It runs on every string value of a document's tree (never on keys), before files are merged.

use std::collections::BTreeSet;

use serde_json::Value as Tree;

use super::diag::{Diagnostic, DocPath};

/// What a substitution in one string could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `${VAR:?message}` or `${VAR?message}` with VAR missing.
    Required { name: String, message: String },
    /// Text that is not a valid substitution, e.g. `${`, `${1}`, or a lone `$`.
    Invalid { template: String },
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Required { name, message } if message.is_empty() => {
                write!(f, "required variable {name} is missing a value")
            }
            Self::Required { name, message } => {
                write!(f, "required variable {name} is missing a value: {message}")
            }
            Self::Invalid { template } => write!(
                f,
                "invalid interpolation format in {template:?}: write a literal $ as $$"
            ),
        }
    }
}

/// Substitutes variables in one string. Names read but not set are added to `unset`.
pub fn substitute(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        let invalid = || TemplateError::Invalid {
            template: input.to_owned(),
        };
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body_start) = after.strip_prefix('{') {
            let end = matching_brace(body_start).ok_or_else(invalid)?;
            let body = &body_start[..end];
            out.push_str(&braced(body, input, lookup, unset)?);
            rest = &body_start[end + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                return Err(invalid());
            }
            let name = &after[..len];
            out.push_str(&lookup(name).unwrap_or_else(|| {
                unset.insert(name.to_owned());
                String::new()
            }));
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Length of the variable name at the start of `s` (`[_A-Za-z][_A-Za-z0-9]*`), 0 if none.
fn name_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if bytes.is_empty() || !(bytes[0] == b'_' || bytes[0].is_ascii_alphabetic()) {
        return 0;
    }
    bytes
        .iter()
        .take_while(|b| **b == b'_' || b.is_ascii_alphanumeric())
        .count()
}

/// Index of the `}` closing a `${`, counting nested `${ ... }`.
fn matching_brace(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

fn braced(
    body: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    unset: &mut BTreeSet<String>,
) -> Result<String, TemplateError> {
    let len = name_len(body);
    let invalid = || TemplateError::Invalid {
        template: whole.to_owned(),
    };
    if len == 0 {
        return Err(invalid());
    }
    let name = &body[..len];
    let op_and_arg = &body[len..];
    let value = lookup(name);
    let (op, arg) = if op_and_arg.is_empty() {
        ("", "")
    } else if let Some(op) = [":-", ":?", ":+", "-", "?", "+"]
        .into_iter()
        .find(|op| op_and_arg.starts_with(op))
    {
        (op, &op_and_arg[op.len()..])
    } else {
        return Err(invalid());
    };
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    let mut arg = || substitute(arg, lookup, unset);
    Ok(match op {
        "" => value.unwrap_or_else(|| {
            unset.insert(name.to_owned());
            String::new()
        }),
        ":-" if !non_empty => arg()?,
        "-" if !set => arg()?,
        ":?" if !non_empty => {
            return Err(TemplateError::Required {
                name: name.to_owned(),
                message: arg()?,
            })
        }
        "?" if !set => {
            return Err(TemplateError::Required {
                name: name.to_owned(),
                message: arg()?,
            })
        }
        ":+" => {
            if non_empty {
                arg()?
            } else {
                String::new()
            }
        }
        "+" => {
            if set {
                arg()?
            } else {
                String::new()
            }
        }
        _ => value.unwrap_or_default(),
    })
}

/// Substitutes in every string value of `tree`, collecting one diagnostic per bad string and a
/// warning per variable that was read but not set.
pub fn interpolate_tree(
    tree: &mut Tree,
    lookup: &dyn Fn(&str) -> Option<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut unset = BTreeSet::new();
    let mut required = BTreeSet::new();
    let mut names = Names {
        unset: &mut unset,
        required: &mut required,
    };
    walk(tree, &DocPath::root(), lookup, &mut names, diagnostics);
    // A variable already reported as required and missing needs no second word about it.
    for name in unset.difference(&required) {
        diagnostics.push(Diagnostic::warning(
            DocPath::root(),
            format!("the {name} variable is not set; it stands for an empty string"),
        ));
    }
}

/// The variables a walk found unset, and those among them that were required.
struct Names<'a> {
    unset: &'a mut BTreeSet<String>,
    required: &'a mut BTreeSet<String>,
}

fn walk(
    node: &mut Tree,
    path: &DocPath,
    lookup: &dyn Fn(&str) -> Option<String>,
    names: &mut Names,
    diagnostics: &mut Vec<Diagnostic>,
) {
    match node {
        Tree::String(s) if s.contains('$') => match substitute(s, lookup, names.unset) {
            Ok(done) => *s = done,
            Err(e) => {
                if let TemplateError::Required { name, .. } = &e {
                    names.required.insert(name.clone());
                }
                diagnostics.push(Diagnostic::error(path.clone(), e.to_string()));
            }
        },
        Tree::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, &path.index(i), lookup, names, diagnostics);
            }
        }
        Tree::Object(map) => {
            for (k, v) in map.iter_mut() {
                walk(v, &path.key(k), lookup, names, diagnostics);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            "NESTED" => Some("${SET}".into()),
            _ => None,
        }
    }

    fn sub(input: &str) -> Result<String, TemplateError> {
        substitute(input, &env, &mut BTreeSet::new())
    }

    #[test]
    fn every_form_compose_knows() {
        let cases = [
            ("$SET", "value"),
            ("${SET}", "value"),
            ("pre-$SET-post", "pre-value-post"),
            ("${SET}x${SET}", "valuexvalue"),
            ("$UNSET", ""),
            ("${UNSET}", ""),
            ("${UNSET:-default}", "default"),
            ("${EMPTY:-default}", "default"),
            ("${SET:-default}", "value"),
            ("${UNSET-default}", "default"),
            ("${EMPTY-default}", ""),
            ("${SET:+alt}", "alt"),
            ("${EMPTY:+alt}", ""),
            ("${UNSET:+alt}", ""),
            ("${EMPTY+alt}", "alt"),
            ("${UNSET+alt}", ""),
            ("$$", "$"),
            ("$${SET}", "${SET}"),
            ("$$SET", "$SET"),
            ("${UNSET:-${SET}}", "value"),
            ("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
            ("${UNSET:-a}b}", "ab}"),
            (
                "${UNSET:-with spaces and :colons}",
                "with spaces and :colons",
            ),
            ("${NESTED}", "${SET}"),
            ("no dollars", "no dollars"),
            ("${SET:?must be set}", "value"),
            ("${UNSET:-$$}", "$"),
            ("${_under_score9:-x}", "x"),
        ];
        for (input, expected) in cases {
            assert_eq!(sub(input).as_deref(), Ok(expected), "{input}");
        }
    }

    #[test]
    fn required_variables_fail_with_their_message() {
        let cases = [
            ("${UNSET:?please set it}", "UNSET", "please set it"),
            ("${EMPTY:?not empty}", "EMPTY", "not empty"),
            ("${UNSET?}", "UNSET", ""),
            ("${UNSET:?${SET} needed}", "UNSET", "value needed"),
        ];
        for (input, name, message) in cases {
            assert_eq!(
                sub(input),
                Err(TemplateError::Required {
                    name: name.into(),
                    message: message.into()
                }),
                "{input}"
            );
        }
        assert_eq!(sub("${EMPTY?unset only}").as_deref(), Ok(""));
    }

    #[test]
    fn malformed_templates_are_invalid() {
        for input in [
            "$", "a $ b", "${", "${SET", "${}", "${1abc}", "${SET:}", "${SET!x}", "$1", "${ SET}",
        ] {
            assert!(
                matches!(sub(input), Err(TemplateError::Invalid { .. })),
                "{input} should be invalid, got {:?}",
                sub(input)
            );
        }
    }

    #[test]
    fn unset_names_are_reported_once() {
        let mut unset = BTreeSet::new();
        substitute("$A ${A} ${B:-x} ${C-y}", &env, &mut unset).unwrap();
        assert_eq!(unset.into_iter().collect::<Vec<_>>(), ["A"]);
    }

    #[test]
    fn a_required_variable_is_reported_once_not_also_as_unset() {
        let mut tree =
            serde_json::json!({"a": "${PW:?set PW}", "b": "user:${PW}@db", "c": "$OTHER"});
        let mut diags = Vec::new();
        interpolate_tree(&mut tree, &env, &mut diags);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "required variable PW is missing a value: set PW",
                "the OTHER variable is not set; it stands for an empty string"
            ]
        );
    }

    #[test]
    fn the_tree_is_walked_and_errors_are_placed() {
        let mut tree = serde_json::json!({
            "services": {"a": {"image": "x:${SET}", "ports": ["${UNSET:?port}"], "n": 5}},
            "key$SET": "keys stay"
        });
        let mut diags = Vec::new();
        interpolate_tree(&mut tree, &env, &mut diags);
        assert_eq!(tree["services"]["a"]["image"], "x:value");
        assert_eq!(tree["key$SET"], "keys stay");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].path.to_string(), "services.a.ports[0]");
        assert!(diags[0].message.contains("UNSET is missing a value: port"));
    }
}
