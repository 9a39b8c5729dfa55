//! Typed audit records, the hash-chained JSON Lines sink and `audit verify`.
