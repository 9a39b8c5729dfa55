//! Wires listener, TLS, proxy, audit and admin together; owns reload and shutdown.
