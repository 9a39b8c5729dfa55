//! The accept loop, client ACL, CONNECT and absolute-form detection, and byte tunnels.

pub mod acl;
pub mod dial;
pub mod idle;
pub mod pattern;
pub mod redirect;
pub mod tunnel;

pub use acl::{Acl, AuthFailure, ProxyAuth};
pub use dial::{DialError, Dialer};
pub use pattern::{normalize_host, HostPattern, HostSet};
