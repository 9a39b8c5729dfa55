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

/// Splices `client` and `server` until either side closes or nothing moves for `idle`.
pub async fn splice<C, S>(client: C, server: S, idle: Duration) -> std::io::Result<TunnelStats>
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let activity = Activity::default();
    let mut c = Tracked::new(client, activity.clone());
    let mut s = Tracked::new(server, activity.clone());
    tokio::select! {
        r = tokio::io::copy_bidirectional(&mut c, &mut s) => {
            let (up, down) = r?;
            Ok(TunnelStats { client_to_server: up, server_to_client: down, idle_closed: false })
        }
        _ = activity.idle(idle) => Ok(TunnelStats { idle_closed: true, ..Default::default() }),
    }
}
