//! The per-request HTTP service: request metadata, the hold, the upstream client, synthetic responses.
