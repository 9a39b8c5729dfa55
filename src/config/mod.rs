//! YAML configuration: load, validate and report every error with file:line:col and a key path.
