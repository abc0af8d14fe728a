//! GitHub App authentication for `test-report github`: the App's private key (PEM: PKCS#1 as
//! GitHub issues it, or PKCS#8) signs an RS256 JWT with ring (already in the build for rustls),
//! which the core ([`test_report::github::app`]) exchanges for an installation token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use test_report::github::app;

/// The App's JWT at `now_secs`, signed with the PEM key `pem`; `source` names the key in errors.
pub fn jwt(app_id: &str, pem: &[u8], now_secs: u64, source: &str) -> Result<String, String> {
    let key = PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
        format!("{source}: not a PEM private key ({e:?}): use the .pem file GitHub generated for the App")
    })?;
    let pair = match &key {
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        _ => {
            return Err(format!(
                "{source}: not an RSA key; GitHub Apps sign with RSA keys"
            ))
        }
    }
    .map_err(|e| format!("{source}: unusable RSA key: {e}"))?;
    let (header, claims) = app::jwt_parts(app_id, now_secs);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| format!("{source}: signing the JWT failed"))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    /// A fresh 2048-bit key from the openssl command line: PKCS#1 (`-traditional`, as GitHub
    /// issues App keys) or PKCS#8.
    fn key(traditional: bool) -> Vec<u8> {
        let mut cmd = std::process::Command::new("openssl");
        cmd.arg("genrsa");
        if traditional {
            cmd.arg("-traditional");
        }
        let out = cmd.arg("2048").output().expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    fn the_jwt_is_rs256_signed_by_the_app_key_in_either_pem_form() {
        for traditional in [true, false] {
            let pem = key(traditional);
            let token = jwt("12345", &pem, 1_700_000_000, "key.pem").unwrap();
            let parts: Vec<&str> = token.split('.').collect();
            assert_eq!(parts.len(), 3);
            let claims: serde_json::Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
            assert_eq!(claims["iss"], "12345");
            let pair = match PrivateKeyDer::from_pem_slice(&pem).unwrap() {
                PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()).unwrap(),
                PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()).unwrap(),
                other => panic!("openssl made another kind of key: {other:?}"),
            };
            let public =
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public().as_ref());
            let signed = format!("{}.{}", parts[0], parts[1]);
            public
                .verify(
                    signed.as_bytes(),
                    &URL_SAFE_NO_PAD.decode(parts[2]).unwrap(),
                )
                .expect("the signature verifies with the App's public key");
        }
    }

    #[test]
    fn a_key_that_is_not_pem_is_named_in_the_error() {
        let err = jwt("1", b"not a key", 0, "/secrets/app.pem").unwrap_err();
        assert!(
            err.starts_with("/secrets/app.pem: not a PEM private key"),
            "{err}"
        );
    }
}
