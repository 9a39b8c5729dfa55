//! The one body type the proxy passes around, whatever produced it: a client's
//! streaming upload, a held body replayed from the spool, an upstream response,
//! or a synthetic answer.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every request and response body in the proxy.
pub type Body = BoxBody<Bytes, BoxError>;

pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Boxes any body whose error converts into a `BoxError`.
pub fn boxed<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed()
}

/// Bodies played one after another (a held prefix, then the rest of a stream).
pub fn chain(a: Body, b: Body, c: Body) -> Body {
    Chain {
        parts: [a, b, c].into_iter().collect(),
    }
    .boxed()
}

struct Chain {
    parts: std::collections::VecDeque<Body>,
}

impl http_body::Body for Chain {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        use std::task::Poll;
        loop {
            let Some(front) = self.parts.front_mut() else {
                return Poll::Ready(None);
            };
            match std::pin::Pin::new(front).poll_frame(cx) {
                Poll::Ready(None) => {
                    self.parts.pop_front();
                }
                other => return other,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.parts.iter().all(|p| p.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let mut total = 0u64;
        for p in &self.parts {
            match p.size_hint().exact() {
                Some(n) => total += n,
                None => return http_body::SizeHint::default(),
            }
        }
        http_body::SizeHint::with_exact(total)
    }
}
