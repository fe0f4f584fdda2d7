//! RTMPS (feature `tls`): RTMP inside TLS, with rustls and its `aws-lc-rs` provider.
//!
//! - In: [`Certificates`] holds the listener's certificate chain and key, read
//!   from PEM files, and reads them again on [`Certificates::reload`] (the
//!   server's [`reload_tls`](crate::Server::reload_tls), SIGHUP in the program).
//!   A connection takes the configuration current when it is accepted and keeps
//!   it, so a reload drops nothing; a reload that fails keeps the old one.
//! - Out: [`client_config`] trusts the system's root certificates or only the
//!   certificates of one CA file, for pushes to `rtmps://` upstreams.
//!
//! The provider is passed to every builder (never installed process-wide), so an
//! application that uses another provider elsewhere is not disturbed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// PEM files larger than this are refused before they are parsed: a chain of
/// a few certificates is a few kilobytes, and a wrong path (a device, a log)
/// must not be read into memory whole.
pub const MAX_PEM_BYTES: u64 = 1 << 20;

/// Why TLS cannot be set up with the files given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file cannot be read.
    #[error("{}: cannot read the {what}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What it was to hold (`certificate chain (tls_cert)`).
        what: &'static str,
        /// What failed.
        source: std::io::Error,
    },
    /// A file is larger than [`MAX_PEM_BYTES`].
    #[error("{}: expected a PEM {what} of at most {MAX_PEM_BYTES} bytes, the file is larger", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What it was to hold.
        what: &'static str,
    },
    /// A file holds no usable PEM block of the kind expected.
    #[error("{}: expected {expected}, found {found}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// The blocks expected (`PEM "CERTIFICATE" blocks`).
        expected: &'static str,
        /// What was found instead (`no such block`, or the PEM syntax error).
        found: String,
    },
    /// rustls refuses the certificate and key: they do not match, or the key
    /// type is not supported.
    #[error("{} with {}: expected a certificate chain and its private key, rustls refuses them: {source}", cert.display(), key.display())]
    Rejected {
        /// The certificate chain file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// A CA certificate cannot be a trust anchor.
    #[error("{}: expected CA certificates, one is refused: {source}", path.display())]
    BadCa {
        /// The CA file.
        path: PathBuf,
        /// rustls's reason.
        source: rustls::Error,
    },
    /// The system's certificate store gave no root certificate.
    #[error("expected root certificates in the system's store, found none ({errors}); set push_ca to a CA file")]
    NoSystemRoots {
        /// What went wrong reading the store, if anything.
        errors: String,
    },
    /// The crypto provider refuses the default protocol versions (not with
    /// aws-lc-rs; kept apart in case the provider changes).
    #[error("the TLS provider refuses TLS 1.2 and 1.3: {0}")]
    Provider(#[source] rustls::Error),
    /// A reload was asked of a server with no RTMPS listener.
    #[error("no RTMPS listener is configured (rtmps, tls_cert and tls_key): nothing to reload")]
    NotConfigured,
}

/// The provider every configuration here is built with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads a PEM file of at most [`MAX_PEM_BYTES`].
fn read_pem(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsError> {
    let read_error = |source| TlsError::Read {
        path: path.to_owned(),
        what,
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(TlsError::TooLarge {
            path: path.to_owned(),
            what,
        });
    }
    Ok(bytes)
}

/// The certificates of a PEM file, in order (a chain: the server's first), or
/// why there are none.
pub fn read_certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path, what)?;
    let error = |found: String| TlsError::Pem {
        path: path.to_owned(),
        expected: "PEM \"CERTIFICATE\" blocks",
        found,
    };
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certificates.is_empty() {
        return Err(error("no such block".into()));
    }
    Ok(certificates)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1), or why there is none.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem(path, "private key (tls_key)")?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|error| TlsError::Pem {
        path: path.to_owned(),
        expected: "a PEM \"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block",
        found: match error {
            rustls::pki_types::pem::Error::NoItemsFound => "no such block".into(),
            other => other.to_string(),
        },
    })
}

/// A server configuration with the chain in `cert` and the key in `key`.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = read_certificates(cert, "certificate chain (tls_cert)")?;
    let private_key = read_private_key(key)?;
    let rejected = |source| TlsError::Rejected {
        cert: cert.to_owned(),
        key: key.to_owned(),
        source,
    };
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Provider)?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(rejected)?;
    Ok(Arc::new(config))
}

/// A client configuration that trusts the certificates of the PEM file `ca`,
/// or, without one, the system's root certificates.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for certificate in read_certificates(path, "CA certificates (push_ca)")? {
                roots.add(certificate).map_err(|source| TlsError::BadCa {
                    path: path.to_owned(),
                    source,
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let errors = found
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            // Certificates of a kind rustls cannot use are skipped, as browsers do.
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(TlsError::NoSystemRoots { errors });
            }
            if !errors.is_empty() {
                tracing::warn!(errors, added, "some system root certificates were not read");
            }
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Provider)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A connector for pushes with `config`.
pub fn connector(config: Arc<ClientConfig>) -> TlsConnector {
    TlsConnector::from(config)
}

/// The RTMPS listener's certificate and key: the files, and the configuration
/// last read from them.
#[derive(Debug)]
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    // A lock, not a swap crate: it is read once per accepted connection and
    // written once per reload, so it is never contended.
    current: RwLock<Arc<ServerConfig>>,
}

impl Certificates {
    /// Reads the chain in `cert` and the key in `key`.
    pub fn load(cert: &Path, key: &Path) -> Result<Certificates, TlsError> {
        Ok(Certificates {
            current: RwLock::new(server_config(cert, key)?),
            cert: cert.to_owned(),
            key: key.to_owned(),
        })
    }

    /// Reads both files again. Connections accepted from now on get the new
    /// certificate; those already open keep their session. On an error the
    /// configuration in use stays as it was.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = server_config(&self.cert, &self.key)?;
        // A panic while the lock was held cannot leave a half-written Arc.
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        Ok(())
    }

    /// The configuration new connections are accepted with.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// An acceptor with the current configuration.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.current())
    }
}
