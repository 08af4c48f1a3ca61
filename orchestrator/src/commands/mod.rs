//! One module per verb; each is thin over `project` (and, for deploying verbs, `engine`).

pub mod config;
