//! Certificates made at start and the rustls configurations the TLS
//! examples share (`tls_echo`, `http_server --tls`, `download`), via
//! `#[path]`. rustls runs with its `ring` provider, which needs only a C
//! compiler to build. Not every example uses every item.
#![allow(dead_code)]

use std::sync::Arc;

use futures_rustls::rustls::crypto::{ring, CryptoProvider};
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// The names every certificate here is valid for: the loopback server.
const NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// A server certificate chain and its private key.
pub struct Identity {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// A self-signed certificate for `localhost` and `127.0.0.1`: the
/// certificate is its own trust anchor.
pub fn self_signed() -> Identity {
    let certified = rcgen::generate_simple_self_signed(NAMES.map(String::from).to_vec())
        .expect("rcgen: self-signed certificate");
    Identity {
        chain: vec![certified.cert.der().clone()],
        key: pkcs8(&certified.signing_key),
    }
}

/// A local certificate authority and a server certificate it signed, as a
/// real deployment has: clients trust the CA, not the server's own
/// certificate. Returns the server's identity and the CA certificate.
pub fn local_ca() -> (Identity, CertificateDer<'static>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "coro examples' local CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
        .expect("rcgen: CA certificate");
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = CertificateParams::new(NAMES.map(String::from).to_vec())
        .expect("server params")
        .signed_by(&server_key, &ca)
        .expect("rcgen: server certificate");
    let identity = Identity {
        chain: vec![server_cert.der().clone(), ca.der().clone()],
        key: pkcs8(&server_key),
    };
    (identity, ca.der().clone())
}

fn pkcs8(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// A TLS acceptor for `identity` that offers the ALPN protocols `alpn`
/// (most preferred first; empty for none).
pub fn acceptor(identity: Identity, alpn: &[&[u8]]) -> TlsAcceptor {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("rustls: protocol versions")
        .with_no_client_auth()
        .with_single_cert(identity.chain, identity.key)
        .expect("rustls: server certificate");
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsAcceptor::from(Arc::new(config))
}

/// A TLS connector that trusts exactly the certificates in `anchors`
/// (none: it trusts nothing, and every handshake fails verification).
pub fn connector(anchors: &[CertificateDer<'static>], alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for anchor in anchors {
        roots.add(anchor.clone()).expect("rustls: trust anchor");
    }
    connector_with_roots(roots, alpn)
}

/// A TLS connector that trusts the public web's roots (Mozilla's list, from
/// `webpki-roots`), for `https://` URLs out on the internet.
pub fn public_connector(alpn: &[&[u8]]) -> TlsConnector {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    connector_with_roots(roots, alpn)
}

fn connector_with_roots(roots: RootCertStore, alpn: &[&[u8]]) -> TlsConnector {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("rustls: protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// The rustls error inside an `io::Error`, if that is what it carries:
/// futures-rustls keeps a failed handshake's `rustls::Error` as the
/// `io::Error`'s inner error.
pub fn rustls_cause(error: &std::io::Error) -> Option<&futures_rustls::rustls::Error> {
    error.get_ref()?.downcast_ref()
}
