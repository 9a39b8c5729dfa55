//! Which vector instructions the inspection hot path uses: the widest the CPU
//! has, unless `SLUICE_SIMD=sse2` keeps an x86_64 machine to the 16-byte
//! kernels every x86_64 CPU has. That is how the figures of a gateway without
//! AVX-512 are measured on one with it (`SLUICE_SIMD=sse2 cargo bench`), and
//! how an operator rules the wide pass in or out on a machine of their own.

use std::sync::OnceLock;

/// The environment variable read, once per process.
pub const ENV: &str = "SLUICE_SIMD";

/// The passes the engine picked, once per process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vectors {
    /// 64-byte blocks for media's text and signature walks (AVX-512BW).
    pub avx512bw: bool,
    /// 64-byte blocks, with the word and CJK filters, for the start pass
    /// (AVX-512 with VBMI, and BMI for the masks).
    pub avx512vbmi: bool,
}

impl Vectors {
    /// For the start-up line: what the start pass, the hottest loop, runs on.
    pub fn describe(self) -> &'static str {
        if self.avx512vbmi {
            "AVX-512 VBMI, 64-byte blocks"
        } else if self.avx512bw {
            "SSE2, 16-byte blocks (AVX-512 without VBMI: only media's walks are 64 bytes)"
        } else if cfg!(target_arch = "x86_64") {
            "SSE2, 16-byte blocks"
        } else if cfg!(target_arch = "aarch64") {
            "NEON, 16-byte blocks"
        } else {
            "a byte at a time"
        }
    }
}

/// What `SLUICE_SIMD` asks for: `Ok(true)` to keep to the baseline kernels,
/// `Ok(false)` when unset, empty or `auto`; an error for anything else, so
/// that a typo is not silently the widest pass.
pub fn baseline_requested() -> Result<bool, String> {
    parse(std::env::var_os(ENV).as_deref())
}

fn parse(value: Option<&std::ffi::OsStr>) -> Result<bool, String> {
    let choices = if cfg!(target_arch = "x86_64") {
        "`auto` or `sse2`"
    } else {
        "`auto` (this machine has one set of kernels)"
    };
    match value.map(|v| v.to_str()) {
        None => Ok(false),
        Some(Some("" | "auto")) => Ok(false),
        Some(Some("sse2")) if cfg!(target_arch = "x86_64") => Ok(true),
        Some(Some(v)) => Err(format!("{ENV}={v:?} is not understood: use {choices}")),
        Some(None) => Err(format!("{ENV} is not UTF-8: use {choices}")),
    }
}

/// The passes in use. A value `baseline_requested` refuses counts as `auto`
/// here: the command line reports it before any body is scanned.
pub fn vectors() -> Vectors {
    static PICKED: OnceLock<Vectors> = OnceLock::new();
    *PICKED.get_or_init(|| {
        if baseline_requested().unwrap_or(false) {
            return Vectors {
                avx512bw: false,
                avx512vbmi: false,
            };
        }
        detected()
    })
}

#[cfg(target_arch = "x86_64")]
fn detected() -> Vectors {
    let bw = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
    Vectors {
        avx512bw: bw,
        avx512vbmi: bw
            && std::is_x86_feature_detected!("avx512vbmi")
            && std::is_x86_feature_detected!("lzcnt")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2"),
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detected() -> Vectors {
    Vectors {
        avx512bw: false,
        avx512vbmi: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_is_read_strictly() {
        use std::ffi::OsStr;
        assert_eq!(parse(None), Ok(false));
        assert_eq!(parse(Some(OsStr::new(""))), Ok(false));
        assert_eq!(parse(Some(OsStr::new("auto"))), Ok(false));
        assert_eq!(
            parse(Some(OsStr::new("sse2"))).is_ok(),
            cfg!(target_arch = "x86_64")
        );
        for typo in ["SSE2", "sse", "avx2", "off", " auto"] {
            let e = parse(Some(OsStr::new(typo))).unwrap_err();
            assert!(e.contains("SLUICE_SIMD") && e.contains("auto"), "{e}");
        }
    }

    #[test]
    fn the_wide_pass_needs_what_the_narrower_one_does() {
        let v = vectors();
        assert!(!v.avx512vbmi || v.avx512bw, "{v:?}");
        assert!(!v.describe().is_empty());
    }
}
