//! `sluice run --record`: hands each intercepted flow to the HAR recorder, the
//! response body copied (bounded) as it streams to the client.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Response};
use http_body::Frame;

use super::body::{Body, BoxError};
use crate::replay::record::{RecordedFlow, RecordedResponse, Recorder, MAX_BODY};

pub fn headers_of(h: &HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Wraps `resp` so the flow is recorded once its body has been sent (or dropped).
pub fn tap(recorder: Arc<Recorder>, flow: RecordedFlow, resp: Response<Body>) -> Response<Body> {
    let (parts, body) = resp.into_parts();
    let response = RecordedResponse {
        status: parts.status.as_u16(),
        headers: headers_of(&parts.headers),
        body: Vec::new(),
    };
    let tapped = Tap {
        inner: body,
        pending: Some((recorder, flow, response)),
    };
    Response::from_parts(parts, http_body_util::BodyExt::boxed(tapped))
}

struct Tap {
    inner: Body,
    pending: Option<(Arc<Recorder>, RecordedFlow, RecordedResponse)>,
}

impl Tap {
    fn emit(&mut self) {
        if let Some((rec, mut flow, resp)) = self.pending.take() {
            flow.response = Some(resp);
            rec.record(flow);
        }
    }
}

impl http_body::Body for Tap {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let r = Pin::new(&mut self.inner).poll_frame(cx);
        match &r {
            Poll::Ready(Some(Ok(f))) => {
                if let (Some(d), Some((_, _, resp))) = (f.data_ref(), self.pending.as_mut()) {
                    let room = MAX_BODY.saturating_sub(resp.body.len());
                    resp.body.extend_from_slice(&d[..d.len().min(room)]);
                }
            }
            Poll::Ready(None) => self.emit(),
            _ => {}
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // A client that hung up still leaves its flow in the recording.
        self.emit();
    }
}
