//! The orchestrator against the real Docker Engine of this machine: every test under a project
//! name of its own, cleaned up by label when it ends, pass or fail.
//!
//! Images are never pulled: the tests build a tiny one from a static busybox (`FROM scratch`),
//! labelled so that `scripts/test` removes it afterwards.

mod commands;
mod converge;
mod failures;
mod helpers;
mod keys;
mod plans;
mod rollout;
mod standins;
mod volumes;
