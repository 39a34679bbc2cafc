//! The `votewire` binary: parse the command line, then serve or migrate.

use std::process::ExitCode;

use clap::Parser;
use votewire_server::cli::{Cli, Run};
use votewire_server::{AppState, shutdown, store, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let run = match Cli::parse().into_run() {
        Ok(run) => run,
        Err(message) => {
            eprintln!("votewire: {message}");
            return ExitCode::from(2);
        }
    };
    let result = match run {
        Run::Migrate { database_url } => migrate(&database_url).await,
        Run::Serve(settings) => serve(settings).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("votewire: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(database_url: &str) -> Result<(), String> {
    let store = store::connect(database_url)
        .await
        .map_err(|e| format!("cannot open the database: {e:?}"))?;
    store.migrate().await.map_err(|e| format!("{e:?}"))?;
    println!("database is up to date");
    Ok(())
}

/// Connections the kernel queues before the node accepts them. The default of 128 (the
/// standard library's) overflows when a proxy opens thousands of upstream sockets in a
/// second, and an overflow costs the client a one-second SYN retry. The kernel caps it
/// at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(address: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

async fn serve(settings: votewire_server::Settings) -> Result<(), String> {
    let listener = listen(settings.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let app = AppState::build(settings, None)
        .await
        .map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    // Listen for signals before announcing the address, so a SIGTERM sent by whoever
    // read the announcement always drains instead of killing the process.
    let signal = shutdown::os_signal().map_err(|e| format!("cannot listen for signals: {e}"))?;
    let shutdown = app.shutdown.clone();
    tokio::spawn(async move {
        signal.await;
        shutdown.fire();
    });
    tracing::info!(node = %app.settings.node_id, "votewire serving on http://{address}");
    votewire_server::run(listener, app)
        .await
        .map_err(|e| format!("server error: {e}"))
}
