//! Elapsed time per phase of a refresh or rebuild, for the debug log.

use std::time::{Duration, Instant};

/// Elapsed time per phase, for the debug log.
#[derive(Default)]
pub struct Phases {
    last: Option<Instant>,
    done: Vec<(&'static str, Duration)>,
}

impl Phases {
    /// Ends the phase running since the last mark as `name`.
    pub fn mark(&mut self, name: &'static str) {
        let now = Instant::now();
        if let Some(last) = self.last {
            self.done.push((name, now - last));
        }
        self.last = Some(now);
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, d) in &self.done {
            write!(f, "{name}={}ms ", d.as_millis())?;
        }
        Ok(())
    }
}
