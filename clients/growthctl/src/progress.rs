//! The progress of `users upsert`, `events track` and `payments import` on
//! stderr: the rows sent and their rate, and what is left. When the input's
//! size is known (a file, or stdin redirected from one) a bar: the bytes read
//! of the total give the percentage and the ETA; otherwise (stdin from a
//! pipe) a spinner. Shown only when stderr is a terminal and the format is
//! not JSON: elsewhere nothing is drawn and the commands print what they
//! always printed. Notices (a batch sent again) go through it, so that they
//! do not break the bar.

use std::io::{BufRead, IsTerminal as _, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressFinish, ProgressStyle};

use crate::cli::Format;

/// Whether to draw progress: stderr is a terminal and the output is not JSON.
pub fn shown(format: Format) -> bool {
    format != Format::Json && std::io::stderr().is_terminal()
}

/// The size in bytes of the input `path` names (stdin for `None` or `-`),
/// when it is a regular file.
pub fn input_size(path: Option<&Path>) -> Option<u64> {
    let metadata = match path {
        Some(p) if p != Path::new("-") => std::fs::metadata(p).ok()?,
        _ => stdin_metadata()?,
    };
    metadata.is_file().then_some(metadata.len())
}

#[cfg(unix)]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    use std::os::fd::AsFd as _;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    std::fs::File::from(fd).metadata().ok()
}

#[cfg(not(unix))]
fn stdin_metadata() -> Option<std::fs::Metadata> {
    None
}

/// The bar for an input of known size: its position is the bytes read.
const BAR: &str = "{prefix} [{bar:30}] {percent:>3}% {msg} · {binary_bytes} of \
                   {binary_total_bytes} ({elapsed}, eta {eta})";

/// The spinner for an input of unknown size.
const SPINNER: &str = "{spinner} {prefix}: {msg} · {binary_bytes} read ({elapsed})";

/// The progress of one ingest run.
pub struct Progress {
    bar: ProgressBar,
    read: Arc<AtomicU64>,
    rows: u64,
}

impl Progress {
    /// Progress of sending `what` (users, events, payments), drawn when
    /// `show`; `total_bytes` is the input's size when known.
    pub fn new(show: bool, what: &str, total_bytes: Option<u64>) -> Self {
        let bar = if !show {
            ProgressBar::hidden()
        } else if let Some(total) = total_bytes {
            ProgressBar::new(total).with_style(
                ProgressStyle::with_template(BAR)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            )
        } else {
            ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template(SPINNER)
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            )
        };
        let bar = bar
            .with_prefix(what.to_owned())
            .with_message(rate_message(0, Duration::ZERO))
            .with_finish(ProgressFinish::AndClear);
        if show {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        Self {
            bar,
            read: Arc::new(AtomicU64::new(0)),
            rows: 0,
        }
    }

    /// `input`, counting the bytes consumed from it for the bar.
    pub fn count<R: BufRead>(&self, input: R) -> Counted<R> {
        Counted {
            inner: input,
            read: Arc::clone(&self.read),
        }
    }

    /// `rows` more were sent and answered.
    pub fn sent(&mut self, rows: u64) {
        self.rows += rows;
        self.bar.set_position(self.read.load(Ordering::Relaxed));
        self.bar
            .set_message(rate_message(self.rows, self.bar.elapsed()));
    }

    /// Prints `line` on stderr, above the bar when there is one.
    pub fn notice(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

/// "1,234,000 rows sent, 56,789 rows/s".
fn rate_message(rows: u64, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        (rows as f64 / seconds).round() as u64
    } else {
        0
    };
    format!(
        "{} rows sent, {} rows/s",
        HumanCount(rows),
        HumanCount(rate)
    )
}

/// An input that counts the bytes consumed from it.
pub struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.read.fetch_add(amount as u64, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_are_valid() {
        assert!(ProgressStyle::with_template(BAR).is_ok());
        assert!(ProgressStyle::with_template(SPINNER).is_ok());
    }

    #[test]
    fn the_rate_is_rows_per_second_with_separators() {
        assert_eq!(
            rate_message(1_234_000, Duration::from_secs(20)),
            "1,234,000 rows sent, 61,700 rows/s"
        );
        assert_eq!(rate_message(0, Duration::ZERO), "0 rows sent, 0 rows/s");
    }

    #[test]
    fn every_byte_consumed_is_counted_once() {
        let progress = Progress::new(false, "events", None);
        let mut input = progress.count(std::io::Cursor::new("first line\n\nthird\n"));
        let mut line = String::new();
        while input.read_line(&mut line).expect("reads") > 0 {}
        assert_eq!(progress.read.load(Ordering::Relaxed), 18);
    }

    #[test]
    fn a_file_has_a_size_and_a_directory_has_none() {
        let dir = std::env::temp_dir().join(format!("growthctl-progress-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("events.jsonl");
        std::fs::write(&file, "{}\n{}\n").expect("write");
        assert_eq!(input_size(Some(&file)), Some(6));
        assert_eq!(input_size(Some(&dir)), None);
        assert_eq!(input_size(Some(&dir.join("missing"))), None);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
