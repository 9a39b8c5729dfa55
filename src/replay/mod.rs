//! HAR loading, offline evaluation of captured traffic, and live replay through a proxy.

pub mod har;
