//! Ctrl-C during a run: the first stops new steps, the second the process.

/// Resolves on the first Ctrl-C. A second one ends the process at once: the state already holds
/// every finished step, and the next run adopts by name whatever was in flight.
pub(super) async fn interrupted(enabled: bool) {
    if enabled && tokio::signal::ctrl_c().await.is_ok() {
        tracing::warn!(
            "interrupted: no new step starts; waiting for the running ones (Ctrl-C again to stop now)"
        );
        tokio::spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::error!("stopped; run the same command again to continue");
                std::process::exit(130);
            }
        });
        return;
    }
    std::future::pending::<()>().await
}
