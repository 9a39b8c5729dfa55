//! Byte-for-byte tunnels for CONNECT destinations that are not intercepted.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::idle::{Activity, Tracked};

/// Bytes moved by a finished tunnel, for its audit record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunnelStats {
    pub client_to_server: u64,
    pub server_to_client: u64,
    pub idle_closed: bool,
}

/// Splices `client` and `server` until either side closes, fails, nothing moves
/// for `idle`, or `stop` turns true; the counts cover whatever moved before the end.
pub async fn splice<C, S>(
    client: C,
    server: S,
    idle: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> TunnelStats
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The client side gets its own counters: what was read from it went up,
    // what was written to it came down, however the tunnel ends.
    let client_side = Activity::default();
    let activity = Activity::default();
    let mut c = Tracked::new(Tracked::new(client, client_side.clone()), activity.clone());
    let mut s = Tracked::new(server, activity.clone());
    let idle_closed = tokio::select! {
        r = tokio::io::copy_bidirectional(&mut c, &mut s) => {
            if let Err(e) = r {
                tracing::debug!(error = %e, "tunnel ended with an error");
            }
            false
        }
        _ = activity.idle(idle) => true,
        _ = async { let _ = stop.wait_for(|s| *s).await; } => false,
    };
    let (up, down) = client_side.bytes();
    TunnelStats {
        client_to_server: up,
        server_to_client: down,
        idle_closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn counts_survive_an_idle_close() {
        let (client, mut client_peer) = tokio::io::duplex(1024);
        let (server, mut server_peer) = tokio::io::duplex(1024);
        let (_stop_tx, stop) = tokio::sync::watch::channel(false);
        let t = tokio::spawn(splice(client, server, Duration::from_secs(5), stop));
        client_peer.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        server_peer.read_exact(&mut buf).await.unwrap();
        server_peer.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        client_peer.read_exact(&mut buf).await.unwrap();
        // Nobody closes: the idle timeout ends the tunnel, and the counts remain.
        let stats = t.await.unwrap();
        assert!(stats.idle_closed);
        assert_eq!((stats.client_to_server, stats.server_to_client), (5, 2));
    }
}
