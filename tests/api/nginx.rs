//! `deploy/nginx.conf` really works: Debian's nginx, run with that very file (only its
//! addresses and paths substituted), in front of a paperboy on loopback. A second identical
//! request is answered by nginx without reaching paperboy, a reader's conditional request
//! gets a 304, and an expired entry is revalidated with paperboy's 304.
//!
//! `.ci/run` installs nginx. Without it, the test fails when `CI` is set and is skipped, with
//! a message, otherwise.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::*;
use crate::support::{ChildGuard, Scrape, open_to_all, scrape};

const NGINX: &str = "/usr/sbin/nginx";
const REQUESTS: &str = "paperboy_http_requests_total";

/// Whether nginx is there; panics under CI when it is not.
fn nginx_available() -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{NGINX} is missing: .ci/run installs Debian's nginx"
    );
    eprintln!(
        "SKIPPED: {NGINX} is not installed (apt-get install nginx); the nginx test did not run"
    );
    false
}

/// nginx with `deploy/nginx.conf`, in front of `paperboy_port`, stopped when dropped.
struct Nginx {
    base: String,
    _process: ChildGuard,
    _dir: tempfile::TempDir,
}

/// `deploy/nginx.conf` with the container's addresses and paths replaced by loopback ports
/// and a temporary folder; every directive is kept as it is.
fn templated_config(paperboy_port: u16, nginx_port: u16, dir: &Path) -> String {
    let original =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .expect("deploy/nginx.conf");
    let dir = dir.to_str().unwrap();
    let mut config = original.clone();
    for (from, to) in [
        (
            "server paperboy:8080;",
            format!("server 127.0.0.1:{paperboy_port};"),
        ),
        ("listen 80;", format!("listen 127.0.0.1:{nginx_port};")),
        ("pid /var/run/nginx.pid;", format!("pid {dir}/nginx.pid;")),
        ("/var/cache/nginx/", format!("{dir}/cache/")),
        (
            "access_log /dev/stdout",
            format!("access_log {dir}/access.log"),
        ),
    ] {
        assert!(
            config.contains(from),
            "deploy/nginx.conf no longer has {from:?}: update this test with it"
        );
        config = config.replace(from, &to);
    }
    config
}

/// nginx run with `conf` from `prefix`, stopped by SIGTERM when dropped, once `ready_url`
/// answers 200.
async fn run_nginx(prefix: &Path, conf: &Path, ready_url: &str) -> ChildGuard {
    let mut command = Command::new(NGINX);
    command
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(conf)
        .args(["-e", "stderr", "-g", "daemon off;"]);
    let process = ChildGuard::spawn_stopped_by(command, libc::SIGTERM);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..500 {
        if let Ok(r) = client.get(ready_url).send().await
            && r.status() == 200
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "nginx never answered {ready_url}; stderr:\n{}",
        process.lines().join("\n")
    );
}

async fn start_nginx(paperboy_port: u16) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    // nginx's workers run as an unprivileged user: they must reach the cache folder.
    open_to_all(dir.path());
    std::fs::create_dir_all(dir.path().join("cache")).unwrap();
    open_to_all(&dir.path().join("cache"));
    let nginx_port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let conf: PathBuf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        templated_config(paperboy_port, nginx_port, dir.path()),
    )
    .unwrap();

    let base = format!("http://127.0.0.1:{nginx_port}");
    let process = run_nginx(dir.path(), &conf, &format!("{base}/healthz")).await;
    Nginx {
        base,
        _process: process,
        _dir: dir,
    }
}

/// GET through nginx with extra headers; returns status, X-Cache-Status and the response.
async fn through(
    app: &TestApp,
    nginx: &Nginx,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, reqwest::Response) {
    let mut request = app.client.get(format!("{}{path}", nginx.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("nginx answers");
    let cache = response
        .headers()
        .get("x-cache-status")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), cache, response)
}

/// Requests paperboy answered for `/feed.rss` with `status`, read from its own `/metrics`.
async fn answered(app: &TestApp, status: &str) -> f64 {
    let scraped: Scrape = scrape(&app.client, &app.address).await;
    scraped.get(REQUESTS, &[("route", "/feed.rss"), ("status", status)])
}

#[tokio::test]
async fn nginx_serves_the_second_request_from_its_cache_and_answers_conditional_requests() {
    if !nginx_available() {
        return;
    }
    let app = spawn_app().await;
    let nginx = start_nginx(app.port).await;
    let path = "/feed.rss?days=2";

    let (status, cache, first) = through(&app, &nginx, path, &[]).await;
    assert_eq!((status, cache.as_str()), (200, "MISS"));
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(first.headers()["cache-control"], "public, max-age=600");
    let body = first.bytes().await.unwrap();
    assert_eq!(answered(&app, "200").await, 1.0);

    // The same request again: nginx answers it, paperboy never sees it.
    let (status, cache, second) = through(&app, &nginx, path, &[]).await;
    assert_eq!((status, cache.as_str()), (200, "HIT"));
    assert_eq!(second.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(second.bytes().await.unwrap(), body);
    assert_eq!(answered(&app, "200").await, 1.0, "paperboy saw one request");

    // A reader revalidating: 304 from nginx's copy, by ETag or by date.
    let (status, cache, _) = through(&app, &nginx, path, &[("if-none-match", &etag)]).await;
    assert_eq!((status, cache.as_str()), (304, "HIT"));
    let (status, _, _) =
        through(&app, &nginx, path, &[("if-modified-since", &last_modified)]).await;
    assert_eq!(status, 304);
    assert_eq!(answered(&app, "200").await, 1.0);
    assert_eq!(answered(&app, "304").await, 0.0);

    // Compressed copies are cached apart, whatever the spelling of Accept-Encoding.
    let (status, cache, gz) = through(&app, &nginx, path, &[("accept-encoding", "gzip")]).await;
    assert_eq!((status, cache.as_str()), (200, "MISS"));
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let (_, cache, gz) = through(
        &app,
        &nginx,
        path,
        &[("accept-encoding", "deflate, gzip;q=0.9")],
    )
    .await;
    assert_eq!(cache, "HIT");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let (_, cache, plain) = through(&app, &nginx, path, &[]).await;
    assert_eq!(cache, "HIT");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(answered(&app, "200").await, 2.0);

    // Errors are not cached: paperboy sends them without Cache-Control.
    for _ in 0..2 {
        let (status, cache, _) = through(&app, &nginx, "/feed.rss?days=0", &[]).await;
        assert_eq!((status, cache.as_str()), (400, "MISS"));
    }
    // Prometheus scrapes paperboy itself, not the public proxy.
    let (status, _, _) = through(&app, &nginx, "/metrics", &[]).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn nginx_revalidates_an_expired_entry_and_paperboy_answers_304() {
    if !nginx_available() {
        return;
    }
    let app = spawn_app_with(|s| s.server.max_age = Duration::from_secs(1)).await;
    let nginx = start_nginx(app.port).await;
    let path = "/feed.atom?days=1";

    let (status, cache, first) = through(&app, &nginx, path, &[]).await;
    assert_eq!((status, cache.as_str()), (200, "MISS"));
    let body = first.bytes().await.unwrap();

    // Once max-age has passed, nginx asks paperboy with the cached validators; the 304 that
    // comes back refreshes its copy without a body.
    let atom_304 = || async {
        scrape(&app.client, &app.address)
            .await
            .get(REQUESTS, &[("route", "/feed.atom"), ("status", "304")])
    };
    let mut revalidated = false;
    for _ in 0..100 {
        let (status, _, response) = through(&app, &nginx, path, &[]).await;
        assert_eq!(status, 200);
        assert_eq!(response.bytes().await.unwrap(), body);
        if atom_304().await >= 1.0 {
            revalidated = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        revalidated,
        "paperboy answered nginx's revalidation with a 304"
    );
    let scraped = scrape(&app.client, &app.address).await;
    assert_eq!(
        scraped.get(REQUESTS, &[("route", "/feed.atom"), ("status", "200")]),
        1.0,
        "the body was sent once"
    );
}

/// nginx with `deploy/static/nginx.conf`, serving `site` (a `paperboy export`).
async fn start_static_nginx(site: &Path) -> (Nginx, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    open_to_all(dir.path());
    std::fs::create_dir_all(dir.path().join("cache")).unwrap();
    open_to_all(&dir.path().join("cache"));
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let original = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/static/nginx.conf"),
    )
    .expect("deploy/static/nginx.conf");
    let path = dir.path().to_str().unwrap();
    let log = dir.path().join("access.log");
    let mut config = original;
    for (from, to) in [
        ("listen 80;".to_owned(), format!("listen 127.0.0.1:{port};")),
        (
            "root /srv/paperboy;".to_owned(),
            format!("root {};", site.display()),
        ),
        (
            "pid /var/run/nginx.pid;".to_owned(),
            format!("pid {path}/nginx.pid;"),
        ),
        ("/var/cache/nginx/".to_owned(), format!("{path}/cache/")),
        (
            "access_log /dev/stdout".to_owned(),
            format!("access_log {}", log.display()),
        ),
    ] {
        assert!(
            config.contains(&from),
            "deploy/static/nginx.conf no longer has {from:?}: update this test with it"
        );
        config = config.replace(&from, &to);
    }
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, config).unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let process = run_nginx(dir.path(), &conf, &format!("{base}/index.html")).await;
    (
        Nginx {
            base,
            _process: process,
            _dir: dir,
        },
        log,
    )
}

#[tokio::test]
async fn nginx_serves_an_export_with_gzip_static_to_a_real_feed_reader() {
    if !nginx_available() {
        return;
    }
    let Some(newsboat) = crate::readers::newsboat_or_skip() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // nginx's workers run as an unprivileged user: they must reach the site.
    open_to_all(work.path());
    let data = work.path().join("data").to_str().unwrap().to_owned();
    let app = spawn_app_with(|s| s.storage.data_dir = data.clone()).await;
    let site = work.path().join("site");
    export_site(&app.state, &site, None).await.unwrap();
    for entry in ["", "topics", "topics/llm"] {
        open_to_all(&site.join(entry));
    }
    let (nginx, log) = start_static_nginx(&site).await;

    // gzip_static: the .gz sibling to a client that takes gzip, the file to one that does not.
    let file = std::fs::read(site.join("feed.atom")).unwrap();
    let gz = std::fs::read(site.join("feed.atom.gz")).unwrap();
    let response = app
        .client
        .get(format!("{}/feed.atom", nginx.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["content-type"], ATOM_TYPE);
    assert_eq!(response.headers()["vary"], "Accept-Encoding");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(
        response.bytes().await.unwrap(),
        gz,
        "the .gz file, sent as it is"
    );
    let (status, _, plain) = through(&app, &nginx, "/feed.atom", &[]).await;
    assert_eq!(status, 200);
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap(), file);
    let (status, _, _) = through(
        &app,
        &nginx,
        "/feed.atom",
        &[("if-none-match", &etag), ("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(status, 304, "a reader's conditional request");
    let (status, _, _) = through(&app, &nginx, "/.paperboy-export", &[]).await;
    assert_eq!(status, 404);
    let (status, _, index) = through(&app, &nginx, "/", &[]).await;
    assert_eq!(status, 200);
    assert!(index.text().await.unwrap().contains("topics.opml"));

    // newsboat subscribes to two files and reads every item of each, compressed.
    let home = work.path().join("newsboat");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("urls"),
        format!("{0}/feed.atom\n{0}/topics/llm/digest.rss\n", nginx.base),
    )
    .unwrap();
    std::fs::write(home.join("config-file"), "reload-threads 2\n").unwrap();
    let items = parse_atom(&file).entries().len()
        + parse_rss(&std::fs::read(site.join("topics/llm/digest.rss")).unwrap())
            .items()
            .len();
    assert!(items > 5, "{items}");
    let output = crate::readers::newsboat(&newsboat, &home, &["reload", "print-unread"]).await;
    assert_eq!(crate::readers::unread(&output), items);
    let log = std::fs::read_to_string(&log).unwrap();
    let reader_lines: Vec<&str> = log.lines().filter(|l| l.contains("newsboat")).collect();
    assert_eq!(reader_lines.len(), 2, "{log}");
    assert!(
        reader_lines
            .iter()
            .all(|l| l.contains(" 200 ") && l.contains("enc=gzip")),
        "newsboat got the .gz files: {log}"
    );
}
