//! Progress is reported, not printed: commands send events here, and this module decides how
//! they look: live bars and spinners on a terminal, one plain line per event otherwise (CI
//! logs, pipes, `--progress plain`).

use std::{io::IsTerminal, time::Duration};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Mode {
    /// Bars on a terminal, plain lines elsewhere.
    #[default]
    Auto,
    /// Live bars and spinners.
    Tty,
    /// One line per event; build output in full.
    Plain,
    /// Errors only.
    Quiet,
}

/// Where commands report what they do.
#[derive(Clone)]
pub struct Progress {
    mode: Mode,
    multi: MultiProgress,
}

impl Progress {
    /// Resolves `Auto` against stderr.
    pub fn new(mode: Mode) -> Self {
        let mode = match mode {
            Mode::Auto if std::io::stderr().is_terminal() => Mode::Tty,
            Mode::Auto => Mode::Plain,
            other => other,
        };
        let target = if mode == Mode::Tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            mode,
            multi: MultiProgress::with_draw_target(target),
        }
    }

    /// True when build output is shown in full (`--progress plain`).
    pub fn is_plain(&self) -> bool {
        self.mode == Mode::Plain
    }

    fn line(&self, text: String) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Tty => {
                let _ = self.multi.println(text);
            }
            _ => eprintln!("{text}"),
        }
    }

    /// `Container board-app-1  Started`: what happened to one object.
    pub fn event(&self, kind: &str, name: &str, status: &str) {
        let mark = if self.mode == Mode::Tty { " ✔ " } else { "" };
        self.line(format!("{mark}{kind} {name}  {status}"));
    }

    /// A line worth reading that is not an event.
    pub fn note(&self, text: impl AsRef<str>) {
        self.line(text.as_ref().to_owned());
    }

    /// A warning: something the user should know and may want to act on.
    pub fn warn(&self, text: impl AsRef<str>) {
        if self.mode != Mode::Quiet {
            let text = format!("warning: {}", text.as_ref());
            match self.mode {
                Mode::Tty => {
                    let _ = self.multi.println(text);
                }
                _ => eprintln!("{text}"),
            }
        }
    }

    /// A spinner for work of unknown length; on plain output, one line when it starts.
    pub fn spinner(&self, message: impl Into<String>) -> Task {
        let message = message.into();
        if self.mode == Mode::Tty {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(" {spinner} {msg} {elapsed:.dim}")
                    .expect("a valid template"),
            );
            bar.set_message(message);
            bar.enable_steady_tick(Duration::from_millis(100));
            Task { bar: Some(bar) }
        } else {
            self.line(format!("{message} ..."));
            Task { bar: None }
        }
    }

    /// A bar over `len` steps (build steps, bytes of context).
    pub fn bar(&self, len: u64, message: impl Into<String>) -> Task {
        let message = message.into();
        if self.mode == Mode::Tty {
            let bar = self.multi.add(ProgressBar::new(len));
            bar.set_style(
                ProgressStyle::with_template(" {msg} [{bar:30}] {pos}/{len} {elapsed:.dim}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(message);
            Task { bar: Some(bar) }
        } else {
            self.line(format!("{message} ..."));
            Task { bar: None }
        }
    }
}

/// One spinner or bar; cleared when finished or dropped.
pub struct Task {
    bar: Option<ProgressBar>,
}

impl Task {
    /// Moves the bar to `pos` of its length (or grows the length to fit).
    pub fn set(&self, pos: u64, len: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(len);
            bar.set_position(pos);
        }
    }

    /// Replaces the message beside the bar.
    pub fn message(&self, text: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(text.into());
        }
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
