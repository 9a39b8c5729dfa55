//! PURE: regions and jurisdictions, compiled rules, and `evaluate(meta, findings) -> Verdict`.
