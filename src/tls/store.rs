//! The CA on disk: `sluice-ca.pem` and `sluice-ca.key` in one directory. The key file is created with
//! mode 0600 from its first byte (a temp file made 0600, then renamed into place), never chmod-ed
//! afterwards, and a key file that group or others can read is refused on load.

use std::fs::{self, File, Permissions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use rcgen::KeyPair;

use super::ca::{CaFiles, CaOptions, CertAuthority, CA_CERT_FILE, CA_KEY_FILE};
use super::TlsError;

/// A PEM certificate or key is a few kilobytes; the cap keeps a wrong path from being read whole.
const MAX_PEM_BYTES: u64 = 1 << 20;

impl CertAuthority {
    /// Reads `dir/sluice-ca.pem` and `dir/sluice-ca.key`. Refuses a key readable by group or others,
    /// a key that does not belong to the certificate, and a certificate that is not a CA.
    pub fn load(dir: &Path) -> Result<CertAuthority, TlsError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let key_pem = read_key_file(&key_path)?;
        let cert_pem = read_capped(&mut open(&cert_path)?, &cert_path)?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| TlsError::BadCaKey {
            path: key_path.clone(),
            reason: e.to_string(),
        })?;
        CertAuthority::from_pem(cert_pem, key, &cert_path, &key_path)
    }

    /// Generates a CA and writes it to `dir` (created 0700 if missing). Refuses to replace an existing
    /// certificate or key unless `overwrite`.
    pub fn init(dir: &Path, opts: &CaOptions, overwrite: bool) -> Result<CaFiles, TlsError> {
        let ca = CertAuthority::generate(opts)?;
        ca.write(dir, overwrite)
    }

    /// Loads the CA in `dir`, or makes one there when neither file exists (first start).
    /// The flag is `true` when the CA was created now.
    pub fn load_or_init(dir: &Path, opts: &CaOptions) -> Result<(CertAuthority, bool), TlsError> {
        let exists = |name| dir.join(name).symlink_metadata().is_ok();
        if exists(CA_CERT_FILE) || exists(CA_KEY_FILE) {
            return Ok((CertAuthority::load(dir)?, false));
        }
        let ca = CertAuthority::generate(opts)?;
        match ca.write(dir, false) {
            Ok(_) => Ok((ca, true)),
            // Another process created it between our check and our write: use theirs.
            Err(TlsError::AlreadyExists { .. }) => Ok((CertAuthority::load(dir)?, false)),
            Err(e) => Err(e),
        }
    }

    /// Writes this CA's files into `dir`.
    pub fn write(&self, dir: &Path, overwrite: bool) -> Result<CaFiles, TlsError> {
        let files = CaFiles {
            cert: dir.join(CA_CERT_FILE),
            key: dir.join(CA_KEY_FILE),
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| io_err("create directory", dir, source))?;
        if !overwrite
            && (files.cert.symlink_metadata().is_ok() || files.key.symlink_metadata().is_ok())
        {
            return Err(TlsError::AlreadyExists {
                dir: dir.to_owned(),
            });
        }
        // Key first: a crash between the two renames leaves a pair `load` reports as mismatched,
        // never a certificate whose key was lost.
        write_atomically(dir, &files.key, self.key_pem().as_bytes(), 0o600, overwrite)?;
        write_atomically(
            dir,
            &files.cert,
            self.cert_pem().as_bytes(),
            0o644,
            overwrite,
        )?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| io_err("sync directory", dir, source))?;
        Ok(files)
    }
}

fn write_atomically(
    dir: &Path,
    target: &Path,
    bytes: &[u8],
    mode: u32,
    overwrite: bool,
) -> Result<(), TlsError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".sluice-ca-")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|source| io_err("create a temporary file in", dir, source))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|source| io_err("write", tmp.path(), source))?;
    let persisted = if overwrite {
        tmp.persist(target).map(drop)
    } else {
        tmp.persist_noclobber(target).map(drop)
    };
    match persisted {
        Ok(()) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(TlsError::AlreadyExists {
                dir: dir.to_owned(),
            })
        }
        Err(e) => Err(io_err("write", target, e.error)),
    }
}

fn read_key_file(path: &Path) -> Result<String, TlsError> {
    let mut file = open(path)?;
    // The mode comes from the open handle, so the file checked is the file read.
    let mode = file
        .metadata()
        .map_err(|source| io_err("inspect", path, source))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(TlsError::KeyPermissions {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    read_capped(&mut file, path)
}

fn open(path: &Path) -> Result<File, TlsError> {
    File::open(path).map_err(|source| io_err("read", path, source))
}

fn read_capped(file: &mut File, path: &Path) -> Result<String, TlsError> {
    let mut text = String::new();
    file.take(MAX_PEM_BYTES)
        .read_to_string(&mut text)
        .map_err(|source| io_err("read", path, source))?;
    Ok(text)
}

fn io_err(action: &'static str, path: &Path, source: std::io::Error) -> TlsError {
    TlsError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    fn constrained() -> CaOptions {
        CaOptions {
            name_constraints: vec!["dingtalk.com".into()],
            ..CaOptions::default()
        }
    }

    #[test]
    fn init_writes_key_0600_in_a_0700_dir_and_refuses_a_second_time() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("certs");
        let files = CertAuthority::init(&dir, &constrained(), false).expect("init");
        assert_eq!(mode(&files.key), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert!(fs::read_to_string(&files.cert)
            .expect("cert")
            .contains("BEGIN CERTIFICATE"));
        assert!(fs::read_to_string(&files.key)
            .expect("key")
            .contains("PRIVATE KEY"));

        let before = fs::read(&files.key).expect("key");
        let again = CertAuthority::init(&dir, &constrained(), false);
        assert!(
            matches!(again, Err(TlsError::AlreadyExists { .. })),
            "{again:?}"
        );
        assert_eq!(
            fs::read(&files.key).expect("key"),
            before,
            "refused init left the key alone"
        );

        CertAuthority::init(&dir, &constrained(), true).expect("overwrite");
        assert_ne!(fs::read(&files.key).expect("key"), before);
        assert_eq!(mode(&files.key), 0o600);
        let leftovers = fs::read_dir(&dir).expect("dir").count();
        assert_eq!(leftovers, 2, "no temporary files left behind");
    }

    #[test]
    fn load_round_trips_and_leaves_chain_to_the_same_ca() {
        let tmp = tempfile::tempdir().expect("tempdir");
        CertAuthority::init(tmp.path(), &constrained(), false).expect("init");
        let written = fs::read_to_string(tmp.path().join(CA_CERT_FILE)).expect("cert");
        let ca = CertAuthority::load(tmp.path()).expect("load");
        assert_eq!(ca.cert_pem(), written);
        assert_eq!(ca.permitted_domains(), ["dingtalk.com"]);
        let leaf = ca.mint("x.dingtalk.com").expect("mint");
        assert_eq!(leaf.cert.get(1), Some(ca.cert_der()));
        super::super::testutil::verify_leaf(ca.cert_der(), &leaf, "x.dingtalk.com")
            .expect("chains");
    }

    #[test]
    fn load_refuses_a_group_readable_key() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let files = CertAuthority::init(tmp.path(), &constrained(), false).expect("init");
        fs::set_permissions(&files.key, Permissions::from_mode(0o644)).expect("chmod");
        let err = CertAuthority::load(tmp.path()).expect_err("refused");
        assert!(
            matches!(err, TlsError::KeyPermissions { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn load_or_init_creates_once_then_loads() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (first, created) =
            CertAuthority::load_or_init(tmp.path(), &constrained()).expect("first");
        assert!(created);
        let (second, created) =
            CertAuthority::load_or_init(tmp.path(), &constrained()).expect("second");
        assert!(!created);
        assert_eq!(first.cert_der(), second.cert_der());
    }

    #[test]
    fn load_or_init_reports_a_missing_half() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let files = CertAuthority::init(tmp.path(), &constrained(), false).expect("init");
        fs::remove_file(&files.key).expect("rm");
        let err = CertAuthority::load_or_init(tmp.path(), &constrained()).expect_err("half a CA");
        assert!(err.to_string().contains(CA_KEY_FILE), "{err}");
    }

    #[test]
    fn load_refuses_garbage() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let files = CertAuthority::init(tmp.path(), &constrained(), false).expect("init");
        fs::write(&files.cert, "not pem").expect("write");
        assert!(matches!(
            CertAuthority::load(tmp.path()),
            Err(TlsError::BadCaCert { .. })
        ));
    }
}
