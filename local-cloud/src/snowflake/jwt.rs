//! Key-pair login as Snowflake checks it: an RS256 JWT whose `sub` is `ACCOUNT.USER`, whose `iss`
//! names the `SHA256:` fingerprint of a public key currently set on that user, signed by that key,
//! not expired, and living at most an hour.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
}

/// A public key as `RSA_PUBLIC_KEY` holds it: the base64 body of the SPKI PEM.
pub fn parse_key(body: &str) -> Option<RsaPublicKey> {
    let der = STANDARD
        .decode(body.split_whitespace().collect::<String>())
        .ok()?;
    RsaPublicKey::from_public_key_der(&der).ok()
}

/// `SHA256:` + base64 of the SHA-256 of the key's DER, as Snowflake shows it.
pub fn fingerprint(body: &str) -> Option<String> {
    let der = STANDARD
        .decode(body.split_whitespace().collect::<String>())
        .ok()?;
    parse_key(body)?;
    Some(format!("SHA256:{}", STANDARD.encode(Sha256::digest(&der))))
}

/// Checks `token` for `account.user` against the user's current keys; `Err` says why not.
pub fn verify(
    token: &str,
    account: &str,
    user: &str,
    keys: &[String],
    now: i64,
) -> Result<(), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err("not a JWT".into());
    };
    let decode = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .map_err(|_| "bad base64".to_string())
    };
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| "bad header")?;
    if header.alg != "RS256" {
        return Err(format!("alg {} is not RS256", header.alg));
    }
    let claims: Claims = serde_json::from_slice(&decode(payload)?).map_err(|_| "bad claims")?;
    let subject = format!(
        "{}.{}",
        account.to_ascii_uppercase(),
        user.to_ascii_uppercase()
    );
    if claims.sub != subject {
        return Err(format!("sub {} is not {subject}", claims.sub));
    }
    let Some(fp) = claims.iss.strip_prefix(&format!("{subject}.")) else {
        return Err("iss does not name the subject".into());
    };
    if claims.exp <= now || claims.iat > now + 60 || claims.exp - claims.iat > 3600 {
        return Err("expired, not yet valid, or living longer than an hour".into());
    }
    let key = keys
        .iter()
        .find(|k| fingerprint(k).as_deref() == Some(fp))
        .and_then(|k| parse_key(k))
        .ok_or("no key with that fingerprint is set on the user")?;
    let signature =
        Signature::try_from(decode(signature)?.as_slice()).map_err(|_| "bad signature")?;
    VerifyingKey::<Sha256>::new(key)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .map_err(|_| "the signature does not verify".to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use rsa::RsaPrivateKey;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::EncodePublicKey as _;
    use rsa::signature::{SignatureEncoding as _, Signer as _};

    use super::*;

    /// A new key pair: the private key, and the public key's base64 SPKI body.
    pub(crate) fn key() -> (RsaPrivateKey, String) {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let der = private.to_public_key().to_public_key_der().unwrap();
        (private, STANDARD.encode(der.as_bytes()))
    }

    /// A JWT for `sub` naming `body`'s fingerprint, signed by `private`.
    pub(crate) fn token(
        private: &RsaPrivateKey,
        body: &str,
        sub: &str,
        iat: i64,
        exp: i64,
    ) -> String {
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let iss = format!("{sub}.{}", fingerprint(body).unwrap());
        let head = format!(
            "{}.{}",
            b64(serde_json::json!({"alg": "RS256", "typ": "JWT"})),
            b64(serde_json::json!({"iss": iss, "sub": sub, "iat": iat, "exp": exp}))
        );
        let sig = SigningKey::<Sha256>::new(private.clone()).sign(head.as_bytes());
        format!("{head}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    #[test]
    fn accepts_a_good_token_and_refuses_forged_expired_and_unset_keys() {
        let (private, body) = key();
        let (other, other_body) = key();
        let now = 1_800_000_000;
        let good = token(&private, &body, "ACCT.USER", now - 10, now + 590);
        assert!(verify(&good, "acct", "user", std::slice::from_ref(&body), now).is_ok());
        // Signed by another key, but claiming this key's fingerprint.
        let mut forged = token(&other, &body, "ACCT.USER", now - 10, now + 590);
        forged.replace_range(..forged.find('.').unwrap(), good.split('.').next().unwrap());
        assert!(verify(&forged, "acct", "user", std::slice::from_ref(&body), now).is_err());
        let expired = token(&private, &body, "ACCT.USER", now - 700, now - 100);
        assert!(verify(&expired, "acct", "user", std::slice::from_ref(&body), now).is_err());
        let too_long = token(&private, &body, "ACCT.USER", now, now + 7200);
        assert!(verify(&too_long, "acct", "user", std::slice::from_ref(&body), now).is_err());
        let other_user = token(&private, &body, "ACCT.ADMIN", now - 10, now + 590);
        assert!(
            verify(
                &other_user,
                "acct",
                "user",
                std::slice::from_ref(&body),
                now
            )
            .is_err()
        );
        // A key that is not (or no longer) set on the user.
        let unset = token(&other, &other_body, "ACCT.USER", now - 10, now + 590);
        assert!(verify(&unset, "acct", "user", std::slice::from_ref(&body), now).is_err());
    }
}
