//! The command line: parse arguments, load settings, start.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use paperboy::config::{Overrides, Settings};
use paperboy::startup::Application;

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
}

#[derive(Debug, Args, Clone, Default)]
struct ServeArgs {
    /// Settings file (default: config/default.toml in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Port to listen on.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Hugging Face API base URL.
    #[arg(long, value_name = "URL")]
    upstream: Option<String>,
    /// Where fetched daily lists are kept (empty turns storage off).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// Absolute base URL for self links.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

fn main() -> ExitCode {
    paperboy::allocator::tune();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Healthcheck { url }) => healthcheck(&url),
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let overrides = Overrides {
        config_file: args.config,
        bind: args.bind,
        port: args.port,
        upstream: args.upstream,
        data_dir: args.data_dir,
        public_url: args.public_url,
    };
    let settings = match Settings::load(&overrides, std::env::vars()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("paperboy: {e}");
            return ExitCode::from(2);
        }
    };
    paperboy::telemetry::init(settings.log.format);
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
