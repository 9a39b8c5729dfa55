//! The accept loop, client ACL, CONNECT and absolute-form detection, and byte tunnels.
