//! WebSocket messages a client sends through an intercepted upgrade: each one
//! is held whole, inspected and decided as an upload is, and only then sent
//! upstream (DingTalk's web IM sends its chat over one). What the server sends
//! comes back unread; control frames pass at once.
//!
//! A blocked message never leaves: the client gets a Close frame (1008, policy
//! violation) naming the rule and the ticket, the server a Close (1001, going
//! away), and the connection ends, because a message dropped from the middle
//! of a conversation would leave both ends waiting on each other.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use flate2::{Decompress, FlushDecompress, Status};
use http::HeaderMap;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use super::hold::{HoldError, Stage};
use super::{pipeline, Shared};
use crate::inspect::{BodyScan, ContentHint, Findings, Incomplete, IncompleteReason, Limits};
use crate::net::idle::{Activity, Tracked};
use crate::policy::{Action, Destination, RequestMeta};
use crate::replay::har::SentMessage;
use crate::replay::record::{RecordedFlow, RecordedResponse, Recorder, MAX_BODY};

/// What the pipeline hands the upgrade, through the request's extensions, when
/// the messages on it are to be inspected: the proxy, and the request every
/// message is decided as (method `WEBSOCKET`, the upgrade's host and path).
#[derive(Clone)]
pub struct Watch {
    pub shared: Arc<Shared>,
    pub meta: RequestMeta,
    pub dest: Destination,
    /// `run --record`: where the handshake and its messages go when it ends.
    pub record: Option<Recording>,
}

/// A recorded WebSocket: the handshake's flow, its answer once upgraded, and
/// the messages the client sent (the data as its application sent it, at
/// most `MAX_BODY` bytes of them), written as one HAR entry when it ends.
#[derive(Clone)]
pub struct Recording(Arc<std::sync::Mutex<Option<Pending>>>);

/// Where the entry goes, and the entry; `None` once written.
type Pending = (Arc<Recorder>, RecordedFlow);

impl Recording {
    pub fn new(recorder: Arc<Recorder>, flow: RecordedFlow) -> Recording {
        Recording(Arc::new(std::sync::Mutex::new(Some((recorder, flow)))))
    }

    fn with(&self, f: impl FnOnce(&mut RecordedFlow)) {
        let mut g = match self.0.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some((_, flow)) = g.as_mut() {
            f(flow);
        }
    }

    /// The upstream's answer to the handshake (101).
    pub fn answered(&self, status: u16, headers: &HeaderMap) {
        self.with(|flow| {
            flow.response = Some(RecordedResponse {
                status,
                headers: super::record::headers_of(headers),
                body: Vec::new(),
            });
        });
    }

    fn sent(&self, binary: bool, data: Vec<u8>) {
        self.with(|flow| {
            let kept: usize = flow.sent_messages.iter().map(|m| m.data.len()).sum();
            if kept + data.len() <= MAX_BODY {
                flow.sent_messages.push(SentMessage { binary, data });
            }
        });
    }

    /// Writes the entry (once).
    fn finish(&self) {
        let taken = match self.0.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some((recorder, flow)) = taken {
            recorder.record(flow);
        }
    }
}

/// Close codes (RFC 6455 §7.4.1).
const POLICY_VIOLATION: u16 = 1008;
const GOING_AWAY: u16 = 1001;
const PROTOCOL_ERROR: u16 = 1002;

/// A frame header: 2 bytes, up to 8 of length, 4 of mask.
const MAX_HEAD: usize = 14;

/// Bytes of a message scanned on the connection's task before the scan moves
/// to a blocking thread (as for a held body).
const INLINE: u64 = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Head {
    fin: bool,
    /// RSV1: on a message's first frame, permessage-deflate compressed it.
    rsv1: bool,
    /// RSV2 or RSV3: no extension sluice reads uses them.
    rsv_other: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: u64,
    /// Bytes of the header itself.
    size: usize,
}

impl Head {
    fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    /// At least this many header bytes are needed.
    Need(usize),
    Head(Head),
    Bad(&'static str),
}

/// Reads a frame header from the start of `b`.
fn parse_head(b: &[u8]) -> Parsed {
    let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else {
        return Parsed::Need(2);
    };
    let masked = b1 & 0x80 != 0;
    let ext = match b1 & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let size = 2 + ext + if masked { 4 } else { 0 };
    let Some(rest) = b.get(2..size) else {
        return Parsed::Need(size);
    };
    let mut len_bytes = [0u8; 8];
    let (len_part, mask_part) = rest.split_at(ext);
    len_bytes[8 - ext..].copy_from_slice(len_part);
    let len = if ext == 0 {
        u64::from(b1 & 0x7F)
    } else {
        u64::from_be_bytes(len_bytes)
    };
    let opcode = b0 & 0x0F;
    let fin = b0 & 0x80 != 0;
    if len >> 63 != 0 {
        return Parsed::Bad("a frame length with its top bit set");
    }
    if matches!(opcode, 3..=7 | 11..=15) {
        return Parsed::Bad("a reserved opcode");
    }
    if opcode & 0x8 != 0 && (!fin || len > 125) {
        return Parsed::Bad("a fragmented or overlong control frame");
    }
    let mask = if masked {
        let mut m = [0u8; 4];
        m.copy_from_slice(mask_part);
        Some(m)
    } else {
        None
    };
    Parsed::Head(Head {
        fin,
        rsv1: b0 & 0x40 != 0,
        rsv_other: b0 & 0x30 != 0,
        opcode,
        mask,
        len,
        size,
    })
}

/// Unmasks `data`, the payload bytes from offset `at` of a frame.
fn unmask(data: &mut [u8], mask: [u8; 4], at: u64) {
    for (k, b) in data.iter_mut().enumerate() {
        *b ^= mask[((at + k as u64) % 4) as usize];
    }
}

/// A masking key for a frame sluice sends to a server, from the system CSPRNG
/// (RFC 6455 §5.3: unpredictable, so no one can choose the bytes on the wire).
pub(crate) fn random_mask() -> [u8; 4] {
    use ring::rand::SecureRandom as _;
    let mut m = [0u8; 4];
    let _ = ring::rand::SystemRandom::new().fill(&mut m);
    m
}

/// A whole frame (FIN set) with `payload`, masked when it goes to a server.
pub(crate) fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut out = Vec::with_capacity(payload.len() + MAX_HEAD);
    out.push(0x80 | opcode);
    match u16::try_from(payload.len()) {
        Ok(n @ 0..=125) => out.push(m | n as u8),
        Ok(n) => {
            out.push(m | 126);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Err(_) => {
            out.push(m | 127);
            out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
    let from = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        unmask(&mut out[from..], k, 0);
    }
    out
}

/// A Close frame with `code` and a reason cut to fit (123 bytes at most, on a
/// character boundary), masked when it goes to the server.
pub(crate) fn close_frame(code: u16, reason: &str, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..cut]);
    frame(0x8, &payload, mask)
}

/// The first Close frame among whole frames in `bytes` (as a server sends
/// them): its code (1005 when it has none) and its reason.
pub(crate) fn first_close(mut bytes: &[u8]) -> Option<(u16, String)> {
    loop {
        let Parsed::Head(h) = parse_head(bytes) else {
            return None;
        };
        let end = h.size.checked_add(usize::try_from(h.len).ok()?)?;
        let mut payload = bytes.get(h.size..end)?.to_vec();
        if let Some(m) = h.mask {
            unmask(&mut payload, m, 0);
        }
        if h.opcode == 0x8 {
            let code = match payload.get(..2) {
                Some(&[a, b]) => u16::from_be_bytes([a, b]),
                _ => 1005,
            };
            let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or(&[])).into_owned();
            return Some((code, reason));
        }
        bytes = bytes.get(end..)?;
    }
}

/// What the server accepted in `Sec-WebSocket-Extensions`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// permessage-deflate (RFC 7692) was accepted.
    deflate: bool,
    /// …with `client_no_context_takeover`: each client message stands alone.
    fresh_each_message: bool,
    /// An extension sluice cannot read through (its messages are unreadable).
    unknown: bool,
}

impl Extensions {
    pub fn of(response: &HeaderMap) -> Extensions {
        let mut e = Extensions::default();
        let offers = response
            .get_all(http::header::SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','));
        for ext in offers {
            let mut params = ext.split(';').map(str::trim);
            match params.next() {
                Some("") | None => {}
                Some(name) if name.eq_ignore_ascii_case("permessage-deflate") => {
                    e.deflate = true;
                    e.fresh_each_message |= params.any(|p| {
                        p.split('=')
                            .next()
                            .is_some_and(|k| k.trim() == "client_no_context_takeover")
                    });
                }
                Some(_) => e.unknown = true,
            }
        }
        e
    }
}

/// The deflate stream of the client's messages (with context takeover it runs
/// across them), bounded per message by the engine's decompression limits.
struct Inflater {
    z: Decompress,
    /// A message's inflation was cut short or failed: the window later
    /// messages refer to is gone, and they cannot be read.
    lost: bool,
}

/// One client message being read: its data inflated when compressed, scanned
/// and hashed as the application sent it.
struct MessageScan {
    scan: BodyScan,
    sha: ring::digest::Context,
    inflater: Option<Inflater>,
    compressed: bool,
    /// Payload bytes in (as on the wire) and data bytes out (inflated).
    wire: u64,
    data: u64,
    limits: Limits,
    incomplete: Option<Incomplete>,
    /// A copy of the data for `run --record` (dropped past `MAX_BODY`).
    keep: Option<Vec<u8>>,
}

impl MessageScan {
    fn take(&mut self, data: &[u8]) {
        self.data += data.len() as u64;
        self.sha.update(data);
        self.scan.feed(data);
        if let Some(k) = self.keep.as_mut() {
            if k.len() + data.len() <= MAX_BODY {
                k.extend_from_slice(data);
            } else {
                self.keep = None;
            }
        }
    }

    fn unreadable(&mut self, reason: IncompleteReason, detail: &str) {
        if self.incomplete.is_none() {
            self.incomplete = Some(Incomplete {
                reason,
                detail: detail.to_string(),
            });
        }
    }

    /// The next payload bytes of the message (unmasked). The end of a
    /// compressed message is the four bytes its sender took off (RFC 7692 §7.2.2).
    fn feed(&mut self, payload: Bytes) -> Result<(), HoldError> {
        self.wire += payload.len() as u64;
        if !self.compressed {
            self.take(&payload);
            return Ok(());
        }
        self.inflate(&payload);
        Ok(())
    }

    fn end(&mut self) {
        if self.compressed {
            self.inflate(&[0x00, 0x00, 0xFF, 0xFF]);
        }
    }

    fn inflate(&mut self, mut input: &[u8]) {
        let Some(mut inf) = self.inflater.take() else {
            return self.unreadable(
                IncompleteReason::Unsupported,
                "a compressed message without permessage-deflate",
            );
        };
        if inf.lost {
            self.inflater = Some(inf);
            return self.unreadable(
                IncompleteReason::Unsupported,
                "an earlier message's compression could not be followed",
            );
        }
        let mut out = [0u8; 32 * 1024];
        // Until the input is used up and the output has room to spare: a
        // full buffer may leave more inflated bytes inside the decompressor.
        while !inf.lost {
            let (before_in, before_out) = (inf.z.total_in(), inf.z.total_out());
            let status = inf.z.decompress(input, &mut out, FlushDecompress::Sync);
            let used = (inf.z.total_in() - before_in) as usize;
            let made = (inf.z.total_out() - before_out) as usize;
            input = input.get(used..).unwrap_or(&[]);
            self.take(out.get(..made).unwrap_or(&[]));
            let l = &self.limits;
            if self.data > l.max_decompressed_bytes {
                inf.lost = true;
                self.unreadable(
                    IncompleteReason::SizeLimit,
                    "the message inflates past the decompression limit",
                );
            } else if self.data > l.ratio_grace_bytes
                && self.data > l.max_ratio.saturating_mul(self.wire.max(1))
            {
                inf.lost = true;
                self.unreadable(
                    IncompleteReason::RatioLimit,
                    "the message inflates past the compression ratio limit",
                );
            }
            match status {
                Ok(Status::StreamEnd) => {
                    // A final deflate block: a compliant sender never ends
                    // its stream, so nothing after this could be read.
                    inf.lost = !input.is_empty();
                    break;
                }
                Ok(_) if used == 0 && made == 0 => break,
                Ok(_) if input.is_empty() && made < out.len() => break,
                Ok(_) => {}
                Err(_) => {
                    inf.lost = true;
                    self.unreadable(IncompleteReason::Malformed, "the message does not inflate");
                }
            }
        }
        self.inflater = Some(inf);
    }
}

/// How the client's side of the relay ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The client closed (or the connection failed): nothing more to read.
    Closed,
    /// A message was blocked (or could not be recorded): both sides are closed.
    Stopped,
}

/// The client's write side, shared by the server-to-client copy and the
/// relay that closes it with a reason; `frames` says whether the copy has
/// left a server frame half written, when a Close frame cannot go in.
struct ToClient<W> {
    io: W,
    frames: FrameTrack,
}

/// Where the frame boundaries fall in the bytes the server sends.
#[derive(Default)]
struct FrameTrack {
    head: Vec<u8>,
    left: u64,
    /// The stream stopped parsing as frames; never at a boundary again.
    broken: bool,
}

impl FrameTrack {
    fn advance(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() && !self.broken {
            if self.left > 0 {
                let n = self.left.min(chunk.len() as u64) as usize;
                self.left -= n as u64;
                chunk = chunk.get(n..).unwrap_or(&[]);
                continue;
            }
            let need = match parse_head(&self.head) {
                Parsed::Need(n) => n,
                Parsed::Bad(_) | Parsed::Head(_) => MAX_HEAD,
            };
            let n = need.saturating_sub(self.head.len()).min(chunk.len());
            self.head.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            chunk = chunk.get(n..).unwrap_or(&[]);
            match parse_head(&self.head) {
                Parsed::Need(_) => {}
                Parsed::Head(h) => {
                    self.left = h.len;
                    self.head.clear();
                }
                Parsed::Bad(_) => self.broken = true,
            }
        }
    }

    fn at_boundary(&self) -> bool {
        !self.broken && self.left == 0 && self.head.is_empty()
    }
}

/// Relays one upgraded WebSocket connection until either side closes, nothing
/// moves for the idle timeout, or the proxy stops.
pub async fn relay<C, S>(watch: Watch, ext: Extensions, client: C, server: S)
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Activity::default();
    let (client_r, client_w) = tokio::io::split(Tracked::new(client, activity.clone()));
    let (server_r, server_w) = tokio::io::split(Tracked::new(server, activity.clone()));
    let to_client = Arc::new(Mutex::new(ToClient {
        io: client_w,
        frames: FrameTrack::default(),
    }));
    let idle = watch.shared.limits.idle_timeout.get();
    let mut stop = watch.shared.hard_stop.clone();
    let up = client_to_server(&watch, ext, client_r, server_w, to_client.clone());
    let down = server_to_client(server_r, to_client.clone());
    let (mut up, mut down) = (std::pin::pin!(up), std::pin::pin!(down));
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        tokio::select! {
            ended = &mut up, if !up_done => {
                up_done = true;
                if ended == Ended::Stopped {
                    break;
                }
            }
            () = &mut down, if !down_done => down_done = true,
            () = activity.idle(idle) => break,
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    if let Some(r) = &watch.record {
        r.finish();
    }
}

async fn server_to_client<R, W>(mut server: R, to_client: Arc<Mutex<ToClient<W>>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    // As much as a splice keeps per direction: a watched socket that idles
    // costs no more than a spliced one.
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = match server.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = buf.get(..n).unwrap_or(&[]);
        let mut c = to_client.lock().await;
        c.frames.advance(chunk);
        if c.io.write_all(chunk).await.is_err() {
            return;
        }
    }
    let _ = to_client.lock().await.io.shutdown().await;
}

/// A message being held: its frames exactly as received, and its scan.
struct Held {
    raw: Vec<u8>,
    /// Opcode 2.
    binary: bool,
    compressed: bool,
    /// The most of it held (`hold.memory` when it began).
    max: u64,
    scan: Stage<MessageScan>,
}

async fn client_to_server<R, W, CW>(
    watch: &Watch,
    ext: Extensions,
    client: R,
    mut server: W,
    to_client: Arc<Mutex<ToClient<CW>>>,
) -> Ended
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
    CW: AsyncWrite + Unpin,
{
    let mut client = BufReader::new(client);
    let mut inflater = ext.deflate.then(|| Inflater {
        z: Decompress::new(false),
        lost: false,
    });
    let mut held: Option<Held> = None;
    let mut head = Vec::with_capacity(MAX_HEAD);
    loop {
        let h = match read_head(&mut client, &mut head).await {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(why) => {
                tracing::debug!(client.addr = %watch.meta.client, error = %why, "websocket client sent what is not a frame");
                let bye = close_frame(PROTOCOL_ERROR, "sluice: not a WebSocket frame", None);
                return stop(&mut server, &to_client, &bye).await;
            }
        };
        if h.is_control() {
            // Pings, pongs and Close carry no upload; they pass at once, even
            // between the frames of a message that is held.
            let mut frame = head.clone();
            if read_payload(&mut client, h.len, &mut frame).await.is_err()
                || server.write_all(&frame).await.is_err()
            {
                break;
            }
            continue;
        }
        let starts = h.opcode != 0;
        if starts == held.is_some() {
            let bye = close_frame(PROTOCOL_ERROR, "sluice: message frames out of order", None);
            return stop(&mut server, &to_client, &bye).await;
        }
        let msg = match held.as_mut() {
            Some(m) => m,
            None => {
                let rt = watch.shared.runtime();
                let mut ms = MessageScan {
                    scan: rt.engine.scanner(ContentHint::default()),
                    sha: ring::digest::Context::new(&ring::digest::SHA256),
                    inflater: None,
                    compressed: h.rsv1 && ext.deflate,
                    wire: 0,
                    data: 0,
                    limits: rt.engine.limits().clone(),
                    incomplete: None,
                    keep: watch.record.as_ref().map(|_| Vec::new()),
                };
                if ms.compressed {
                    ms.inflater = inflater.take();
                    if ext.fresh_each_message {
                        if let Some(inf) = ms.inflater.as_mut() {
                            inf.z.reset(false);
                            inf.lost = false;
                        }
                    }
                }
                if ext.unknown || h.rsv_other || (h.rsv1 && !ext.deflate) {
                    ms.unreadable(
                        IncompleteReason::Unsupported,
                        "a WebSocket extension sluice cannot read through",
                    );
                }
                held.insert(Held {
                    raw: Vec::new(),
                    binary: h.opcode == 0x2,
                    compressed: ms.compressed,
                    max: rt.hold.memory.get(),
                    scan: Stage::new(ms, MessageScan::feed),
                })
            }
        };
        if msg.raw.len() as u64 + head.len() as u64 + h.len > msg.max {
            // Too big to hold: decided on what came so far, then (if that
            // lets it go) the rest passes unheld, as past a body's hold limit.
            let Some(m) = held.take() else { break };
            let compressed = m.compressed;
            match decide(watch, m, true, &mut inflater).await {
                Decision::Send(raw) => {
                    if server.write_all(&raw).await.is_err()
                        || pass_rest(&mut client, &mut server, h, &mut head)
                            .await
                            .is_err()
                    {
                        break;
                    }
                    // The deflate window now holds bytes sluice did not read.
                    if let Some(inf) = inflater.as_mut().filter(|_| compressed) {
                        inf.lost = !ext.fresh_each_message;
                    }
                }
                Decision::Stop(bye) => return stop(&mut server, &to_client, &bye).await,
            }
            continue;
        }
        // The frame goes into the held bytes as it comes; the scan gets an
        // unmasked copy of its payload.
        let at = msg.raw.len() + head.len();
        msg.raw.extend_from_slice(&head);
        if read_payload(&mut client, h.len, &mut msg.raw)
            .await
            .is_err()
        {
            break;
        }
        let mut payload = msg.raw.get(at..).unwrap_or(&[]).to_vec();
        if let Some(mask) = h.mask {
            unmask(&mut payload, mask, 0);
        }
        if msg.raw.len() as u64 > INLINE {
            msg.scan.move_away();
        }
        if msg.scan.feed(Bytes::from(payload)).await.is_err() {
            break;
        }
        if !h.fin {
            continue;
        }
        let Some(m) = held.take() else { break };
        match decide(watch, m, false, &mut inflater).await {
            Decision::Send(raw) => {
                if server.write_all(&raw).await.is_err() {
                    break;
                }
            }
            Decision::Stop(bye) => return stop(&mut server, &to_client, &bye).await,
        }
    }
    // The client is gone; a message it left unfinished is never sent.
    let _ = server.shutdown().await;
    Ended::Closed
}

/// Reads the next frame header into `head`; `None` at a clean end of stream.
async fn read_head<R: AsyncRead + Unpin>(
    r: &mut R,
    head: &mut Vec<u8>,
) -> Result<Option<Head>, &'static str> {
    head.clear();
    loop {
        let need = match parse_head(head) {
            Parsed::Need(n) => n,
            Parsed::Head(h) => return Ok(Some(h)),
            Parsed::Bad(why) => return Err(why),
        };
        let from = head.len();
        head.resize(need, 0);
        match r.read_exact(&mut head[from..]).await {
            Ok(_) => {}
            Err(e) if from == 0 && e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(_) => return Err("the stream ended inside a frame header"),
        }
    }
}

/// Appends a frame's payload to `out`, growing it as the bytes come: a header
/// that announces megabytes reserves nothing until they arrive.
async fn read_payload<R: AsyncRead + Unpin>(
    r: &mut R,
    len: u64,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let got = r.take(len).read_to_end(out).await?;
    if (got as u64) < len {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// Sends the rest of a message that was too big to hold, frame by frame, as
/// it arrives: the current frame (its header in `head`), then its
/// continuation frames and any control frames between them.
async fn pass_rest<R, W>(
    client: &mut R,
    server: &mut W,
    mut h: Head,
    head: &mut Vec<u8>,
) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        server.write_all(head).await?;
        let mut left = h.len;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            let chunk = buf.get_mut(..n).unwrap_or(&mut []);
            client.read_exact(chunk).await?;
            server.write_all(chunk).await?;
            left -= n as u64;
        }
        if h.fin && !h.is_control() {
            return Ok(());
        }
        h = match read_head(client, head).await {
            Ok(Some(h)) => h,
            Ok(None) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Err(why) => return Err(io::Error::other(why)),
        };
        // A new message before this one ended is no WebSocket, and would
        // pass unheld.
        if !h.is_control() && h.opcode != 0 {
            return Err(io::Error::other("a new message inside an unfinished one"));
        }
    }
}

enum Decision {
    /// The held frames go upstream.
    Send(Vec<u8>),
    /// Nothing more goes: close both sides, the client's with this frame.
    Stop(Vec<u8>),
}

/// Finishes a message's scan, decides it, and writes its audit record before
/// anything of it moves. `partial`: the message goes on past the hold, so
/// what was held is only its start.
async fn decide(
    watch: &Watch,
    m: Held,
    partial: bool,
    inflater: &mut Option<Inflater>,
) -> Decision {
    let shared = &watch.shared;
    let rt = shared.runtime();
    let (mut ms, scanned) = match m.scan.finish().await {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(error = %e, "cannot scan a websocket message");
            return Decision::Stop(close_frame(
                GOING_AWAY,
                "sluice could not inspect the message",
                None,
            ));
        }
    };
    if let Err(e) = scanned {
        tracing::warn!(error = %e, "cannot scan a websocket message");
    }
    if !partial {
        ms.end();
    }
    if let Some(inf) = ms.inflater.take() {
        *inflater = Some(inf);
    }
    // Recorded whole or not at all: a message cut at the hold would replay
    // as a shorter one.
    if let (Some(rec), Some(data), false) = (&watch.record, ms.keep.take(), partial) {
        rec.sent(m.binary, data);
    }
    let data = ms.data;
    let sha = ms.sha.finish();
    let mut findings: Findings = ms.scan.finish();
    findings.bytes = data;
    if let Some(i) = ms.incomplete.take() {
        findings.incomplete.get_or_insert(i);
    }
    if partial {
        findings.incomplete = Some(Incomplete {
            reason: IncompleteReason::HoldLimit,
            detail: format!(
                "message larger than the hold limit of {} (hold.memory)",
                rt.hold.memory
            ),
        });
    }
    let verdict = rt.policy.evaluate(&watch.meta, &watch.dest, &findings);
    let mut rec =
        pipeline::record(shared, &rt, &watch.meta, &watch.dest, &verdict).with_findings(&findings);
    if !partial {
        rec.body_sha256 = Some(sha.as_ref().iter().map(|b| format!("{b:02x}")).collect());
    }
    // A message cannot be sent somewhere else mid-conversation: a reroute
    // verdict stops it, as a block does, and the record says so.
    let stopped = matches!(verdict.action, Action::Block | Action::Reroute);
    if stopped {
        rec.action = Action::Block.id().to_string();
    }
    let ticket = rec.id.clone();
    if let Err(e) = shared.write_record(rec) {
        tracing::error!(error = %e, "audit log write failed; failing closed");
        return Decision::Stop(close_frame(
            GOING_AWAY,
            &format!("sluice cannot record this message; ticket {ticket}"),
            None,
        ));
    }
    if !stopped {
        return Decision::Send(m.raw);
    }
    let rule = verdict.rule.as_deref().unwrap_or("default");
    tracing::info!(policy.rule = ?verdict.rule, policy.verdict = "block", ticket = %ticket, http.host = %watch.meta.host, "websocket message blocked");
    Decision::Stop(close_frame(
        POLICY_VIOLATION,
        &format!("sluice blocked this message (rule \"{rule}\"); ticket {ticket}"),
        None,
    ))
}

/// Ends both sides: the server gets a Close of its own (so it does not wait
/// for the rest), the client `bye` when no server frame is half written to it.
async fn stop<W, CW>(server: &mut W, to_client: &Mutex<ToClient<CW>>, bye: &[u8]) -> Ended
where
    W: AsyncWrite + Unpin,
    CW: AsyncWrite + Unpin,
{
    let _ = server
        .write_all(&close_frame(GOING_AWAY, "", Some(random_mask())))
        .await;
    let _ = server.shutdown().await;
    let mut c = to_client.lock().await;
    if c.frames.at_boundary() {
        let _ = c.io.write_all(bye).await;
    }
    let _ = c.io.shutdown().await;
    Ended::Stopped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `super::frame`, with FIN cleared when `fin` is false.
    fn frame(fin: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = super::frame(opcode, payload, mask);
        if !fin {
            out[0] &= 0x7F;
        }
        out
    }

    #[test]
    fn headers_of_every_length_form() {
        let mask = Some([1, 2, 3, 4]);
        for (len, size) in [
            (0usize, 6usize),
            (125, 6),
            (126, 8),
            (65535, 8),
            (65536, 14),
        ] {
            let f = frame(true, 2, &vec![7u8; len], mask);
            let Parsed::Head(h) = parse_head(&f) else {
                panic!("length {len} did not parse");
            };
            assert_eq!(
                (h.len, h.size, h.mask, h.fin),
                (len as u64, size, mask, true)
            );
            // Every shorter prefix asks for more, never misreads.
            for cut in 0..size {
                assert!(matches!(parse_head(&f[..cut]), Parsed::Need(n) if n > cut));
            }
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        let bad: &[(&[u8], &str)] = &[
            (&[0x83, 0x00], "reserved opcode"),
            (&[0x09, 0x00], "fragmented ping"),
            (&[0x89, 0x7E, 0x00, 0x7E], "overlong ping"),
            (
                &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0],
                "length with its top bit",
            ),
        ];
        for (bytes, what) in bad {
            assert!(matches!(parse_head(bytes), Parsed::Bad(_)), "{what}");
        }
    }

    #[test]
    fn close_frames_fit_their_reason_and_mask_it() {
        let long = "é".repeat(100);
        let f = close_frame(POLICY_VIOLATION, &long, None);
        assert_eq!(f[0], 0x88);
        let n = usize::from(f[1]);
        assert!(n <= 125 && n == f.len() - 2);
        assert_eq!(&f[2..4], &1008u16.to_be_bytes());
        assert!(std::str::from_utf8(&f[4..]).is_ok(), "cut on a character");
        let masked = close_frame(GOING_AWAY, "bye", Some([9, 8, 7, 6]));
        let Parsed::Head(h) = parse_head(&masked) else {
            panic!("masked close does not parse");
        };
        let mut p = masked[h.size..].to_vec();
        unmask(&mut p, [9, 8, 7, 6], 0);
        assert_eq!(p, [&1001u16.to_be_bytes()[..], b"bye"].concat());
    }

    #[test]
    fn the_first_close_among_frames() {
        let stream = [
            frame(true, 1, b"ack 1", None),
            frame(true, 2, &vec![0u8; 300], None),
            close_frame(
                POLICY_VIOLATION,
                "sluice blocked this message; ticket slc-1",
                None,
            ),
            close_frame(GOING_AWAY, "later", None),
        ]
        .concat();
        let (code, reason) = first_close(&stream).expect("a close");
        assert_eq!(code, 1008);
        assert!(reason.ends_with("slc-1"));
        assert_eq!(first_close(&stream[..stream.len() / 2]), None, "cut");
        assert_eq!(
            first_close(&frame(true, 8, b"", None)),
            Some((1005, String::new()))
        );
    }

    #[test]
    fn extensions_from_the_answer() {
        let of = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(http::header::SEC_WEBSOCKET_EXTENSIONS, v.parse().unwrap());
            Extensions::of(&h)
        };
        assert_eq!(Extensions::of(&HeaderMap::new()), Extensions::default());
        let e = of("permessage-deflate; client_max_window_bits=15");
        assert!(e.deflate && !e.fresh_each_message && !e.unknown);
        let e = of("permessage-deflate; client_no_context_takeover; server_no_context_takeover");
        assert!(e.deflate && e.fresh_each_message);
        assert!(of("x-webkit-deflate-frame").unknown);
    }

    #[test]
    fn server_frames_are_tracked_across_any_split() {
        let stream = [
            frame(true, 1, b"hello", None),
            frame(false, 2, &vec![1u8; 300], None),
            frame(true, 0, &vec![2u8; 70_000], None),
            frame(true, 9, b"", None),
        ]
        .concat();
        for cut in [1, 2, 3, 7, 100, 4096] {
            let mut t = FrameTrack::default();
            let mut boundaries = 0;
            for piece in stream.chunks(cut) {
                t.advance(piece);
                boundaries += usize::from(t.at_boundary());
            }
            assert!(t.at_boundary(), "ends on a boundary (chunks of {cut})");
            assert!(boundaries >= 1);
        }
        let mut t = FrameTrack::default();
        t.advance(&stream[..10]);
        assert!(!t.at_boundary(), "inside the second frame");
        let mut t = FrameTrack::default();
        t.advance(&[0x83, 0x00]);
        assert!(!t.at_boundary(), "not frames: never a boundary");
    }

    fn deflate_raw(z: &mut flate2::Compress, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        z.compress_vec(data, &mut out, flate2::FlushCompress::Sync)
            .unwrap();
        assert!(out.ends_with(&[0, 0, 0xFF, 0xFF]));
        out.truncate(out.len() - 4);
        out
    }

    fn message_scan(inflater: Option<Inflater>) -> MessageScan {
        let engine = crate::inspect::Engine::shipped();
        MessageScan {
            scan: engine.scanner(ContentHint::default()),
            sha: ring::digest::Context::new(&ring::digest::SHA256),
            compressed: inflater.is_some(),
            inflater,
            wire: 0,
            data: 0,
            limits: engine.limits().clone(),
            incomplete: None,
            keep: None,
        }
    }

    #[test]
    fn compressed_messages_share_their_window() {
        // Context takeover: the second message refers back to the first.
        let mut z = flate2::Compress::new(flate2::Compression::default(), false);
        let first = r#"{"text":{"content":"the staff list: 陳大文 A123456(3)"}}"#;
        let second = r#"{"text":{"content":"the staff list: 陳大文 A123456(3) again"}}"#;
        let (a, b) = (
            deflate_raw(&mut z, first.as_bytes()),
            deflate_raw(&mut z, second.as_bytes()),
        );
        let mut inflater = Some(Inflater {
            z: Decompress::new(false),
            lost: false,
        });
        for (wire, text) in [(a, first), (b, second)] {
            let mut ms = message_scan(inflater.take());
            for piece in wire.chunks(5) {
                ms.feed(Bytes::copy_from_slice(piece)).unwrap();
            }
            ms.end();
            inflater = ms.inflater.take();
            assert_eq!(ms.data, text.len() as u64);
            assert!(ms.incomplete.is_none());
            let f = ms.scan.finish();
            assert_eq!(f.count(crate::inspect::Class::HkId), 1, "{text}");
        }
    }

    #[test]
    fn a_message_that_inflates_past_the_buffer_is_read_to_its_end() {
        // 300 KiB from a few hundred bytes: the decompressor holds more than
        // one output buffer after the input is used up.
        let mut text = "會議記錄：下午三點開會，請準時出席。".repeat(6000);
        text.push_str("員工 陳大文 A123456(3)");
        let mut z = flate2::Compress::new(flate2::Compression::best(), false);
        let wire = deflate_raw(&mut z, text.as_bytes());
        assert!(wire.len() < 4096, "{}", wire.len());
        let mut ms = message_scan(Some(Inflater {
            z: Decompress::new(false),
            lost: false,
        }));
        ms.feed(Bytes::from(wire)).unwrap();
        ms.end();
        assert_eq!(ms.data, text.len() as u64);
        assert!(ms.incomplete.is_none(), "{:?}", ms.incomplete);
        let f = ms.scan.finish();
        assert_eq!(f.count(crate::inspect::Class::HkId), 1);
    }

    #[test]
    fn a_compressed_bomb_stops_at_the_ratio_limit_and_later_messages_are_unread() {
        let mut z = flate2::Compress::new(flate2::Compression::best(), false);
        let wire = deflate_raw(&mut z, &vec![b'a'; 16 << 20]);
        let mut ms = message_scan(Some(Inflater {
            z: Decompress::new(false),
            lost: false,
        }));
        ms.feed(Bytes::from(wire)).unwrap();
        ms.end();
        let reason = ms.incomplete.as_ref().map(|i| i.reason);
        assert_eq!(reason, Some(IncompleteReason::RatioLimit));
        assert!(ms.data < 8 << 20, "stopped early: {} bytes", ms.data);
        let mut next = message_scan(ms.inflater.take());
        next.feed(Bytes::from_static(b"\x01\x02")).unwrap();
        let reason = next.incomplete.as_ref().map(|i| i.reason);
        assert_eq!(reason, Some(IncompleteReason::Unsupported));
    }

    #[test]
    fn garbage_does_not_inflate() {
        let mut ms = message_scan(Some(Inflater {
            z: Decompress::new(false),
            lost: false,
        }));
        ms.feed(Bytes::from_static(&[0xFF; 64])).unwrap();
        ms.end();
        let reason = ms.incomplete.as_ref().map(|i| i.reason);
        assert_eq!(reason, Some(IncompleteReason::Malformed));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Whatever a peer sends, reading it as frames neither panics nor
        /// loses track of where a whole stream of frames ends.
        #[test]
        fn frames_from_any_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300), cut in 1usize..40) {
            let _ = parse_head(&bytes);
            let _ = first_close(&bytes);
            let mut t = FrameTrack::default();
            for piece in bytes.chunks(cut) {
                t.advance(piece);
            }
            let whole = frame(true, 1, &bytes, Some([1, 2, 3, 4]));
            let mut t = FrameTrack::default();
            for piece in whole.chunks(cut) {
                t.advance(piece);
            }
            proptest::prop_assert!(t.at_boundary());
        }

        /// Compressed messages of any bytes, in any pieces: no panic, and
        /// either read or reported unread.
        #[test]
        fn inflating_any_bytes(pieces in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), 0..8)) {
            let mut ms = message_scan(Some(Inflater {
                z: Decompress::new(false),
                lost: false,
            }));
            for p in pieces {
                ms.feed(Bytes::from(p)).unwrap();
            }
            ms.end();
            let _ = ms.scan.finish();
        }
    }
}
