//! The command line: parse arguments, load settings, start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use paperboy::app::settings::{Overrides, Settings};
use paperboy::commands::{
    self, Exit, export::ExportOptions, fetch::FetchOptions, progress::Progress, stop_requested,
};
use paperboy::common::clock::SystemClock;
use paperboy::startup::{Application, offline_state};

/// Hugging Face Daily Papers as filtered RSS, Atom and JSON feeds.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the feeds (the default).
    Serve(ServeArgs),
    /// Exit 0 when GET <url>/healthz answers 200, else 1.
    Healthcheck {
        /// Base URL of the instance to check.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
    /// Fill the data directory with the daily lists of a range of dates (default: the last
    /// feeds.max_days days). Exit 0, 1 when a date failed, 2 for a date out of range.
    Fetch(FetchArgs),
    /// Write the feeds as a static site (for GitHub Pages, S3, nginx), fetching what is
    /// missing first. Exit codes as fetch.
    Export(ExportArgs),
}

/// The settings every command reads.
#[derive(Debug, Args, Clone, Default)]
struct SettingsArgs {
    /// Settings file (default: config/default.toml in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Hugging Face API base URL.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Where fetched daily lists are kept (empty turns storage off).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
struct ServeArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Port to listen on.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Absolute base URL for self links.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

#[derive(Debug, Args, Clone)]
struct FetchArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// The oldest date (YYYY-MM-DD); alone, fetches up to today.
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// The newest date (YYYY-MM-DD); default today (UTC).
    #[arg(long, value_name = "DATE")]
    to: Option<NaiveDate>,
    /// Fetch again the lists that are stored and fresh.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args, Clone)]
struct ExportArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// The folder to write the site into (replaced whole; new, empty, or an earlier export).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Absolute URL the site is served at: self links, ids and OPML URLs are built from it
    /// (default: server.public_url).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Days of feed.* and of the topic feeds (default: the server's).
    #[arg(long, value_name = "N")]
    days: Option<u32>,
}

fn main() -> ExitCode {
    paperboy::startup::allocator::tune();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Healthcheck { url }) => healthcheck(&url),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Fetch(args)) => fetch(args),
        Some(Command::Export(args)) => export(args),
        None => serve(cli.serve),
    }
}

/// The settings, or the one line that says why not (then exit 2).
fn load_settings(overrides: Overrides) -> Result<Settings, ExitCode> {
    Settings::load(&overrides, std::env::vars()).map_err(|e| {
        eprintln!("paperboy: {e}");
        ExitCode::from(2)
    })
}

fn overrides(args: SettingsArgs) -> Overrides {
    Overrides {
        config_file: args.config,
        upstream: args.upstream,
        data_dir: args.data_dir,
        ..Overrides::default()
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let overrides = Overrides {
        bind: args.bind,
        port: args.port,
        public_url: args.public_url,
        ..overrides(args.settings)
    };
    let settings = match load_settings(overrides) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    paperboy::startup::logs::init(settings.log.format);
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        tracing::info!(port = app.port(), "paperboy is listening");
        app.run_until_stopped().await?;
        tracing::info!("paperboy stopped");
        anyhow::Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("paperboy: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command's future on a runtime of its own; 1 when the runtime cannot start.
fn run_command<F: std::future::Future<Output = ExitCode>>(command: F) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(e) => {
            eprintln!("paperboy: cannot start: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The state the commands work on, or why not (exit 1: the data directory cannot be used).
fn command_state(settings: Settings) -> Result<paperboy::app::state::AppState, ExitCode> {
    paperboy::startup::logs::init_with_level(settings.log.format, "warn");
    offline_state(settings, Arc::new(SystemClock)).map_err(|e| {
        eprintln!("paperboy: {e:#}");
        ExitCode::FAILURE
    })
}

fn fetch(args: FetchArgs) -> ExitCode {
    let settings = match load_settings(overrides(args.settings)) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let options = FetchOptions {
        from: args.from,
        to: args.to,
        force: args.force,
    };
    run_command(async move {
        let state = match command_state(settings) {
            Ok(state) => state,
            Err(code) => return code,
        };
        match commands::fetch::fetch(&state, &options, Progress::on_stderr, stop_requested()).await
        {
            Ok(fetched) => {
                fetched.report(&mut std::io::stdout(), &mut std::io::stderr());
                ExitCode::from(fetched.exit().code())
            }
            Err(e) => {
                eprintln!("paperboy fetch: {e}");
                ExitCode::from(Exit::Usage.code())
            }
        }
    })
}

fn export(args: ExportArgs) -> ExitCode {
    let overrides = Overrides {
        public_url: args.base_url,
        ..overrides(args.settings)
    };
    let settings = match load_settings(overrides) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let options = ExportOptions {
        out: args.out,
        days: args.days,
    };
    run_command(async move {
        let state = match command_state(settings) {
            Ok(state) => state,
            Err(code) => return code,
        };
        match commands::export::export(&state, &options, Progress::on_stderr, stop_requested())
            .await
        {
            Ok(exported) => {
                exported.report(&options.out, &mut std::io::stdout(), &mut std::io::stderr());
                ExitCode::from(exported.exit().code())
            }
            Err(e) => {
                eprintln!("paperboy export: {e}");
                ExitCode::from(e.exit().code())
            }
        }
    })
}

fn healthcheck(url: &str) -> ExitCode {
    let target = format!("{}/healthz", url.trim_end_matches('/'));
    let request = target.clone();
    let result = actix_web::rt::System::new().block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(5))
            .no_proxy()
            .build()?;
        client.get(&request).send().await
    });
    match result {
        Ok(response) if response.status().is_success() => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!(
                "paperboy healthcheck: {target} answered {}",
                response.status()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("paperboy healthcheck: {target}: {e}");
            ExitCode::from(1)
        }
    }
}
