//! Who is asking: the client's address, as the sign-in throttle counts it. Behind a reverse
//! proxy every request comes from the proxy, so the address it forwards (`X-Forwarded-For`) is
//! read — but only from a proxy the operator named in `trusted_proxies`, since anyone can send
//! the header.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// The client's address: the connection's peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one (read from the right, since each proxy
/// appends the address it saw). `None` when the peer is unknown (a test request).
pub fn address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok());
    Some(through_proxies(peer, forwarded, trusted_proxies))
}

fn through_proxies<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted_proxies: &[IpAddr],
) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address was not written by a proxy we trust: stop at the last
        // one that was.
        let Ok(hop) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = hop;
        if !trusted_proxies.contains(&hop) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn client(peer: &str, forwarded: &[&str], trusted: &[&str]) -> IpAddr {
        let trusted: Vec<IpAddr> = trusted.iter().map(|t| ip(t)).collect();
        through_proxies(ip(peer), forwarded.iter().copied(), &trusted)
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        assert_eq!(
            client("203.0.113.9", &["198.51.100.1"], &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_peer_that_is_not_trusted_cannot_name_another_address() {
        let trusted = ["10.0.0.1"];
        assert_eq!(
            client("203.0.113.9", &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_address_counts() {
        let trusted = ["10.0.0.1"];
        assert_eq!(
            client("10.0.0.1", &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_client_cannot_hide_behind_an_address_it_wrote_itself() {
        // The client sent "1.2.3.4" itself; the proxy appended the address it saw.
        let trusted = ["10.0.0.1"];
        assert_eq!(
            client("10.0.0.1", &["1.2.3.4, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn chains_of_trusted_proxies_are_walked_from_the_right() {
        let trusted = ["10.0.0.1", "10.0.0.2"];
        assert_eq!(
            client("10.0.0.1", &["198.51.100.7", "10.0.0.2"], &trusted),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_trusted_hop() {
        let trusted = ["10.0.0.1"];
        assert_eq!(client("10.0.0.1", &["not-an-ip"], &trusted), ip("10.0.0.1"));
        assert_eq!(client("10.0.0.1", &[], &trusted), ip("10.0.0.1"));
    }
}
