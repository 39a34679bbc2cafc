//! A lossy HTTP front: a TCP forwarder that, on every `n`th connection, passes the
//! client's request on whole and then drops the connection as soon as the answer starts
//! to come back. The server did the work (a vote committed, a poll created) and the
//! client never hears of it: the fault a retry must survive without counting twice.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Forwards `127.0.0.1:<port>` to a target, losing every `n`th connection's answer.
pub struct LossyProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    lost: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl LossyProxy {
    /// Starts forwarding to `target`, losing the answer of connections n, 2n, 3n, ...
    pub async fn start(target: SocketAddr, n: u64) -> LossyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("a bound address");
        let lost = Arc::new(AtomicU64::new(0));
        let counted = lost.clone();
        let task = tokio::spawn(async move {
            let mut accepted = 0u64;
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                accepted += 1;
                let lossy = accepted.is_multiple_of(n.max(1));
                let lost = counted.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    if lossy {
                        if lose_answer(client, server).await {
                            lost.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        let (mut client, mut server) = (client, server);
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        LossyProxy { addr, lost, task }
    }

    /// Answers lost so far.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// `http://` and the proxy's address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Forwards the client's bytes to the server until the server starts answering, then
/// drops both connections; true when an answer was lost that way.
async fn lose_answer(client: TcpStream, server: TcpStream) -> bool {
    let (mut from_client, _to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let forward = async move {
        let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
        // Keep the server's side open: the answer must still be written.
        std::future::pending::<()>().await;
    };
    let mut first = [0u8; 1];
    tokio::select! {
        () = forward => false,
        read = from_server.read(&mut first) => matches!(read, Ok(n) if n > 0),
    }
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt;

    use super::*;

    #[tokio::test]
    async fn every_nth_answer_is_lost_after_the_request_went_through() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = server.local_addr().unwrap();
        let received = Arc::new(AtomicU64::new(0));
        let seen = received.clone();
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = server.accept().await.unwrap();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 4];
                    if socket.read_exact(&mut request).await.is_ok() {
                        seen.fetch_add(1, Ordering::Relaxed);
                        let _ = socket.write_all(b"done").await;
                    }
                });
            }
        });
        let proxy = LossyProxy::start(target, 2).await;
        let mut answers = Vec::new();
        for _ in 0..4 {
            let mut socket = TcpStream::connect(proxy.addr).await.unwrap();
            socket.write_all(b"vote").await.unwrap();
            let mut answer = Vec::new();
            let _ = socket.read_to_end(&mut answer).await;
            answers.push(answer);
        }
        assert_eq!(
            answers,
            [b"done".to_vec(), Vec::new(), b"done".to_vec(), Vec::new()]
        );
        assert_eq!(received.load(Ordering::Relaxed), 4, "every request arrived");
        assert_eq!(proxy.lost(), 2);
    }
}
