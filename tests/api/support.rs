#![allow(dead_code)] // Not every test module uses every helper.

//! Helpers for the operations tests: a strict reader of the Prometheus text format, and
//! child processes (paperboy itself, nginx) that are stopped by their PID on every path.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scrape of `/metrics`: every sample by `name{label="value",...}` (labels sorted).
#[derive(Debug)]
pub struct Scrape {
    samples: HashMap<String, f64>,
    types: HashMap<String, String>,
}

impl Scrape {
    /// Parses the text exposition format, failing on any line that is not a comment, a
    /// `# HELP`/`# TYPE` line or a well-formed sample of a declared family.
    pub fn parse(text: &str) -> Scrape {
        let mut samples = HashMap::new();
        let mut types = HashMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE line has a type");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                types.insert(name.to_owned(), kind.to_owned());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let inner = rest.strip_suffix('}').expect("labels end with }");
                    (name, parse_labels(inner))
                }
                None => (series, Vec::new()),
            };
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {line}"
            );
            let family = ["_bucket", "_sum", "_count", ""]
                .iter()
                .find_map(|suffix| {
                    let base = name.strip_suffix(suffix)?;
                    types.contains_key(base).then_some(base)
                })
                .unwrap_or_else(|| panic!("sample of an undeclared family: {line}"));
            assert!(!family.is_empty());
            let key = key(name, &labels);
            assert!(samples.insert(key, value).is_none(), "duplicate: {line}");
        }
        Scrape { samples, types }
    }

    /// The value of a sample; 0 when the series does not exist yet.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .get(&key(name, &labels))
            .copied()
            .unwrap_or(0.0)
    }

    /// Whether a sample exists.
    pub fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples.contains_key(&key(name, &labels))
    }

    /// The declared type of a family.
    pub fn kind(&self, family: &str) -> Option<&str> {
        self.types.get(family).map(String::as_str)
    }

    /// The buckets of a histogram series, by upper bound, in order.
    pub fn buckets(&self, name: &str, labels: &[(&str, &str)]) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(&format!("{name}_bucket{{"))?;
                let inner = rest.strip_suffix('}')?;
                let parsed = parse_labels(inner);
                let le = parsed.iter().find(|(k, _)| k == "le")?.1.clone();
                let others: Vec<_> = parsed.into_iter().filter(|(k, _)| k != "le").collect();
                let wanted: Vec<(String, String)> = labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                (others == wanted).then(|| {
                    let bound = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().expect("le is a number")
                    };
                    (bound, *v)
                })
            })
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }
}

fn parse_labels(inner: &str) -> Vec<(String, String)> {
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label value is quoted: {inner}");
        let mut value = String::new();
        loop {
            match chars.next().expect("label value is closed") {
                '\\' => match chars.next().expect("escape") {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.push((name.trim_start_matches(',').to_owned(), value));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    labels
}

fn key(name: &str, labels: &[(String, String)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// Scrapes `<base>/metrics`.
pub async fn scrape(client: &reqwest::Client, base: &str) -> Scrape {
    let response = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("scrape /metrics");
    assert_eq!(response.status(), 200);
    Scrape::parse(&response.text().await.unwrap())
}

/// A child process that is stopped, by its PID, when dropped, and whose stderr lines are
/// collected.
pub struct ChildGuard {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    /// The signal that stops it with everything it started (SIGKILL unless told otherwise).
    stop_signal: i32,
}

impl ChildGuard {
    /// Starts `command` with stderr collected and stdout discarded.
    pub fn spawn(command: Command) -> ChildGuard {
        Self::spawn_stopped_by(command, libc::SIGKILL)
    }

    /// Like [`ChildGuard::spawn`], for a process that must be stopped by `signal` (nginx's
    /// master stops its workers on SIGTERM; killed, it would leave them running).
    pub fn spawn_stopped_by(command: Command, stop_signal: i32) -> ChildGuard {
        Self::start(command, stop_signal, Stdio::null())
    }

    /// Like [`ChildGuard::spawn`], with stdout written to `stdout` (a file) for the test to read.
    pub fn spawn_with_stdout(command: Command, stdout: std::fs::File) -> ChildGuard {
        Self::start(command, libc::SIGKILL, Stdio::from(stdout))
    }

    fn start(mut command: Command, stop_signal: i32, stdout: Stdio) -> ChildGuard {
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("the child process starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        ChildGuard {
            child,
            lines,
            stop_signal,
        }
    }

    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).expect("a PID fits an i32")
    }

    /// A copy of the stderr lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (up to `limit`) for a stderr line that satisfies `pred`.
    pub async fn wait_for_line(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| pred(l)) {
                return line;
            }
            assert!(
                started.elapsed() < limit,
                "no line {what} within {limit:?}; stderr so far:\n{}",
                self.lines().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `signal` to the child, by its PID.
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) with the PID of a child this guard owns and has not reaped yet.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({}, {signal})", self.pid());
    }

    /// Waits (up to `limit`) for the child to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        if self.stop_signal != libc::SIGKILL {
            // SAFETY: kill(2) with the PID of a child this guard owns and has not reaped yet.
            unsafe { libc::kill(self.pid(), self.stop_signal) };
            for _ in 0..500 {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port a paperboy announced in its "paperboy is listening" line (text or JSON logs).
pub fn announced_port(line: &str) -> u16 {
    let digits = |rest: &str| -> u16 {
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .expect("a port number")
    };
    if let Some((_, rest)) = line.split_once("port=") {
        digits(rest)
    } else if let Some((_, rest)) = line.split_once("\"port\":") {
        digits(rest)
    } else {
        panic!("no port in {line}")
    }
}

/// Makes `path` readable (and its folders traversable) by every user, for children that run
/// as an unprivileged user.
pub fn open_to_all(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Whether this process runs as root (then children are started as `nobody`).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// The uid and gid of `nobody`.
pub const NOBODY: u32 = 65534;

/// Whether the program at `path` (Debian's package `package`) is installed; panics under CI
/// (`CI` set), where `.ci/run` installs it, and says the test `what` is skipped otherwise.
pub fn installed(path: &str, package: &str, what: &str) -> bool {
    Path::new(path).exists() || missing(path, package, what)
}

/// Says that `thing` (from Debian's `package`) is missing: panics under CI (`CI` set), where
/// `.ci/run` installs it; otherwise says the test `what` is skipped, and is false.
pub fn missing(thing: &str, package: &str, what: &str) -> bool {
    assert!(
        std::env::var_os("CI").is_none(),
        "{thing} is missing: .ci/run installs Debian's {package}"
    );
    eprintln!("SKIPPED: {thing} is not installed (apt-get install {package}); {what} did not run");
    false
}

/// A loopback port free a moment ago (nothing listens on it once this returns).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
