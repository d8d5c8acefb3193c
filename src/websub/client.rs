//! The hub's HTTP client to subscribers' callbacks: the verification of intent (a GET with a
//! challenge) and deliveries (a POST of the feed). No redirects, no proxies, 10 s a request,
//! at most 64 KiB of any answer read, and with `websub.callbacks = "public"` only public
//! addresses connected to ([`super::address`]).

use std::time::Duration;

use actix_web::http::header::HeaderValue;
use actix_web::web::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::{Host, Url};

use super::address::{PublicOnly, is_public, refused_host};
use super::form::Mode;

/// The longest a verification or a delivery may take.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a callback's answer that is read.
pub const MAX_ANSWER: usize = 64 * 1024;

/// How a delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A 2xx.
    Delivered,
    /// A 410: the subscription ends.
    Gone,
    /// Anything else, or no answer: retried later.
    Failed(String),
}

/// What a verification asks the callback to confirm.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    pub mode: Mode,
    pub topic: &'a str,
    pub challenge: &'a str,
    /// The lease granted (subscriptions only).
    pub lease_seconds: Option<u64>,
}

/// What a delivery sends besides the body.
#[derive(Debug, Clone)]
pub struct Push {
    pub body: Bytes,
    pub content_type: &'static str,
    pub link: Option<HeaderValue>,
}

/// The client of the callbacks.
#[derive(Debug, Clone)]
pub struct CallbackClient {
    client: reqwest::Client,
    /// `websub.callbacks = "public"`.
    public_only: bool,
}

impl CallbackClient {
    pub fn new(public_only: bool) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!(
                "paperboy/",
                env!("CARGO_PKG_VERSION"),
                " (WebSub hub)"
            ))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CALLBACK_TIMEOUT)
            .timeout(CALLBACK_TIMEOUT)
            .pool_max_idle_per_host(1);
        if public_only {
            builder = builder.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        Ok(Self {
            client: builder.build()?,
            public_only,
        })
    }

    /// Asks the callback to confirm `intent`: a 2xx whose body is exactly the challenge.
    pub async fn verify(&self, callback: &Url, intent: &Intent<'_>) -> Result<(), String> {
        self.check_literal(callback)?;
        let mut url = callback.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("hub.mode", intent.mode.name())
                .append_pair("hub.topic", intent.topic)
                .append_pair("hub.challenge", intent.challenge);
            if let Some(lease) = intent.lease_seconds {
                query.append_pair("hub.lease_seconds", &lease.to_string());
            }
        }
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        self.check_connected(&response)?;
        let status = response.status();
        let body = read_bounded(response).await?;
        if !status.is_success() {
            return Err(format!("the callback answered {status}"));
        }
        if body != intent.challenge.as_bytes() {
            return Err("the callback's answer is not the challenge".to_owned());
        }
        Ok(())
    }

    /// POSTs `push` to `callback`, signed with `secret` when there is one.
    pub async fn deliver(&self, callback: &Url, push: &Push, secret: Option<&str>) -> Delivery {
        if let Err(e) = self.check_literal(callback) {
            return Delivery::Failed(e);
        }
        let mut request = self
            .client
            .post(callback.clone())
            .header(reqwest::header::CONTENT_TYPE, push.content_type)
            .body(push.body.clone());
        if let Some(link) = &push.link {
            request = request.header(reqwest::header::LINK, link.as_bytes());
        }
        if let Some(secret) = secret {
            request = request.header("X-Hub-Signature", signature(secret, &push.body));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Delivery::Failed(describe(&e)),
        };
        if let Err(e) = self.check_connected(&response) {
            return Delivery::Failed(e);
        }
        let status = response.status();
        // Read (bounded) so the connection can be reused; what it says does not matter.
        let _ = read_bounded(response).await;
        match status.as_u16() {
            200..=299 => Delivery::Delivered,
            410 => Delivery::Gone,
            _ => Delivery::Failed(format!("the callback answered {status}")),
        }
    }

    /// Under `"public"`, a callback whose host is a non-public IP literal (the resolver,
    /// which judges names, is not asked for literals).
    fn check_literal(&self, callback: &Url) -> Result<(), String> {
        if !self.public_only {
            return Ok(());
        }
        let ip = match callback.host() {
            Some(Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
            _ => return Ok(()),
        };
        if is_public(ip) {
            Ok(())
        } else {
            Err(refused_host(callback.host_str().unwrap_or_default()))
        }
    }

    /// Under `"public"`, the address actually connected to, checked once more.
    fn check_connected(&self, response: &reqwest::Response) -> Result<(), String> {
        match response.remote_addr() {
            Some(addr) if self.public_only && !is_public(addr.ip()) => Err(format!(
                "the callback was reached at the non-public address {}",
                addr.ip()
            )),
            _ => Ok(()),
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`: the `X-Hub-Signature` of a delivery.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// At most [`MAX_ANSWER`] bytes of the answer; more is an error.
async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(format!(
                "the callback's answer is longer than {} KiB",
                MAX_ANSWER / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What went wrong with a request, without the URL (logged separately, once).
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "no answer within 10 s"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_redirect() {
        "a redirect (not followed)"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut cause = String::new();
    while let Some(e) = source {
        cause = e.to_string();
        source = e.source();
    }
    if cause.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
