//! The data flow of DESIGN.md for one request: metadata, destination, the plan
//! (stream or hold), inspection, the verdict, the audit record, then the action.
//! No byte of a held body is sent anywhere before its record is written.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::request::Parts;
use http::{header, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::body::{self, Body};
use super::forward::{self, ConnCtx, Target};
use super::headers::upgrade_protocol;
use super::hold::{Hold, HoldError, Stage};
use super::respond::{audit_unavailable, Blocked, Refusal};
use super::{websocket, Runtime, Shared};
use crate::audit::{AuditRecord, RecordKind, ShadowHit};
use crate::inspect::{BodyScan, ContentHint, Findings, Incomplete, IncompleteReason};
use crate::policy::{Action, BodyPlan, Destination, RequestMeta, Verdict, UPGRADE};
use crate::replay::decide::LEARN_MAX;
use crate::replay::record::{RecordedFlow, Recorder, MAX_BODY};

/// The hyper service behind every intercepted or plain-HTTP request.
pub async fn handle(
    shared: Arc<Shared>,
    ctx: Arc<ConnCtx>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let (mut parts, incoming) = req.into_parts();
    let target = match forward::target_of(&ctx, &parts) {
        Ok(t) => t,
        Err(r) => return Ok(r.into_response()),
    };
    // The policy in force when the request started decides it, whatever a reload does meanwhile.
    let rt = shared.runtime();
    let meta = request_meta(&ctx, &parts, &target);
    let dest = rt
        .policy
        .destination(&meta, &shared.learned, SystemTime::now());
    let learn = rt.policy.is_upload_info(&meta);
    let recording = shared.recorder.as_ref().map(|r| {
        let flow = RecordedFlow {
            started: Some(crate::audit::now_ts()),
            method: meta.method.clone(),
            url: RecordedFlow::url_of(&meta),
            request_headers: super::record::headers_of(&parts.headers),
            request_body: None,
            response: None,
            sent_messages: Vec::new(),
        };
        (r.clone(), flow)
    });
    let (whole_socket, relay_records) =
        plan_upgrade(&shared, &rt, &meta, &dest, &mut parts, recording.as_ref());
    // A copy of the held body for the recording, when there is one.
    let mut copy = recording.as_ref().map(|_| Vec::new());
    let mut was_held = false;
    let mut resp = if let Some((m, v, unread)) = whole_socket {
        let mut rec = record(&shared, &rt, &m, &dest, &v);
        if let Some(f) = &unread {
            rec = rec.with_findings(f);
        }
        let req = Request::from_parts(parts, body::boxed(incoming));
        act(&shared, &m, &dest, &target, req, v, rec).await
    } else {
        match rt.policy.plan(&meta, &dest) {
            BodyPlan::Decided(v) => {
                decided(&shared, &rt, &meta, &dest, &target, parts, incoming, v).await
            }
            // Shadow rules that read the body get it held too: simpler than a
            // tee, and the enforced outcome is the same.
            BodyPlan::Hold | BodyPlan::Observe => {
                was_held = true;
                let copy = copy.as_mut();
                held(&shared, &rt, &meta, &dest, &target, parts, incoming, copy).await
            }
        }
    };
    if learn {
        resp = learn_from(&shared, &rt, &meta, resp).await;
    }
    let relayed = relay_records && resp.status() == http::StatusCode::SWITCHING_PROTOCOLS;
    if let Some((recorder, mut flow)) = recording.filter(|_| !relayed) {
        // Bodies that streamed through unheld were never in sluice's hands whole.
        flow.request_body = copy.filter(|_| was_held);
        resp = super::record::tap(recorder, flow, resp);
    }
    Ok(resp)
}

/// An upgrade decided for its whole connection: the request it is decided
/// as, the verdict, and (for a protocol sluice cannot read) the findings.
type WholeSocket = (RequestMeta, Verdict, Option<Findings>);

/// What an upgrade request needs before it is sent. A WebSocket handshake is
/// decided as the GET it is, its messages as uploads: a rule that would stop
/// every message blocks the handshake (recorded); one that reroutes them all
/// reroutes it, with the relay reading its messages under the rules of the
/// new destination; one that may fire on a message puts the relay that holds
/// each one on the upgrade (in `parts`' extensions), and the relay records
/// the socket when recording (the second value). An upgrade to any other protocol carries
/// bytes sluice cannot read, and is decided once as such.
fn plan_upgrade(
    shared: &Arc<Shared>,
    rt: &Runtime,
    meta: &RequestMeta,
    dest: &Destination,
    parts: &mut Parts,
    recording: Option<&(Arc<Recorder>, RecordedFlow)>,
) -> (Option<WholeSocket>, bool) {
    match upgrade_of(parts) {
        Some(Upgrade::WebSocket) => {
            let ws = meta.websocket_message();
            match rt.policy.plan(&ws, dest) {
                BodyPlan::Decided(v) if v.action == Action::Allow && v.shadow.is_empty() => {
                    (None, false)
                }
                BodyPlan::Decided(v) if v.action == Action::Block => (Some((ws, v, None)), false),
                // The whole socket goes elsewhere; its messages are still read
                // there, under the rules of where it goes.
                BodyPlan::Decided(v) if v.action == Action::Reroute => {
                    if let Some(w) = rerouted_watch(shared, rt, &ws, &v) {
                        parts.extensions.insert(w);
                    }
                    (Some((ws, v, None)), false)
                }
                _ => {
                    // The handshake's query goes up before any message: data
                    // in it is decided as the socket's first message would be.
                    let query = query_findings(rt, meta);
                    let first = query.as_ref().map(|f| rt.policy.evaluate(&ws, dest, f));
                    match first {
                        Some(v) if v.action == Action::Block => {
                            return (Some((ws, v, query)), false)
                        }
                        Some(v) if v.action == Action::Reroute => {
                            if let Some(w) = rerouted_watch(shared, rt, &ws, &v) {
                                parts.extensions.insert(w);
                            }
                            return (Some((ws, v, query)), false);
                        }
                        _ => {}
                    }
                    let record = recording
                        .map(|(r, flow)| websocket::Recording::new(r.clone(), flow.clone()));
                    let records = record.is_some();
                    parts.extensions.insert(websocket::Watch {
                        shared: shared.clone(),
                        meta: ws.clone(),
                        dest: dest.clone(),
                        record,
                    });
                    // An audit (or a shadow hit) on the query is recorded
                    // with the handshake; the messages are watched as ever.
                    let noted = first.filter(|v| v.action != Action::Allow || !v.shadow.is_empty());
                    (noted.map(|v| (ws, v, query)), records)
                }
            }
        }
        Some(Upgrade::Other(proto)) => {
            let other = meta.after_upgrade(UPGRADE);
            let unread = Findings {
                incomplete: Some(Incomplete {
                    reason: IncompleteReason::Unsupported,
                    detail: format!("what follows an upgrade to {proto:?} cannot be read"),
                }),
                ..Findings::default()
            };
            let v = rt.policy.evaluate(&other, dest, &unread);
            let decided = v.action != Action::Allow || !v.shadow.is_empty();
            (decided.then_some((other, v, Some(unread))), false)
        }
        None => (None, false),
    }
}

/// What the detectors find in a request's query string alone (`None`: no
/// query, or nothing in it).
fn query_findings(rt: &Runtime, meta: &RequestMeta) -> Option<Findings> {
    if meta.query().is_empty() {
        return None;
    }
    let f = rt.engine.scan_query(meta.query());
    (!f.classes.is_empty()).then_some(f)
}

/// The watch for a WebSocket that `v` reroutes: its messages decided as
/// requests to the new target (host, port, path, and the destination those
/// give), when a rule there may read them.
fn rerouted_watch(
    shared: &Arc<Shared>,
    rt: &Runtime,
    ws: &RequestMeta,
    v: &Verdict,
) -> Option<websocket::Watch> {
    let to =
        v.reroute
            .as_ref()?
            .target
            .apply(&ws.scheme, &ws.host, ws.port, &ws.path_and_query())?;
    let (path, query) = match to.path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (to.path_and_query.clone(), None),
    };
    let meta = RequestMeta {
        scheme: to.scheme,
        host: to.host,
        port: to.port,
        path,
        query,
        ..ws.clone()
    };
    let dest = rt
        .policy
        .destination(&meta, &shared.learned, SystemTime::now());
    match rt.policy.plan(&meta, &dest) {
        BodyPlan::Decided(d) if d.action == Action::Allow && d.shadow.is_empty() => None,
        _ => Some(websocket::Watch {
            shared: shared.clone(),
            meta,
            dest,
            record: None,
        }),
    }
}

enum Upgrade {
    WebSocket,
    /// Its protocol as the client named it (bounded).
    Other(String),
}

/// The protocol an HTTP/1.1 request asks to upgrade to, if any.
fn upgrade_of(parts: &Parts) -> Option<Upgrade> {
    let proto = upgrade_protocol(&parts.headers)?;
    if parts.version > http::Version::HTTP_11 {
        return None;
    }
    if proto.as_bytes().eq_ignore_ascii_case(b"websocket") {
        Some(Upgrade::WebSocket)
    } else {
        let name = String::from_utf8_lossy(proto.as_bytes());
        Some(Upgrade::Other(name.chars().take(32).collect()))
    }
}

/// What the policy sees of a request before its body.
fn request_meta(ctx: &ConnCtx, parts: &Parts, target: &Target) -> RequestMeta {
    let h = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    RequestMeta {
        client: ctx.client.ip(),
        method: parts.method.as_str().to_string(),
        scheme: if target.https { "https" } else { "http" }.to_string(),
        host: target.host.clone(),
        port: target.port,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        content_type: h(header::CONTENT_TYPE),
        content_encoding: h(header::CONTENT_ENCODING),
        content_length: h(header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        accept: h(header::ACCEPT),
        resolved: None,
    }
}

/// A verdict reached on metadata alone: the body streams (or is refused) unread.
#[allow(clippy::too_many_arguments)]
async fn decided(
    shared: &Shared,
    rt: &Runtime,
    meta: &RequestMeta,
    dest: &Destination,
    target: &Target,
    parts: Parts,
    incoming: Incoming,
    verdict: Verdict,
) -> Response<Body> {
    let req = Request::from_parts(parts, body::boxed(incoming));
    if verdict.action == Action::Allow && verdict.shadow.is_empty() {
        // Nothing to decide and nothing to record: the common case, kept cheap.
        return forward::send(shared, target, req).await;
    }
    let mut rec = record(shared, rt, meta, dest, &verdict);
    rec.bytes = meta.content_length.unwrap_or(0);
    act(shared, meta, dest, target, req, verdict, rec).await
}

/// Body bytes kept and scanned on the connection's own task (no thread hop for
/// the small messages that are most requests); past this both move to blocking
/// threads, and the spill's file I/O never runs on an async worker.
const INLINE: u64 = 1 << 20;

/// Holds the body while the engine reads it, then decides.
#[allow(clippy::too_many_arguments)]
async fn held(
    shared: &Shared,
    rt: &Runtime,
    meta: &RequestMeta,
    dest: &Destination,
    target: &Target,
    parts: Parts,
    mut incoming: Incoming,
    mut copy: Option<&mut Vec<u8>>,
) -> Response<Body> {
    let hint = ContentHint {
        content_type: meta.content_type.clone(),
        content_encoding: meta.content_encoding.clone(),
        file_name: None,
    };
    let max = rt.hold.max.get();
    let mut hold = Stage::new(
        Hold::new(rt.hold.memory.get(), max, rt.hold.spool_dir.clone()),
        Hold::push,
    );
    let mut scanner = rt.engine.scanner(hint);
    scanner.query(meta.query());
    let part = crate::policy::part_of(meta);
    if let Some(media) = part
        .as_ref()
        .and_then(|p| shared.parts.continues(meta, p, SystemTime::now()))
    {
        scanner.continues(&media);
    }
    let mut scan = Stage::new(scanner, |s: &mut BodyScan, b: Bytes| {
        s.feed(&b);
        Ok(())
    });
    let mut total = 0u64;
    // The first chunk that did not fit, when the body outgrew the hold.
    let mut overflow: Option<Bytes> = None;
    let mut failed: Option<HoldError> = None;
    while let Some(frame) = incoming.frame().await {
        let data = match frame {
            Ok(f) => match f.into_data() {
                Ok(d) => d,
                Err(_) => continue, // trailers: nothing to inspect
            },
            Err(e) => {
                tracing::debug!(client.addr = %meta.client, error = %e, "client body ended early; nothing was forwarded");
                return Refusal::BadRequest("the request body ended early".into()).into_response();
            }
        };
        if let Some(c) = copy.as_deref_mut() {
            let room = MAX_BODY.saturating_sub(c.len());
            c.extend_from_slice(&data[..data.len().min(room)]);
        }
        if total + data.len() as u64 > max {
            overflow = Some(data);
            break;
        }
        total += data.len() as u64;
        if total > INLINE.min(rt.hold.memory.get()) {
            hold.move_away();
            scan.move_away();
        }
        if let Err(e) = hold.feed(data.clone()).await {
            failed = Some(e);
            break;
        }
        if let Err(e) = scan.feed(data).await {
            failed = Some(e);
            break;
        }
    }
    let scanned = scan.finish().await;
    let stored = hold.finish().await;
    let (mut findings, hold) = match (scanned, stored, failed) {
        (Ok((scanner, Ok(()))), Ok((hold, Ok(()))), None) => (scanner.finish(), hold),
        (scanned, stored, failed) => {
            // Whatever went wrong, nothing of the body has left: refuse it whole.
            let why = [failed, stored.err(), scanned.err()];
            let why = why.iter().flatten().next().map(|e| e.to_string());
            tracing::warn!(error = ?why, "cannot hold a request body");
            return Refusal::Unavailable("sluice could not hold the request body".into())
                .into_response();
        }
    };
    findings.bytes = hold.len();
    if overflow.is_some() {
        findings.incomplete = Some(Incomplete {
            reason: IncompleteReason::HoldLimit,
            detail: format!("body larger than the hold limit of {}", rt.hold.max),
        });
    }
    let verdict = rt.policy.evaluate(meta, dest, &findings);
    if let Some(p) = &part {
        let now = SystemTime::now();
        shared
            .parts
            .decided(meta, p, &findings, verdict.action, now);
    }
    let held = match hold.finish() {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(error = %e, "cannot replay a held body");
            return Refusal::Unavailable("sluice could not hold the request body".into())
                .into_response();
        }
    };
    let mut rec = record(shared, rt, meta, dest, &verdict).with_findings(&findings);
    if overflow.is_none() {
        rec.body_sha256 = Some(held.sha256.clone());
    }
    // The held part, then (past the hold limit, if the verdict lets it go) the rest
    // of the client's body as it arrives.
    let body = match overflow {
        None => held.into_body(),
        Some(first) => {
            let rest = body::boxed(incoming);
            body::chain(held.into_body(), body::full(first), rest)
        }
    };
    let req = Request::from_parts(parts, body);
    act(shared, meta, dest, target, req, verdict, rec).await
}

/// An audit record with what every decided request carries.
pub(super) fn record(
    shared: &Shared,
    rt: &Runtime,
    meta: &RequestMeta,
    dest: &Destination,
    v: &Verdict,
) -> AuditRecord {
    let _ = shared;
    // What the detectors find in a query stays out of the record, as a
    // sample's raw value does.
    let query = rt.engine.query_data(meta.query());
    let mut rec = AuditRecord::new(
        RecordKind::Request,
        &meta.client.to_string(),
        &meta.host,
        meta.port,
    )
    .with_request_redacting(&meta.method, &meta.path_and_query(), |p| query.holds(p));
    rec.region = dest.region.clone();
    rec.jurisdiction = dest.jurisdiction.clone();
    rec.rule = v.rule.clone();
    rec.action = v.action.id().to_string();
    rec.shadow = v
        .shadow
        .iter()
        .map(|s| ShadowHit {
            rule: s.rule.clone(),
            action: s.action.id().to_string(),
        })
        .collect();
    rec.policy = rt.policy.hash().to_string();
    rec
}

/// Writes the record, then carries out the verdict. The record goes first so that
/// nothing leaves (and no answer is released) without it.
async fn act(
    shared: &Shared,
    meta: &RequestMeta,
    dest: &Destination,
    target: &Target,
    mut req: Request<Body>,
    verdict: Verdict,
    mut rec: AuditRecord,
) -> Response<Body> {
    let ticket = rec.id.clone();
    match verdict.action {
        Action::Block => {
            let classes = rec.classes.keys().map(|c| c.id()).collect();
            let resp = Blocked {
                ticket: &ticket,
                rule: verdict.rule.as_deref().unwrap_or("default"),
                host: &meta.host,
                jurisdiction: &dest.jurisdiction,
                classes,
                accept: meta.accept.as_deref(),
            }
            .into_response();
            rec.status = Some(resp.status().as_u16());
            if let Err(e) = shared.write_record(rec) {
                tracing::error!(error = %e, "audit log write failed; failing closed");
                return audit_unavailable(&ticket);
            }
            tracing::info!(policy.rule = ?verdict.rule, policy.verdict = "block", ticket = %ticket, http.host = %meta.host, "upload blocked");
            resp
        }
        Action::Reroute => {
            let to = verdict.reroute.as_ref().and_then(|u| {
                u.target
                    .apply(&meta.scheme, &meta.host, meta.port, &meta.path_and_query())
                    .map(|r| (u.name.clone(), r))
            });
            let Some((name, to)) = to else {
                // compile() checks reroutes; a host map that does not cover this host
                // must not fall through to the original destination.
                rec.action = "error".into();
                let _ = shared.write_record(rec);
                return Refusal::BadGateway(
                    "the reroute target does not apply to this host".into(),
                )
                .into_response();
            };
            rec.target = Some(format!(
                "{name}: {}://{}:{}{}",
                to.scheme,
                to.host,
                to.port,
                crate::audit::redact_path(&to.path_and_query)
            ));
            if let Err(e) = shared.write_record(rec) {
                tracing::error!(error = %e, "audit log write failed; failing closed");
                return audit_unavailable(&ticket);
            }
            if let Ok(pq) = to.path_and_query.parse::<http::uri::PathAndQuery>() {
                let mut uri = req.uri().clone().into_parts();
                uri.path_and_query = Some(pq);
                if let Ok(u) = http::Uri::from_parts(uri) {
                    *req.uri_mut() = u;
                }
            }
            let new_target = Target {
                https: to.scheme == "https",
                host: to.host,
                port: to.port,
            };
            tracing::info!(policy.rule = ?verdict.rule, policy.verdict = "reroute", ticket = %ticket, to = %new_target.host, "upload rerouted");
            forward::send(shared, &new_target, req).await
        }
        Action::Allow | Action::Audit => {
            if let Err(e) = shared.write_record(rec) {
                tracing::error!(error = %e, "audit log write failed; failing closed");
                return audit_unavailable(&ticket);
            }
            forward::send(shared, target, req).await
        }
    }
}

/// Reads an upload-info answer (bounded) to learn where the upload it announces
/// will go, then releases it unchanged.
async fn learn_from(
    shared: &Shared,
    rt: &Runtime,
    meta: &RequestMeta,
    resp: Response<Body>,
) -> Response<Body> {
    if !resp.status().is_success() {
        return resp;
    }
    let (parts, mut b) = resp.into_parts();
    let mut buf = bytes::BytesMut::new();
    while let Some(frame) = b.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    if buf.len() + d.len() > LEARN_MAX {
                        tracing::debug!(http.host = %meta.host, "upload-info answer too large to learn from");
                        return Refusal::BadGateway(
                            "the upload-info answer is larger than sluice reads".into(),
                        )
                        .into_response();
                    }
                    buf.extend_from_slice(&d);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "upload-info answer not learned from");
                return Refusal::BadGateway("the upstream answer could not be read".into())
                    .into_response();
            }
        }
    }
    let bytes = buf.freeze();
    let n = shared.learned.observe_response(
        &rt.policy,
        meta,
        parts.status.as_u16(),
        &bytes,
        SystemTime::now(),
    );
    tracing::debug!(learned = n, http.host = %meta.host, "upload-info answer read");
    Response::from_parts(parts, body::full(bytes))
}
