//! A chaos proxy: a TCP forwarder to a database server that a test can cut (every
//! connection dropped, new ones closed at once) and restore, to inject a replica
//! failure instead of sleeping through one.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Forwards `127.0.0.1:<port>` to a target while open.
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    open: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let open = watch::Sender::new(true);
        let state = open.subscribe();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !*state.borrow() {
                    // Cut: the client sees its connection closed during the handshake.
                    drop(client);
                    continue;
                }
                let mut cut = state.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        Proxy { addr, open, task }
    }

    /// Drops every forwarded connection and refuses new ones.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }

    /// `url` with its `host:port` replaced by the proxy's address.
    pub fn url_for(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| format!("{user}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}/{path}", self.addr)
    }
}

/// The `host:port` a database URL points at, with the scheme's default port.
pub async fn target_of(url: &str) -> SocketAddr {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        let port = if scheme.starts_with("postgres") {
            5432
        } else {
            3306
        };
        format!("{host}:{port}")
    };
    tokio::net::lookup_host(host)
        .await
        .expect("a resolvable database host")
        .next()
        .expect("an address")
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
