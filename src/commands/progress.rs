//! Progress of a long command (`paperboy fetch`, the fetching part of `paperboy export`): a
//! progress bar on a terminal (days done / total, papers, rate, ETA), otherwise one plain line
//! per tenth of the work, so that a log (CI, cron, a container's output) shows it moving
//! without filling up.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How progress is shown.
pub struct Progress {
    /// On a terminal: the bar (it is `Sync`; futures running at once each move it).
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

struct State {
    total: usize,
    done: usize,
    papers: usize,
    started: Instant,
    /// Tenths of the work already reported in plain lines.
    tenths_shown: usize,
    /// Where plain lines go (stderr, or a test's buffer); also notes on a terminal go to the bar.
    out: Box<dyn Write + Send>,
}

impl Progress {
    /// A bar on stderr when stderr is a terminal, else plain lines on stderr.
    pub fn on_stderr(total: usize) -> Progress {
        if std::io::stderr().is_terminal() {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} days · {msg} · {per_sec} · ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message("0 papers");
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress {
                bar: Some(bar),
                state: Mutex::new(State::new(total, Box::new(std::io::stderr()))),
            }
        } else {
            Progress::lines(total, Box::new(std::io::stderr()))
        }
    }

    /// Plain lines into `out`, one per tenth of the work.
    pub fn lines(total: usize, out: Box<dyn Write + Send>) -> Progress {
        Progress {
            bar: None,
            state: Mutex::new(State::new(total, out)),
        }
    }

    /// One more date done, with `papers` papers fetched (0 when it was stored already or failed).
    pub fn advance(&self, papers: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.done += 1;
        state.papers += papers;
        match &self.bar {
            Some(bar) => {
                bar.inc(1);
                bar.set_message(format!("{} papers", state.papers));
            }
            None => {
                let tenths = state.done * 10 / state.total.max(1);
                if tenths > state.tenths_shown {
                    state.tenths_shown = tenths;
                    let line = state.line();
                    let _ = writeln!(state.out, "{line}");
                }
            }
        }
    }

    /// A line said once (a wait for the upstream budget, say), above the bar on a terminal.
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let _ = writeln!(state.out, "{line}");
            }
        }
    }

    /// Removes the bar (the summary is printed after it).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = state.out.flush();
    }
}

impl State {
    fn new(total: usize, out: Box<dyn Write + Send>) -> State {
        State {
            total,
            done: 0,
            papers: 0,
            started: Instant::now(),
            tenths_shown: 0,
            out,
        }
    }

    /// `fetch: 37/365 days (10%), 1040 papers, 12.1 days/s, about 27 s left`.
    fn line(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            self.done as f64 / elapsed
        } else {
            0.0
        };
        let left = self.total.saturating_sub(self.done);
        let eta = if left == 0 {
            "done".to_owned()
        } else if rate > 0.0 {
            format!("about {} s left", (left as f64 / rate).ceil() as u64)
        } else {
            "time left unknown".to_owned()
        };
        // A back-fill held by the upstream budget moves a few days a minute.
        let rate = if rate >= 1.0 {
            format!("{rate:.1} days/s")
        } else {
            format!("{:.1} days/min", rate * 60.0)
        };
        format!(
            "fetch: {}/{} days ({}%), {} papers, {rate}, {eta}",
            self.done,
            self.total,
            self.done * 100 / self.total.max(1),
            self.papers,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines_for(total: usize) -> Vec<String> {
        let buffer = Buffer::default();
        let progress = Progress::lines(total, Box::new(buffer.clone()));
        for _ in 0..total {
            progress.advance(3);
        }
        progress.finish();
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn one_line_per_tenth_of_the_work() {
        let lines = lines_for(365);
        assert_eq!(lines.len(), 10, "{lines:?}");
        assert!(
            lines[0].starts_with("fetch: 37/365 days (10%), 111 papers, "),
            "{}",
            lines[0]
        );
        assert!(lines[9].starts_with("fetch: 365/365 days (100%), 1095 papers, "));
        assert!(lines[9].ends_with("done"), "{}", lines[9]);
    }

    #[test]
    fn less_work_than_ten_steps_is_one_line_a_step() {
        assert_eq!(lines_for(4).len(), 4);
        let one = lines_for(1);
        assert_eq!(one.len(), 1);
        assert!(
            one[0].starts_with("fetch: 1/1 days (100%), 3 papers, "),
            "{}",
            one[0]
        );
    }
}
