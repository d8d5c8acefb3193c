//! The real binary, started the way the container image starts it: `paperboy serve` in a
//! working directory holding only `config/default.toml`, the data directory given by
//! environment, as an unprivileged user. Then `paperboy healthcheck`, graceful shutdown on
//! SIGTERM, a warm restart, and the request logs.
//!
//! These run on the real clock (the binary has no pinned clock), so the mock upstream serves
//! the same fixture list for whatever date it is asked.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{
    ChildGuard, NOBODY, announced_port, free_port, installed, open_to_all, running_as_root,
};

const BINARY: &str = env!("CARGO_BIN_EXE_paperboy");

/// Page 0 of any date: the six papers of the 2026-08-14 fixture; later pages: `[]`.
struct AnyDate(Vec<Value>);

impl Respond for AnyDate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let first_page = request.url.query_pairs().any(|(k, v)| k == "p" && v == "0");
        let items = if first_page {
            self.0.clone()
        } else {
            Vec::new()
        };
        ResponseTemplate::new(200).set_body_json(items)
    }
}

fn fixture_items() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hf-api/daily_papers/2026-08-14.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn any_date_upstream() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/daily_papers"))
        .respond_with(AnyDate(fixture_items()))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// A command that runs `args` of the paperboy binary as `nobody` (with no supplementary
/// groups) when the tests run as root, as the image's `USER 65532:65532` does.
fn paperboy_command(args: &[&str]) -> Command {
    if running_as_root() && Path::new("/usr/bin/setpriv").exists() {
        let mut command = Command::new("/usr/bin/setpriv");
        let id = NOBODY.to_string();
        command
            .args([
                "--reuid",
                &id,
                "--regid",
                &id,
                "--clear-groups",
                "--",
                BINARY,
            ])
            .args(args);
        command
    } else {
        let mut command = Command::new(BINARY);
        command.args(args);
        command
    }
}

/// The image's layout: an `app` folder with only `config/default.toml` (the working
/// directory) and a `data` folder owned by the unprivileged user.
struct ImageLayout {
    _root: tempfile::TempDir,
    app: PathBuf,
    data: PathBuf,
}

fn image_layout() -> ImageLayout {
    let root = tempfile::tempdir().unwrap();
    let app = root.path().join("app");
    let data = root.path().join("data");
    std::fs::create_dir_all(app.join("config")).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let config = app.join("config/default.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        &config,
    )
    .unwrap();
    for path in [root.path(), &app, &app.join("config"), &config] {
        open_to_all(path);
    }
    if running_as_root() {
        std::os::unix::fs::chown(&data, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    ImageLayout {
        _root: root,
        app,
        data,
    }
}

/// The environment of the image's binary, bound to loopback (the image binds 0.0.0.0; tests
/// stay on loopback), with `data` as its data directory and `upstream` as the upstream.
fn image_env<'a>(data: &'a str, upstream: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("PAPERBOY_SERVER__BIND", "127.0.0.1"),
        ("PAPERBOY_SERVER__PORT", "0"),
        ("PAPERBOY_STORAGE__DATA_DIR", data),
        ("PAPERBOY_UPSTREAM__BASE_URL", upstream),
    ]
}

/// Starts `paperboy serve` in `cwd` with only `env` in its environment, and waits for the
/// port it announces.
async fn start(cwd: &Path, env: &[(&str, &str)]) -> (ChildGuard, u16) {
    let mut command = paperboy_command(&["serve"]);
    command
        .current_dir(cwd)
        .env_clear()
        .envs(env.iter().copied());
    let child = ChildGuard::spawn(command);
    let line = child
        .wait_for_line("announcing the port", Duration::from_secs(30), |l| {
            l.contains("paperboy is listening")
        })
        .await;
    let port = announced_port(&line);
    (child, port)
}

fn healthcheck(port: u16) -> i32 {
    let url = format!("http://127.0.0.1:{port}");
    let status = paperboy_command(&["healthcheck", "--url", &url])
        .env_clear()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("the healthcheck runs");
    status.code().expect("the healthcheck exits by itself")
}

/// Holds `port` of 127.0.0.1 (0: any free one): bound, with `SO_REUSEADDR` (which the
/// connections a stopped server left in TIME_WAIT need), and not listened on, so connections
/// to it are refused and no server binding port 0 is given it while the socket lives (Linux
/// does not hand out a port bound this way). `None` if something listens on it.
fn held_port(port: u16) -> Option<(socket2::Socket, u16)> {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    socket.set_reuse_address(true).expect("SO_REUSEADDR");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    socket.bind(&addr.into()).ok()?;
    let port = socket.local_addr().ok()?.as_socket()?.port();
    Some((socket, port))
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn get(port: u16, path: &str) -> reqwest::Response {
    client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .expect("paperboy answers")
}

async fn wait_ready(child: &ChildGuard, port: u16) {
    for _ in 0..1500 {
        if get(port, "/readyz").await.status() == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never ready; stderr:\n{}", child.lines().join("\n"));
}

#[tokio::test]
async fn the_binary_started_as_the_image_starts_it_serves_stops_on_sigterm_and_restarts_warm() {
    let upstream = any_date_upstream().await;
    let layout = image_layout();
    let data = layout.data.to_str().unwrap().to_owned();
    let uri = upstream.uri();
    let env = image_env(&data, &uri);
    let (mut paperboy, port) = start(&layout.app, &env).await;
    assert_eq!(get(port, "/healthz").await.status(), 200);
    wait_ready(&paperboy, port).await;
    // It started itself again without malloc's per-thread caches (src/allocator.rs): the
    // process's environment, as of its last exec, says so.
    let environ = std::fs::read(format!("/proc/{}/environ", paperboy.pid())).unwrap();
    assert!(
        environ
            .split(|&b| b == 0)
            .any(|var| var == b"GLIBC_TUNABLES=glibc.malloc.tcache_count=0"),
        "{:?}",
        String::from_utf8_lossy(&environ)
    );
    let feed: Value = get(port, "/feed.json?days=1").await.json().await.unwrap();
    assert_eq!(feed["items"].as_array().unwrap().len(), 6);
    assert_eq!(healthcheck(port), 0);

    // Warm-up stored the last three days, written by the unprivileged user.
    let today = Utc::now().date_naive();
    let file = layout
        .data
        .join(format!("days/{}.json", today.format("%Y-%m-%d")));
    let mut waited = 0;
    while !file.exists() && waited < 500 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    let meta = std::fs::metadata(&file).expect("today is stored");
    if running_as_root() {
        assert_eq!(meta.uid(), NOBODY, "written as the unprivileged user");
    }

    paperboy.signal(libc::SIGTERM);
    let status = paperboy.wait_exit(Duration::from_secs(10)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exits cleanly on SIGTERM: {status:?}"
    );
    assert!(
        paperboy
            .lines()
            .iter()
            .any(|l| l.contains("paperboy stopped"))
    );
    // Nothing answers on its port any more: asked while the port is held, so that no other
    // test's server, binding port 0, is given it meanwhile. Should one have been given it
    // already, between the exit and the hold, the question goes to a port held the same way.
    let (held, stopped_port) = held_port(port)
        .or_else(|| held_port(0))
        .expect("a port to hold");
    assert_eq!(healthcheck(stopped_port), 1, "nothing answers any more");
    drop(held);

    // Restarted against an upstream that is down: the stored, still fresh, lists are served
    // and upstream is not asked at all.
    let down = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&down)
        .await;
    let down_uri = down.uri();
    let env = image_env(&data, &down_uri);
    let (restarted, port) = start(&layout.app, &env).await;
    wait_ready(&restarted, port).await;
    let again: Value = get(port, "/feed.json?days=1").await.json().await.unwrap();
    assert_eq!(again["items"], feed["items"]);
    assert_eq!(down.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn sigterm_with_a_request_in_flight_completes_it_and_exits_within_the_timeout() {
    let upstream = any_date_upstream().await;
    // A date outside warm-up, whose upstream answer takes two seconds.
    let date: NaiveDate = Utc::now().date_naive() - chrono::Days::new(5);
    let date = date.format("%Y-%m-%d").to_string();
    Mock::given(method("GET"))
        .and(query_param("date", date.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(fixture_items())
                .set_delay(Duration::from_secs(2)),
        )
        .with_priority(1)
        .mount(&upstream)
        .await;
    let uri = upstream.uri();
    let cwd = tempfile::tempdir().unwrap();
    open_to_all(cwd.path());
    let env = [
        ("PAPERBOY_SERVER__PORT", "0"),
        ("PAPERBOY_SERVER__SHUTDOWN_TIMEOUT", "10s"),
        ("PAPERBOY_STORAGE__DATA_DIR", ""),
        ("PAPERBOY_UPSTREAM__BASE_URL", uri.as_str()),
    ];
    let (mut paperboy, port) = start(cwd.path(), &env).await;

    let url = format!("http://127.0.0.1:{port}/feed.json?date={date}&days=1");
    let in_flight = tokio::spawn(async move { client().get(url).send().await });
    let mut asked = false;
    for _ in 0..500 {
        let requests = upstream.received_requests().await.unwrap();
        if requests
            .iter()
            .any(|r| r.url.query_pairs().any(|(k, v)| k == "date" && v == date))
        {
            asked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(asked, "the request reached upstream");

    paperboy.signal(libc::SIGTERM);
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let feed: Value = response.json().await.unwrap();
    assert_eq!(feed["items"].as_array().unwrap().len(), 6);
    let status = paperboy.wait_exit(Duration::from_secs(10)).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "exits cleanly within server.shutdown_timeout: {status:?}"
    );
}

/// The request lines among a paperboy's stderr lines, as JSON objects.
fn json_request_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "request")
        .collect()
}

#[tokio::test]
async fn each_request_is_one_log_line_with_route_status_and_duration() {
    let upstream = any_date_upstream().await;
    let uri = upstream.uri();
    let cwd = tempfile::tempdir().unwrap();
    open_to_all(cwd.path());
    let base = [
        ("PAPERBOY_SERVER__PORT", "0"),
        ("PAPERBOY_STORAGE__DATA_DIR", ""),
        ("PAPERBOY_UPSTREAM__BASE_URL", uri.as_str()),
    ];

    // log.format = "json": one object per line, for machines.
    let mut env = base.to_vec();
    env.push(("PAPERBOY_LOG__FORMAT", "json"));
    let (json, port) = start(cwd.path(), &env).await;
    // A day that warm-up did not fetch, so that the request fetches it.
    let day = Utc::now().date_naive() - chrono::Days::new(10);
    let feed_response = client()
        .get(format!(
            "http://127.0.0.1:{port}/feed.rss?days=1&date={day}"
        ))
        .header("x-request-id", "feed-request-1")
        .send()
        .await
        .unwrap();
    assert_eq!(feed_response.status(), 200);
    assert_eq!(feed_response.headers()["x-request-id"], "feed-request-1");
    assert_eq!(get(port, "/no/such/page").await.status(), 404);
    json.wait_for_line("for the 404", Duration::from_secs(10), |l| {
        l.contains("\"status\":404")
    })
    .await;
    let lines = json_request_lines(&json.lines());
    let by_route: HashMap<String, &Value> = lines
        .iter()
        .map(|v| (v["fields"]["route"].as_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(lines.len(), 2, "one line per request: {lines:?}");
    let feed = by_route["/feed.rss"];
    assert_eq!(feed["fields"]["status"], 200);
    assert_eq!(feed["fields"]["method"], "GET");
    assert_eq!(feed["level"], "INFO");
    assert!(feed["fields"]["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(by_route["unmatched"]["fields"]["path"], "/no/such/page");
    // Every line of a request carries its id: the request line and the upstream fetch.
    assert_eq!(feed["span"]["request_id"], "feed-request-1", "{feed}");
    let of_request: Vec<Value> = json
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["span"]["request_id"] == "feed-request-1")
        .collect();
    assert!(
        of_request
            .iter()
            .any(|v| v["fields"]["message"] == "fetched daily list"),
        "{of_request:?}"
    );

    // The default: text for people.
    let (text, port) = start(cwd.path(), &base).await;
    assert_eq!(get(port, "/healthz").await.status(), 200);
    let line = text
        .wait_for_line("for /healthz", Duration::from_secs(10), |l| {
            l.contains("route=/healthz")
        })
        .await;
    assert!(line.contains("status=200"), "{line}");
    assert!(line.contains("duration_ms="), "{line}");
    assert!(
        serde_json::from_str::<Value>(&line).is_err(),
        "not JSON: {line}"
    );

    // RUST_LOG picks the levels: request lines are at info, so this silences them.
    let mut env = base.to_vec();
    env.push(("RUST_LOG", "info,paperboy::http::edge=warn"));
    let (quiet, port) = start(cwd.path(), &env).await;
    assert_eq!(get(port, "/healthz").await.status(), 200);
    assert_eq!(get(port, "/no/such/page").await.status(), 404);
    // A later line proves the earlier requests had their chance to be logged.
    quiet.signal(libc::SIGTERM);
    quiet
        .wait_for_line("saying it stopped", Duration::from_secs(10), |l| {
            l.contains("paperboy stopped")
        })
        .await;
    assert!(
        !quiet.lines().iter().any(|l| l.contains("route=")),
        "{:?}",
        quiet.lines()
    );
}

#[test]
fn the_image_builds_offline_and_runs_as_a_numeric_non_root_user() {
    let dockerfile = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"),
    )
    .unwrap();
    assert!(
        !dockerfile
            .lines()
            .any(|l| l.trim_start().to_ascii_lowercase().starts_with("# syntax=")),
        "a syntax line makes BuildKit pull a front end from a registry"
    );
    let users: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("USER "))
        .collect();
    assert_eq!(users, ["USER 65532:65532"]);
}

#[tokio::test]
async fn the_token_is_never_written_to_the_logs() {
    let token = "hf_tokenthatmustnotleak42";
    let upstream = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&upstream)
        .await;
    let uri = upstream.uri();
    let cwd = tempfile::tempdir().unwrap();
    open_to_all(cwd.path());
    let env = [
        ("PAPERBOY_SERVER__PORT", "0"),
        ("PAPERBOY_STORAGE__DATA_DIR", ""),
        ("PAPERBOY_UPSTREAM__BASE_URL", uri.as_str()),
        ("PAPERBOY_UPSTREAM__TOKEN", token),
        ("RUST_LOG", "debug"),
    ];
    let (child, port) = start(cwd.path(), &env).await;
    assert_eq!(get(port, "/feed.rss?days=1").await.status(), 503);
    child
        .wait_for_line("the failed fetch", Duration::from_secs(10), |l| {
            l.contains("failed to fetch daily list")
        })
        .await;
    let sent = upstream.received_requests().await.unwrap();
    assert!(!sent.is_empty() && sent.iter().all(|r| r.headers.contains_key("authorization")));
    for line in child.lines() {
        assert!(!line.contains(token), "{line}");
    }
}

/// Section 15: with the shared server out of reach, the binary serves alone, warns once, and
/// writes its password nowhere (logs, `/readyz`, `/metrics`).
#[tokio::test]
async fn an_unreachable_shared_server_is_warned_about_once_without_its_password() {
    let password = "clusterpasswordthatmustnotleak";
    let upstream = any_date_upstream().await;
    let uri = upstream.uri();
    // A port nothing listens on.
    let cluster = format!("redis://:{password}@127.0.0.1:{}", free_port());
    let env = [
        ("PAPERBOY_CLUSTER__URL", cluster.as_str()),
        ("RUST_LOG", "debug"),
        ("PAPERBOY_SERVER__PORT", "0"),
        ("PAPERBOY_STORAGE__DATA_DIR", ""),
        ("PAPERBOY_UPSTREAM__BASE_URL", uri.as_str()),
    ];
    let cwd = tempfile::tempdir().unwrap();
    open_to_all(cwd.path());
    let (child, port) = start(cwd.path(), &env).await;
    assert_eq!(get(port, "/feed.rss?days=1").await.status(), 200);
    let ready = get(port, "/readyz").await.text().await.unwrap();
    assert!(ready.contains(r#""cluster":"unreachable""#), "{ready}");
    let metrics = get(port, "/metrics").await.text().await.unwrap();
    assert!(metrics.contains("paperboy_cluster_up 0"));
    // Several checks of the server later, still one warning.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let lines = child.lines();
    let warnings = lines
        .iter()
        .filter(|l| l.contains("the shared server cannot be reached"))
        .count();
    assert_eq!(warnings, 1, "{lines:#?}");
    for text in lines.iter().chain([&ready, &metrics]) {
        assert!(!text.contains(password), "{text}");
    }
}

/// Section 15 over TLS: `rediss://` to a redis-server that speaks only TLS, its certificate
/// signed by a test authority that the binary is told to trust (`SSL_CERT_FILE`, which the
/// client's root store reads): the instance connects, and its lists reach the server.
#[tokio::test]
async fn a_shared_server_over_tls_is_used() {
    if !installed(
        "/usr/bin/redis-server",
        "redis-server",
        "the TLS cluster test",
    ) || !installed("/usr/bin/openssl", "openssl", "the TLS cluster test")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    let run = |args: &[&str]| {
        let status = Command::new("/usr/bin/openssl")
            .args(args)
            .current_dir(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=paperboy test authority",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(dir.path().join("ext"), "subjectAltName=DNS:localhost\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    for file in ["ca.crt", "server.crt", "server.key"] {
        open_to_all(&dir.path().join(file));
    }
    let tls_port = free_port().to_string();
    let mut redis = Command::new("/usr/bin/redis-server");
    redis
        .current_dir(dir.path())
        .args([
            "--port",
            "0",
            "--tls-port",
            &tls_port,
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--tls-cert-file",
            "server.crt",
            "--tls-key-file",
            "server.key",
        ])
        .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
        .args(["--save", "", "--appendonly", "no"]);
    let _redis = ChildGuard::spawn(redis);
    let ca = dir.path().join("ca.crt");
    let cli = |args: &[&str]| {
        let tls = ["--tls", "--cacert", ca.to_str().unwrap(), "-h", "localhost"];
        Command::new("/usr/bin/redis-cli")
            .args(tls)
            .args(["-p", &tls_port])
            .args(args)
            .output()
            .unwrap()
    };
    for _ in 0..250 {
        if String::from_utf8_lossy(&cli(&["ping"]).stdout).contains("PONG") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let upstream = any_date_upstream().await;
    let uri = upstream.uri();
    let cluster = format!("rediss://localhost:{tls_port}");
    let env = [
        ("PAPERBOY_CLUSTER__URL", cluster.as_str()),
        ("SSL_CERT_FILE", ca.to_str().unwrap()),
        ("PAPERBOY_SERVER__PORT", "0"),
        ("PAPERBOY_STORAGE__DATA_DIR", ""),
        ("PAPERBOY_UPSTREAM__BASE_URL", uri.as_str()),
    ];
    let (child, port) = start(dir.path(), &env).await;
    let mut ready = String::new();
    for _ in 0..250 {
        ready = get(port, "/readyz").await.text().await.unwrap();
        if ready.contains(r#""cluster":"ok""#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        ready.contains(r#""cluster":"ok""#),
        "{ready}\n{:#?}",
        child.lines()
    );
    assert_eq!(
        get(port, "/feed.json?date=2026-08-03&days=1")
            .await
            .status(),
        200
    );
    // The list is in the server: read back over TLS with Debian's client.
    let keys = cli(&["--scan", "--pattern", "paperboy:day:*"]);
    let keys = String::from_utf8_lossy(&keys.stdout);
    assert!(keys.contains("paperboy:day:2026-08-03"), "{keys}");
}

#[tokio::test]
async fn a_password_in_a_url_setting_stops_start_up_with_one_line_that_does_not_echo_it() {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = Command::new(BINARY);
    command
        .args(["--port", "0"])
        .current_dir(cwd.path())
        .env_clear()
        .env("PAPERBOY_UPSTREAM__BASE_URL", "http://u:secret@127.0.0.1:9")
        .env("PAPERBOY_STORAGE__DATA_DIR", "");
    // A guard, so that a binary that starts serving fails the test instead of hanging it.
    let mut paperboy = ChildGuard::spawn(command);
    let status = paperboy.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{status:?}");
    let line = paperboy
        .wait_for_line("naming the setting", Duration::from_secs(5), |l| {
            l.contains("invalid setting upstream.base_url: ")
        })
        .await;
    assert_eq!(
        paperboy.lines().len(),
        1,
        "one line: {:?}",
        paperboy.lines()
    );
    assert!(line.contains("127.0.0.1"), "names the host: {line}");
    assert!(!line.contains("secret"), "never the password: {line}");
}

/// The subscriptions are written at most once a second (a burst of them is one write); those
/// taken since the last write are written when the server stops on SIGTERM.
#[tokio::test]
async fn subscriptions_taken_just_before_sigterm_are_written_down() {
    let upstream = any_date_upstream().await;
    let subscriber = crate::websub::Subscriber::start().await;
    let layout = image_layout();
    let data = layout.data.to_str().unwrap().to_owned();
    let uri = upstream.uri();
    let mut env = image_env(&data, &uri).to_vec();
    env.push(("PAPERBOY_WEBSUB__CALLBACKS", "any"));
    let (mut paperboy, port) = start(&layout.app, &env).await;
    wait_ready(&paperboy, port).await;
    let file = layout.data.join("websub/subscriptions.json");
    let written = |name: &str| {
        std::fs::read_to_string(&file).is_ok_and(|t| t.contains(&format!("/cb/{name}?")))
    };
    let active = |count: f64| async move {
        let scraped = crate::support::scrape(&client(), &format!("http://127.0.0.1:{port}")).await;
        scraped.get("paperboy_websub_subscriptions", &[]) == count
    };
    let topic = format!("http://127.0.0.1:{port}/feed.atom?days=1");
    for (name, count) in [("a", 1.0), ("b", 2.0), ("c", 3.0)] {
        let callback = subscriber.callback(name);
        let form = crate::helpers::query_string(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", &topic),
            ("hub.callback", &callback),
        ]);
        let response = client()
            .post(format!("http://127.0.0.1:{port}/websub"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        crate::websub::within(5, "the subscription is active", || active(count)).await;
        if name == "a" {
            crate::websub::within(5, "the first is written at once", || async { written("a") })
                .await;
        }
    }

    paperboy.signal(libc::SIGTERM);
    let status = paperboy.wait_exit(Duration::from_secs(10)).await;
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    for name in ["a", "b", "c"] {
        assert!(written(name), "{name} is in the file after the stop");
    }
}
