//! The commands besides `serve`: `paperboy fetch` (back-fill the data directory) and
//! `paperboy export` (a static site of the feeds). Both work on the same state as the server
//! ([`crate::startup::offline_state`]): the same client, budget, retries, storage and
//! renderers, not a second copy of them.

pub mod export;
pub mod fetch;
pub mod progress;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Success,
    /// Some dates failed (they are listed), or the export could not be written.
    Failed,
    /// The command was asked something it cannot do (a date out of range, a bad folder).
    Usage,
    /// Stopped by Ctrl-C or SIGTERM; what was written stays.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            // 128 + SIGINT, as shells report it.
            Exit::Interrupted => 130,
        }
    }
}

/// Something a command was asked that it cannot do: one line, exit code 2.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT) or SIGTERM (a CI job being
/// cancelled, `docker stop`).
pub async fn stop_requested() {
    // A signal that cannot be listened for never fires: it must not stop the command at once.
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
