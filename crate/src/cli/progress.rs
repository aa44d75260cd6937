//! Progress bars for the commands that run for more than a few seconds (`eval`, `scores`,
//! `bench`, `play`, `data --count`). They draw on stderr, and only where a person is watching:
//! never with `--json`, and never when stderr is not a terminal (indicatif hides itself then),
//! so pipes, logs and tests see only the results. They redraw only when ticked, with no thread
//! of their own, so `bench` ticks between the parts it times and never inside them.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` units of work (`unit`: episodes, samples, sequences), with an ETA.
pub fn bar(len: u64, unit: &str, json: bool) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    let template = format!("{{msg:<16}} {{wide_bar}} {{pos}}/{{len}} {unit} · {{elapsed}} · ETA {{eta}}");
    let style = ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len).with_style(style)
}
