//! WebSocket origins on 127.0.0.1:0 for the upgrade tests: tungstenite
//! answering each text message, or a hand-written server that accepts
//! permessage-deflate and keeps every byte it is sent.

use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use super::pki::{server_config, Pki};

/// What a WebSocket origin saw: text messages (tungstenite server), or every
/// byte after the handshake (raw server).
#[derive(Clone, Default)]
pub struct Seen {
    pub messages: Arc<Mutex<Vec<String>>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
    pub closed: Arc<tokio::sync::Notify>,
}

/// A TLS WebSocket server for `names`: tungstenite answering each text
/// message with `ack N`, or (`raw`) a hand-written one that accepts
/// permessage-deflate and keeps the bytes it receives.
pub async fn ws_origin(pki: &Pki, names: &[&str], raw: bool) -> (std::net::SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(pki.issue(names)));
    let seen = Seen::default();
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, s) = (acceptor.clone(), s.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                // Only a WebSocket session counts: sluice's own check of the
                // origin's certificate is a connection too.
                let session = if raw {
                    raw_server(tls, &s).await
                } else {
                    echo_server(tls, &s).await
                };
                if session {
                    s.closed.notify_one();
                }
            });
        }
    });
    (addr, seen)
}

/// Whether the connection was a WebSocket session.
async fn echo_server<IO>(io: IO, s: &Seen) -> bool
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut ws) = tokio_tungstenite::accept_async(io).await else {
        return false;
    };
    while let Some(Ok(m)) = ws.next().await {
        if let Message::Text(t) = m {
            let n = {
                let mut got = s.messages.lock().unwrap();
                got.push(t.to_string());
                got.len()
            };
            if ws.send(Message::text(format!("ack {n}"))).await.is_err() {
                break;
            }
        }
    }
    true
}

/// Whether the connection was an upgraded session. Any upgrade is answered
/// (a WebSocket one with its accept key and permessage-deflate).
async fn raw_server<IO>(mut io: IO, s: &Seen) -> bool
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let head = read_http_head(&mut io).await;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let Some(proto) = header("upgrade") else {
        return false;
    };
    let answer = match header("sec-websocket-key") {
        Some(key) => {
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            )
        }
        None => format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: {proto}\r\nConnection: Upgrade\r\n\r\n"
        ),
    };
    if io.write_all(answer.as_bytes()).await.is_err() {
        return false;
    }
    let mut buf = [0u8; 4096];
    loop {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(n) => s.raw.lock().unwrap().extend_from_slice(&buf[..n]),
        }
    }
}

/// An HTTP head, byte by byte up to its blank line.
pub async fn read_http_head<IO: tokio::io::AsyncRead + Unpin>(io: &mut IO) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if io.read(&mut b).await.unwrap_or(0) == 0 {
            break;
        }
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}
