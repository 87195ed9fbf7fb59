//! Each source's own sign-in: a bearer token as issued (Kandji, Fleet, Snipe-IT), OAuth 2.0
//! client credentials (Microsoft Graph, Jamf Pro API clients), or a Google service account's
//! signed JWT. Tokens are kept in memory only and fetched again when one expires.

use super::Error;
use super::http::{Client, Request};
use std::time::{Duration, Instant};

/// A secret read from the environment or a file: never printed, wiped when dropped.
pub struct Secret(zeroize::Zeroizing<String>);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(zeroize::Zeroizing::new(s))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// How a source is signed in to.
pub enum Auth {
    /// A long-lived API token sent as is.
    Bearer(Secret),
    /// OAuth 2.0 client credentials grant (RFC 6749 §4.4), the secret in the form body.
    ClientCredentials { token_url: String, client_id: String, secret: Secret, scope: Option<String> },
    /// OAuth 2.0 client credentials with a certificate instead of a secret (Microsoft identity
    /// platform): a PS256 client assertion naming the certificate by its SHA-256 thumbprint.
    ClientAssertion { token_url: String, client_id: String, key: Box<rsa::PrivateKey>, thumbprint: String, scope: Option<String> },
    /// A Google service account: a JWT signed with its RSA key, exchanged for a token
    /// (RFC 7523), acting for `subject` (domain-wide delegation) when given.
    ServiceAccount { token_url: String, email: String, key: Box<rsa::PrivateKey>, scope: String, subject: Option<String> },
}

/// A Google service account's key file (the JSON the console downloads).
#[derive(serde::Deserialize)]
struct KeyFile {
    client_email: String,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.private_key);
    }
}

impl Auth {
    /// Certificate credentials from the certificate (PEM) and its private key (PKCS#8 PEM).
    pub fn client_assertion(token_url: String, client_id: String, cert_pem: &[u8], key_pem: &Secret, scope: Option<String>) -> Result<Auth, Error> {
        use base64::Engine;
        use rsa::pkcs8::DecodePrivateKey;
        use sha2::Digest;
        let der = match ureq::tls::parse_pem(cert_pem).next() {
            Some(Ok(ureq::tls::PemItem::Certificate(c))) => c.der().to_vec(),
            _ => return Err(Error::Config("certificate_file holds no PEM certificate".into())),
        };
        let key = rsa::PrivateKey::from_pkcs8_pem(key_pem.expose())
            .map_err(|_| Error::Config("the certificate's private key (the secret) is not an unencrypted PKCS#8 RSA key".into()))?;
        let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der));
        Ok(Auth::ClientAssertion { token_url, client_id, key: Box::new(key), thumbprint, scope })
    }

    /// A service account from its key file's JSON.
    pub fn service_account(json: &Secret, scope: &str, subject: Option<String>, token_url: Option<String>) -> Result<Auth, Error> {
        use rsa::pkcs8::DecodePrivateKey;
        let k: KeyFile = serde_json::from_str(json.expose()).map_err(|e| {
            Error::Config(format!("the service account key is not a Google key file (JSON with client_email and private_key): {}", key_file_error(&e)))
        })?;
        let key = rsa::PrivateKey::from_pkcs8_pem(&k.private_key)
            .map_err(|_| Error::Config("the service account key's private_key is not a PKCS#8 RSA key".into()))?;
        let token_url = token_url.or(k.token_uri.clone()).unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
        Ok(Auth::ServiceAccount { token_url, email: k.client_email.clone(), key: Box::new(key), scope: scope.into(), subject })
    }
}

/// What is wrong with a key file, without the parse error's own text (which could quote it).
fn key_file_error(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => "not JSON",
        serde_json::error::Category::Data => "a field is missing or of the wrong type",
    }
}

/// A token request's form fields (secrets among them, wiped when dropped).
type Form = Vec<(&'static str, zeroize::Zeroizing<String>)>;

/// The token a pull presents, fetched when needed.
pub struct Tokens {
    auth: Auth,
    current: Option<(zeroize::Zeroizing<String>, Instant)>,
    /// How many tokens were fetched (a refreshed token shows as 2).
    pub fetched: u32,
}

/// What a token endpoint answers.
#[derive(serde::Deserialize)]
struct TokenReply {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl Drop for TokenReply {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.access_token);
    }
}

impl Tokens {
    pub fn new(auth: Auth) -> Tokens {
        Tokens { auth, current: None, fetched: 0 }
    }

    /// The token to send: the one held unless it has expired (a minute's margin), else a new one.
    pub fn get(&mut self, client: &Client, now_unix: i64) -> Result<String, Error> {
        if let Auth::Bearer(s) = &self.auth {
            return Ok(s.expose().to_string());
        }
        if let Some((t, until)) = &self.current
            && Instant::now() < *until
        {
            return Ok(t.to_string());
        }
        let (url, body) = self.request(now_unix)?;
        let form: Vec<(&str, &str)> = body.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = client.send(&Request::Form { url: &url, form: &form })?;
        if r.status != 200 {
            // A token endpoint's error body names the problem (invalid_client) and holds no secret.
            return Err(Error::Auth { url: super::http::redact(&url), status: r.status, detail: super::snippet(&r.body) });
        }
        let reply: TokenReply = serde_json::from_slice(&r.body).map_err(|_| Error::Auth {
            url: super::http::redact(&url),
            status: r.status,
            detail: "the reply has no access_token".into(),
        })?;
        let life = Duration::from_secs(reply.expires_in.unwrap_or(3600).saturating_sub(60).max(1));
        self.fetched += 1;
        self.current = Some((zeroize::Zeroizing::new(reply.access_token.clone()), Instant::now() + life));
        Ok(reply.access_token.clone())
    }

    /// Forgets the token held (the server said 401): the next `get` fetches a new one. `false`
    /// when there is nothing to refresh (a static token).
    pub fn expire(&mut self) -> bool {
        self.current = None;
        !matches!(self.auth, Auth::Bearer(_))
    }

    /// The token endpoint and the form to post to it (a static token has none: `get` sends it).
    fn request(&self, now_unix: i64) -> Result<(String, Form), Error> {
        let z = |s: &str| zeroize::Zeroizing::new(s.to_string());
        match &self.auth {
            Auth::Bearer(_) => Err(Error::Config("a static token has no token endpoint".into())),
            Auth::ClientCredentials { token_url, client_id, secret, scope } => {
                let mut form = vec![("grant_type", z("client_credentials")), ("client_id", z(client_id)), ("client_secret", z(secret.expose()))];
                if let Some(s) = scope {
                    form.push(("scope", z(s)));
                }
                Ok((token_url.clone(), form))
            }
            Auth::ClientAssertion { token_url, client_id, key, thumbprint, scope } => {
                let assertion = client_assertion(key, thumbprint, client_id, token_url, now_unix)?;
                let mut form = vec![
                    ("grant_type", z("client_credentials")),
                    ("client_id", z(client_id)),
                    ("client_assertion_type", z("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")),
                    ("client_assertion", assertion),
                ];
                if let Some(s) = scope {
                    form.push(("scope", z(s)));
                }
                Ok((token_url.clone(), form))
            }
            Auth::ServiceAccount { token_url, email, key, scope, subject } => {
                let jwt = jwt(key, email, scope, token_url, subject.as_deref(), now_unix)?;
                Ok((token_url.clone(), vec![("grant_type", z("urn:ietf:params:oauth:grant-type:jwt-bearer")), ("assertion", jwt)]))
            }
        }
    }
}

fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The RS256 JWT a service account presents (RFC 7523 §2.1), valid for an hour.
fn jwt(key: &rsa::PrivateKey, email: &str, scope: &str, aud: &str, subject: Option<&str>, now: i64) -> Result<zeroize::Zeroizing<String>, Error> {
    use rsa::signature::{SignatureEncoding, Signer};
    let mut claims = serde_json::json!({"iss": email, "scope": scope, "aud": aud, "iat": now, "exp": now + 3600});
    if let Some(s) = subject {
        claims["sub"] = s.into();
    }
    let signing_input = format!("{}.{}", b64(br#"{"alg":"RS256","typ":"JWT"}"#), b64(claims.to_string().as_bytes()));
    let signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(key.clone());
    let sig = signer.try_sign(signing_input.as_bytes()).map_err(|_| Error::Config("the service account key cannot sign".into()))?;
    Ok(zeroize::Zeroizing::new(format!("{signing_input}.{}", b64(&sig.to_vec()))))
}

/// The client assertion of certificate credentials: PS256, the certificate's SHA-256 thumbprint
/// in `x5t#S256`, issuer and subject the client id, valid ten minutes, a fresh `jti`.
fn client_assertion(key: &rsa::PrivateKey, thumbprint: &str, client_id: &str, aud: &str, now: i64) -> Result<zeroize::Zeroizing<String>, Error> {
    use rsa::signature::{SignatureEncoding, Signer};
    let mut jti = [0u8; 16];
    getrandom::fill(&mut jti).map_err(|e| Error::Config(format!("no randomness for the assertion: {e}")))?;
    let header = serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": thumbprint});
    let claims = serde_json::json!({"aud": aud, "iss": client_id, "sub": client_id, "jti": hex::encode(jti), "iat": now, "nbf": now, "exp": now + 600});
    let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signer = rsa::pss::SigningKey::<rsa::sha2::Sha256>::new(key.clone());
    let sig = signer.try_sign(signing_input.as_bytes()).map_err(|_| Error::Config("the certificate's key cannot sign".into()))?;
    Ok(zeroize::Zeroizing::new(format!("{signing_input}.{}", b64(&sig.to_vec()))))
}
