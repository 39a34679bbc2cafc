//! The `votewire` binary: parse the command line, then serve, work, migrate or seed.

use std::process::ExitCode;

use clap::Parser;
use votewire_server::cli::{Cli, Run};
use votewire_server::{Node, Role, Settings, Shutdown, os_signal, server, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format());
    let run = match cli.into_run() {
        Ok(run) => run,
        Err(message) => {
            eprintln!("votewire: {message}");
            return ExitCode::from(2);
        }
    };
    let result = match run {
        Run::Migrate { database_url } => server::migrate(&database_url)
            .await
            .map(|()| println!("database is up to date")),
        Run::Serve(settings) => serve(Role::Serve, settings).await,
        Run::Work(settings) => serve(Role::Work, settings).await,
        Run::Seed(plan) => seed(plan).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("votewire: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn seed(plan: votewire_server::seed::SeedPlan) -> Result<(), String> {
    let signal = os_signal().map_err(|e| format!("cannot listen for signals: {e}"))?;
    let base = plan.url.clone();
    let report = votewire_server::seed::run(&plan, signal, |poll| {
        println!("poll {base}/p/{} (join code {})", poll.id, poll.join_code);
    })
    .await?;
    println!(
        "seeded {} votes on {} polls ({} standing)",
        report.votes,
        report.polls.len(),
        report.standing
    );
    Ok(())
}

async fn serve(role: Role, settings: Settings) -> Result<(), String> {
    let listener = server::listen(settings.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let admin = match settings.admin_listen {
        Some(admin) => {
            Some(server::listen(admin).map_err(|e| format!("cannot listen on {admin}: {e}"))?)
        }
        None => None,
    };
    // Listen for signals before announcing the address, so a SIGTERM sent by whoever
    // read the announcement always drains instead of killing the process.
    let signal = os_signal().map_err(|e| format!("cannot listen for signals: {e}"))?;
    let shutdown = Shutdown::new();
    // Before the build, which may wait for the database: a SIGTERM then stops the wait.
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            signal.await;
            shutdown.fire();
        }
    });
    let node_id = settings.node_id.clone();
    tracing::info!(node = %node_id, "votewire starting on http://{address}");
    let build = Node::build_as(role, settings.clone(), shutdown);
    let (node, listener) = server::answer_while_starting(listener, &settings, build)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(node = %node_id, "votewire serving on http://{address}");
    if let Some(admin) = &admin {
        let admin = admin.local_addr().map_err(|e| e.to_string())?;
        tracing::info!("/metrics and /api/cluster on http://{admin} only");
    }
    node.serve_with_admin(listener, admin)
        .await
        .map_err(|e| format!("server error: {e}"))
}
