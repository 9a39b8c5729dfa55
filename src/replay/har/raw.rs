//! The skeleton of a HAR document as deserialised before the walk: only the fields
//! sluice reads are materialised (`request`, `response`, `startedDateTime`, …);
//! everything else (`pages`, `timings`, Chrome's `_initiator` stack traces) is
//! skipped by serde without allocating, which keeps a large capture's memory close
//! to the size of its bodies. A field of the wrong JSON type does not fail the
//! parse here: it becomes `Shape::Not` so the walker can name entry and field.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::MAX_ENTRIES;

#[derive(Deserialize)]
pub(super) struct RawDoc {
    pub log: Option<Object<RawLog>>,
}

#[derive(Deserialize)]
pub(super) struct RawLog {
    pub version: Option<Value>,
    pub creator: Option<Value>,
    pub entries: Option<Array<Object<RawEntry>>>,
}

#[derive(Deserialize)]
pub(super) struct RawEntry {
    #[serde(rename = "startedDateTime")]
    pub started: Option<Value>,
    pub request: Option<Value>,
    pub response: Option<Value>,
    /// Chrome's (and Edge's) WebSocket frames, sent and received.
    #[serde(rename = "_webSocketMessages")]
    pub websocket: Option<Value>,
}

/// A JSON object deserialised as `T`, or a note that the value was something else.
pub(super) enum Object<T> {
    Is(T),
    Not,
}

/// A JSON array deserialised as `Vec<T>` (at most `MAX_ENTRIES` items), or a note that the value was something else.
pub(super) enum Array<T> {
    Is(Vec<T>),
    Not,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Shaped::<T, true>(PhantomData))
            .map(|v| match v {
                Some(Either::Map(t)) => Object::Is(t),
                _ => Object::Not,
            })
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Array<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Shaped::<T, false>(PhantomData))
            .map(|v| match v {
                Some(Either::Seq(items)) => Array::Is(items),
                _ => Array::Not,
            })
    }
}

enum Either<T> {
    Map(T),
    Seq(Vec<T>),
}

/// Accepts any JSON value; keeps a map (when `MAP`) or a sequence (otherwise) and
/// drains anything else.
struct Shaped<T, const MAP: bool>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAP: bool> Visitor<'de> for Shaped<T, MAP> {
    type Value = Option<Either<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if MAP {
            return T::deserialize(MapAccessDeserializer::new(map)).map(|t| Some(Either::Map(t)));
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !MAP {
            // Counted here, not after: a million `1`s would otherwise become a
            // million placeholder entries before anything could refuse them.
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<T>()? {
                if items.len() >= MAX_ENTRIES {
                    return Err(de::Error::custom(format_args!(
                        "more than {MAX_ENTRIES} entries"
                    )));
                }
                items.push(item);
            }
            return Ok(Some(Either::Seq(items)));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}
