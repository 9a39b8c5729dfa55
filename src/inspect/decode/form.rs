//! `application/x-www-form-urlencoded`: each `name=value` pair becomes
//! `field(name)`, the URL-decoded value (opened again if it is JSON or base64),
//! and a boundary.

use memchr::{memchr, memchr2};

use super::cx::Cx;
use super::text::UrlDecoder;
use super::value::ValueNode;
use crate::inspect::sink::TextSink;

const MAX_NAME: usize = 256;

pub(crate) struct FormNode {
    in_value: bool,
    name: Vec<u8>,
    url: UrlDecoder,
    value: ValueNode,
}

impl FormNode {
    pub fn new(depth: u32) -> Self {
        FormNode {
            in_value: false,
            name: Vec::new(),
            url: UrlDecoder::default(),
            value: ValueNode::new(depth + 1),
        }
    }

    pub fn feed<S: TextSink>(&mut self, mut data: &[u8], cx: &mut Cx<S>) {
        while !data.is_empty() {
            if self.in_value {
                let end = memchr(b'&', data);
                let run = data.get(..end.unwrap_or(data.len())).unwrap_or(&[]);
                let (url, value) = (&mut self.url, &mut self.value);
                url.decode(run, |b| value.feed(b, cx));
                match end {
                    Some(i) => {
                        self.end_value(cx);
                        data = data.get(i + 1..).unwrap_or(&[]);
                    }
                    None => return,
                }
            } else {
                let end = memchr2(b'=', b'&', data);
                let run = data.get(..end.unwrap_or(data.len())).unwrap_or(&[]);
                let (url, name) = (&mut self.url, &mut self.name);
                url.decode(run, |b| push_capped(name, b));
                let Some(i) = end else { return };
                let (url, name) = (&mut self.url, &mut self.name);
                url.flush(|b| push_capped(name, b));
                if data.get(i) == Some(&b'=') {
                    cx.sink.field(&self.name);
                    self.in_value = true;
                    self.value.reset();
                } else {
                    self.bare_name(cx);
                }
                data = data.get(i + 1..).unwrap_or(&[]);
            }
        }
    }

    fn end_value<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        let (url, value) = (&mut self.url, &mut self.value);
        url.flush(|b| value.feed(b, cx));
        self.value.finish(cx);
        cx.sink.boundary();
        self.in_value = false;
        self.name.clear();
    }

    /// A name without `=` may still be data (`?A1234567`): deliver it as text.
    fn bare_name<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if !self.name.is_empty() {
            cx.sink.text(&self.name);
            cx.sink.boundary();
        }
        self.name.clear();
    }

    pub fn finish<S: TextSink>(&mut self, cx: &mut Cx<S>) {
        if self.in_value {
            self.end_value(cx);
        } else {
            let (url, name) = (&mut self.url, &mut self.name);
            url.flush(|b| push_capped(name, b));
            self.bare_name(cx);
        }
    }
}

/// A request's query string (`a=1&b=2`) read as form fields, ahead of its
/// body: parameters travel there as often as in a form (DINGTALK.md), and a
/// legacy gateway takes a whole call in it. A value ends at its `&`, and the
/// whole query at a boundary, so nothing in it runs on into the body.
pub(crate) fn query<S: TextSink>(query: &[u8], cx: &mut Cx<S>) {
    let mut form = FormNode::new(0);
    form.feed(query, cx);
    form.finish(cx);
    cx.sink.boundary();
}

fn push_capped(buf: &mut Vec<u8>, b: &[u8]) {
    let room = MAX_NAME.saturating_sub(buf.len()).min(b.len());
    buf.extend_from_slice(b.get(..room).unwrap_or(&[]));
}
