//! A CA of the test's own, made with rcgen when the test runs (no key is kept in
//! the repository), and server certificates it signs, written as PEM files.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber};
use rustls::pki_types::CertificateDer;

/// A CA of the test's own and the files it writes, in a directory of the test's.
pub struct Pki {
    pub dir: PathBuf,
    ca: Issuer<'static, KeyPair>,
}

/// A server certificate written by [`Pki::issue`].
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub der: CertificateDer<'static>,
}

impl Pki {
    pub fn new(name: &str) -> Pki {
        let dir =
            std::env::temp_dir().join(format!("live-ingest-rtmps-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("live-ingest test CA {name}"));
        let key = KeyPair::generate().expect("a CA key");
        let cert = params.self_signed(&key).expect("the CA certificate");
        std::fs::write(dir.join("ca.pem"), cert.pem()).expect("write the CA");
        Pki {
            dir,
            ca: Issuer::new(params, key),
        }
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A certificate for 127.0.0.1 and localhost with this serial number and
    /// common name, written to `NAME.pem` and `NAME.key`.
    pub fn issue(&self, name: &str, serial: u64) -> Issued {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server parameters");
        params.serial_number = Some(SerialNumber::from(serial));
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("a server key");
        let cert = params
            .signed_by(&key, &self.ca)
            .expect("a signed certificate");
        let issued = Issued {
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}.key")),
            der: cert.der().clone(),
        };
        std::fs::write(&issued.cert, cert.pem()).expect("write the certificate");
        std::fs::write(&issued.key, key.serialize_pem()).expect("write the key");
        issued
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
