//! The whole loader on arbitrary input: up to three documents (split at a `---8<---` line),
//! merged as `-f a -f b -f c`, with a few variables set. Anything may be refused; nothing may
//! panic. Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run loader` in orchestrator/.
#![no_main]

use std::{collections::BTreeMap, path::PathBuf};

use libfuzzer_sys::fuzz_target;
use orchestrator::project::{self, env::Environment, LoadOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let documents: Vec<(PathBuf, String)> = text
        .split("\n---8<---\n")
        .take(3)
        .enumerate()
        .map(|(i, doc)| (PathBuf::from(format!("/fuzz/compose{i}.yaml")), doc.to_owned()))
        .collect();
    let vars: BTreeMap<String, String> = [("SET", "value"), ("EMPTY", ""), ("PORT", "8080")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let options = LoadOptions {
        cwd: PathBuf::from("/fuzz"),
        profiles: vec!["dev".into()],
        ..LoadOptions::default()
    };
    let environment = Environment::new(vars, BTreeMap::new());
    if let Ok(loaded) =
        project::load_documents(documents, &PathBuf::from("/fuzz"), environment, Vec::new(), &options)
    {
        // A loaded project must also print.
        project::to_yaml(&loaded.project).expect("a loaded project serializes");
    }
});
