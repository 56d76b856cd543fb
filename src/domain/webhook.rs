//! Webhooks: which touches an endpoint may ask for, which URLs and addresses it may have, how a
//! delivery is signed (Standard Webhooks) and how long a failed one waits before the next try.

use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Invalid;

/// The touches a webhook can carry; the body's `type` is `ticket.<kind>`.
pub const KINDS: [&str; 11] = [
    "issued",
    "email_sent",
    "email_failed",
    "link_opened",
    "scanned",
    "exchanged",
    "transferred",
    "credited",
    "canceled",
    // Marketing consent, changed from a ticket's links (`consent_changes`).
    "unsubscribed",
    "resubscribed",
];

/// The kinds an endpoint wants, parsed: known, none twice, at least one. Stored as
/// `",issued,scanned,"` so that a database trigger can test one with a substring match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kinds(Vec<&'static str>);

impl Kinds {
    pub fn parse(wanted: &[String]) -> Result<Kinds, Invalid> {
        if wanted.is_empty() {
            return Err(Invalid::new("kinds", "name at least one kind of touch"));
        }
        let mut kinds: Vec<&'static str> = Vec::new();
        for kind in wanted {
            let known = KINDS.iter().find(|k| **k == kind.as_str()).ok_or_else(|| {
                Invalid::new(
                    "kinds",
                    format!("unknown kind {kind:?}; known: {}", KINDS.join(", ")),
                )
            })?;
            if !kinds.contains(known) {
                kinds.push(known);
            }
        }
        kinds.sort_by_key(|k| KINDS.iter().position(|known| known == k));
        Ok(Kinds(kinds))
    }

    pub fn stored(&self) -> String {
        format!(",{},", self.0.join(","))
    }

    /// The stored form back; a kind this build does not know is dropped.
    pub fn from_stored(stored: &str) -> Kinds {
        Kinds(
            stored
                .split(',')
                .filter_map(|k| KINDS.iter().find(|known| **known == k).copied())
                .collect(),
        )
    }

    pub fn names(&self) -> &[&'static str] {
        &self.0
    }
}

/// Where webhooks may go, as the operator configured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reach {
    /// Plain `http://` URLs (else HTTPS only).
    pub allow_http: bool,
    /// Loopback, private, link-local and other non-public addresses (else public ones only).
    pub allow_private: bool,
}

/// An endpoint URL that passed the rules that need no name lookup: HTTPS (or HTTP when allowed),
/// a host, no user or password, at most 2,000 characters; an address written in it must be one
/// Encore may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(url::Url);

impl EndpointUrl {
    pub fn parse(text: &str, reach: Reach) -> Result<EndpointUrl, Invalid> {
        let bad = |reason: String| Invalid::new("url", reason);
        if text.len() > 2000 {
            return Err(bad("is longer than 2,000 characters".into()));
        }
        let url = url::Url::parse(text.trim()).map_err(|e| bad(format!("not a URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if reach.allow_http => {}
            "http" => {
                return Err(bad(
                    "must be https:// (plain http:// is not enabled on this server: \
                     webhook_allow_http)"
                        .into(),
                ))
            }
            other => return Err(bad(format!("must be https://, not {other}://"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry a user name or password".into()));
        }
        match url.host() {
            None => return Err(bad("has no host".into())),
            Some(url::Host::Ipv4(ip)) => check_address(IpAddr::V4(ip), reach)?,
            Some(url::Host::Ipv6(ip)) => check_address(IpAddr::V6(ip), reach)?,
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if !reach.allow_private && (name == "localhost" || name.ends_with(".localhost")) {
                    return Err(bad(format!(
                        "{name} is this machine: loopback addresses are not allowed \
                         (webhook_allow_private_addresses)"
                    )));
                }
            }
        }
        Ok(EndpointUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host name to look up, when the URL names one rather than an address.
    pub fn domain(&self) -> Option<&str> {
        self.0.domain()
    }

    pub fn port(&self) -> u16 {
        self.0.port_or_known_default().unwrap_or(443)
    }
}

/// Refuses an address Encore may not deliver to: loopback, private (RFC 1918, unique local),
/// link-local, shared (100.64/10), unspecified, broadcast, multicast, documentation ranges;
/// an IPv4 address mapped into IPv6 counts as the IPv4 one.
pub fn check_address(ip: IpAddr, reach: Reach) -> Result<(), Invalid> {
    if reach.allow_private {
        return Ok(());
    }
    match non_public(ip) {
        None => Ok(()),
        Some(what) => Err(Invalid::new(
            "url",
            format!(
                "{ip} is a {what} address: webhooks go to public addresses only \
                 (webhook_allow_private_addresses)"
            ),
        )),
    }
}

fn non_public(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_broadcast() || v4.is_multicast() || a >= 240 {
                Some("broadcast, multicast or reserved")
            } else if v4.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
                Some("documentation or benchmarking")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if first == 0x2001 && v6.segments()[1] == 0x0db8 {
                Some("documentation")
            } else {
                None
            }
        }
    }
}

/// A new endpoint secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret(random: [u8; 32]) -> String {
    format!("whsec_{}", STANDARD.encode(random))
}

/// The `webhook-signature` header's value for a message: `v1,` and the base64 HMAC-SHA256, keyed
/// with the secret's bytes (the base64 after `whsec_`), of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, Invalid> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| Invalid::new("secret", "is not whsec_ and base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| Invalid::new("secret", "cannot key an HMAC"))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The wait before attempt `attempts + 1` after `attempts` failed ones: `base` doubling each
/// time, at most `max`.
pub fn backoff(attempts: i32, base: Duration, max: Duration) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    base.saturating_mul(1u32 << doublings).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: Reach = Reach {
        allow_http: false,
        allow_private: false,
    };

    #[test]
    fn kinds_are_known_and_stored_for_a_substring_match() {
        let kinds = Kinds::parse(&["scanned".into(), "issued".into(), "scanned".into()]).unwrap();
        assert_eq!(kinds.stored(), ",issued,scanned,");
        assert_eq!(Kinds::from_stored(&kinds.stored()), kinds);
        assert!(Kinds::parse(&["scan".into()]).is_err());
        assert!(Kinds::parse(&[]).is_err());
    }

    #[test]
    fn urls_are_https_to_public_addresses_unless_configured() {
        assert!(EndpointUrl::parse("https://crm.example.org/hooks", PUBLIC).is_ok());
        for refused in [
            "http://crm.example.org/hooks",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[fd00::1]/",
            "https://localhost:8080/",
            "https://user:pw@crm.example.org/",
            "ftp://crm.example.org/",
            "not a url",
        ] {
            assert!(EndpointUrl::parse(refused, PUBLIC).is_err(), "{refused}");
        }
        let open = Reach {
            allow_http: true,
            allow_private: true,
        };
        assert!(EndpointUrl::parse("http://127.0.0.1:9000/hooks", open).is_ok());
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert!(check_address(ip.parse().unwrap(), PUBLIC).is_ok(), "{ip}");
        }
        for ip in [
            "100.64.0.1",
            "0.0.0.0",
            "172.16.5.4",
            "fe80::1",
            "224.0.0.1",
        ] {
            assert!(check_address(ip.parse().unwrap(), PUBLIC).is_err(), "{ip}");
        }
    }

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(secret, id, 1614265330, body).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(60));
        assert_eq!(backoff(1, base, max), Duration::from_secs(5));
        assert_eq!(backoff(2, base, max), Duration::from_secs(10));
        assert_eq!(backoff(4, base, max), Duration::from_secs(40));
        assert_eq!(backoff(5, base, max), max);
        assert_eq!(backoff(1000, base, max), max);
    }
}
