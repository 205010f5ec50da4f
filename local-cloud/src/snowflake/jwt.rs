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
