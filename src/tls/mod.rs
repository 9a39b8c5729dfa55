//! The local CA, per-host leaf minting and its cache, and the rustls server and upstream client configs.
