//! The `hosts` grant: which network endpoints a location may reach, as `scheme://host[:port]`
//! patterns in the manner of Spin's `allowed_outbound_hosts`. `https://api.example.com`
//! (port 443), `https://*.example.com` (any subdomain, not the domain itself),
//! `http://127.0.0.1:8080`, `tcp://db.internal:5432` (a TCP port must be named),
//! `*://localhost:*` (anything on localhost, for development). Scheme, host and port must
//! all match; a port left out is the scheme's default. Pure parsing and matching: the
//! network capability asks [`HostPattern::allows`] before any connection.

use std::fmt;

/// One granted pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    /// The pattern as granted, for messages and listings.
    text: String,
    scheme: Option<Scheme>,
    host: HostMatch,
    port: PortMatch,
}

/// What a pattern's scheme names; `None` in a pattern is `*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
    Tcp,
}

impl Scheme {
    /// `http`, `https`, `tcp`.
    pub fn parse(text: &str) -> Option<Scheme> {
        match text.to_ascii_lowercase().as_str() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            "tcp" => Some(Scheme::Tcp),
            _ => None,
        }
    }

    /// The port a URL of this scheme means when it names none (TCP has none).
    pub fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            Scheme::Tcp => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostMatch {
    Any,
    /// `*.example.com`: `.example.com`, matched as a suffix of a longer name.
    Subdomains(String),
    Exact(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PortMatch {
    Any,
    /// The port of the scheme in use (a pattern that named none).
    Default,
    Exact(u16),
}

/// Why a pattern is not one; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "host grant {pattern:?} is not a pattern: {reason} \
     (expected scheme://host[:port], e.g. https://api.example.com or tcp://db.internal:5432)"
)]
pub struct HostPatternError {
    pub pattern: String,
    pub reason: String,
}

impl HostPattern {
    /// Parses one granted pattern.
    pub fn parse(text: &str) -> Result<HostPattern, HostPatternError> {
        let fail = |reason: &str| HostPatternError {
            pattern: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme_text, rest) = text
            .split_once("://")
            .ok_or_else(|| fail("it has no scheme"))?;
        let scheme = match scheme_text {
            "*" => None,
            other => Some(Scheme::parse(other).ok_or_else(|| {
                fail(&format!("unknown scheme {other:?} (http, https, tcp or *)"))
            })?),
        };
        if rest.contains(['/', '?', '#', '@']) {
            return Err(fail(
                "it may name only a host and a port (no path, query or user)",
            ));
        }
        let (host_text, port_text) = split_host_port(rest).ok_or_else(|| fail("it has no host"))?;
        let host = match host_text {
            "*" => HostMatch::Any,
            h if h.starts_with("*.") && valid_name(&h[2..]) => {
                HostMatch::Subdomains(h[1..].to_ascii_lowercase())
            }
            h if valid_name(h) || is_ipv6(h) => HostMatch::Exact(h.to_ascii_lowercase()),
            _ => {
                return Err(fail(&format!(
                    "{host_text:?} is not a host name or address"
                )));
            }
        };
        let port = match port_text {
            None => PortMatch::Default,
            Some("*") => PortMatch::Any,
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 => PortMatch::Exact(port),
                _ => return Err(fail(&format!("{p:?} is not a port (1-65535 or *)"))),
            },
        };
        if scheme == Some(Scheme::Tcp) && port == PortMatch::Default {
            return Err(fail("a tcp:// grant must name its port (or :*)"));
        }
        Ok(HostPattern {
            text: text.to_owned(),
            scheme,
            host,
            port,
        })
    }

    /// Whether a connection by `scheme` to `host` on `port` is granted by this pattern.
    pub fn allows(&self, scheme: Scheme, host: &str, port: u16) -> bool {
        let port_ok = match self.port {
            PortMatch::Any => true,
            PortMatch::Default => scheme.default_port() == Some(port),
            PortMatch::Exact(p) => p == port,
        };
        port_ok && self.names(scheme, host)
    }

    /// Whether this pattern grants `host` by `scheme` on some port: a name the location
    /// may look up.
    pub fn names(&self, scheme: Scheme, host: &str) -> bool {
        let scheme_ok = self.scheme.is_none_or(|s| s == scheme);
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host_ok = match &self.host {
            HostMatch::Any => true,
            HostMatch::Subdomains(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
            HostMatch::Exact(name) => host == name.trim_start_matches('[').trim_end_matches(']'),
        };
        scheme_ok && host_ok
    }

    /// The one host name this pattern grants by `scheme`, when it names one that is not an
    /// IP address (`tcp://db.internal:5432` → `db.internal`): what a connection to an
    /// address is checked against after looking the name up.
    pub fn host_name(&self, scheme: Scheme) -> Option<&str> {
        match &self.host {
            HostMatch::Exact(name)
                if self.scheme.is_none_or(|s| s == scheme)
                    && !name.starts_with('[')
                    && name.parse::<std::net::Ipv4Addr>().is_err() =>
            {
                Some(name)
            }
            _ => None,
        }
    }
}

/// What a refused connection tells the guest and the step's log: the endpoint, the
/// location, and the grant that would let it through
/// (`127.0.0.2:9 is not granted to location etl: grant it with --grant-host tcp://127.0.0.2:9`).
pub fn refusal(location: &str, scheme: Scheme, host: &str, port: u16) -> String {
    let endpoint = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    format!(
        "{endpoint} is not granted to location {location}: grant it with --grant-host {scheme}://{endpoint}"
    )
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Tcp => "tcp",
        })
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `host` and its port, if any: `a.b:80`, `[::1]:80`, `[::1]`, `a.b`.
fn split_host_port(rest: &str) -> Option<(&str, Option<&str>)> {
    if rest.is_empty() {
        return None;
    }
    if rest.starts_with('[') {
        let end = rest.find(']')?;
        let (host, after) = rest.split_at(end + 1);
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host, Some(port))),
        Some(_) => None,
        None => Some((rest, None)),
    }
}

/// A DNS name or an IPv4 address: dot-separated labels of letters, digits and `-`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// `[::1]`: an IPv6 address in brackets.
fn is_ipv6(host: &str) -> bool {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(pattern: &str, scheme: Scheme, host: &str, port: u16) -> bool {
        HostPattern::parse(pattern)
            .unwrap()
            .allows(scheme, host, port)
    }

    #[test]
    fn scheme_host_and_port_must_all_match() {
        use Scheme::*;
        assert!(allows(
            "https://api.example.com",
            Https,
            "api.example.com",
            443
        ));
        assert!(allows(
            "https://API.example.com",
            Https,
            "api.EXAMPLE.com.",
            443
        ));
        assert!(!allows(
            "https://api.example.com",
            Http,
            "api.example.com",
            443
        ));
        assert!(!allows(
            "https://api.example.com",
            Https,
            "api.example.com",
            8443
        ));
        assert!(!allows("https://api.example.com", Https, "evil.com", 443));
        assert!(allows("http://127.0.0.1:8080", Http, "127.0.0.1", 8080));
        assert!(!allows("http://127.0.0.1:8080", Http, "127.0.0.2", 8080));
        assert!(allows("tcp://db.internal:5432", Tcp, "db.internal", 5432));
        assert!(!allows("tcp://db.internal:5432", Http, "db.internal", 5432));
        assert!(allows("http://[::1]:9000", Http, "::1", 9000));
    }

    #[test]
    fn wildcards_cover_subdomains_ports_and_schemes() {
        use Scheme::*;
        assert!(allows(
            "https://*.example.com",
            Https,
            "a.b.example.com",
            443
        ));
        assert!(!allows("https://*.example.com", Https, "example.com", 443));
        assert!(!allows(
            "https://*.example.com",
            Https,
            "badexample.com",
            443
        ));
        assert!(allows("*://localhost:*", Tcp, "localhost", 5432));
        assert!(allows("*://localhost:*", Https, "localhost", 1));
        assert!(allows("*://localhost", Http, "localhost", 80));
        assert!(
            !allows("*://localhost", Tcp, "localhost", 80),
            "tcp has no default port"
        );
        assert!(allows("http://*:*", Http, "anything.at.all", 1234));
    }

    #[test]
    fn names_to_look_up_and_refusals_name_the_grant() {
        let pattern = |text: &str| HostPattern::parse(text).unwrap();
        assert_eq!(
            pattern("tcp://db.internal:5432").host_name(Scheme::Tcp),
            Some("db.internal")
        );
        assert_eq!(
            pattern("tcp://db.internal:5432").host_name(Scheme::Http),
            None
        );
        assert_eq!(pattern("tcp://127.0.0.1:5432").host_name(Scheme::Tcp), None);
        assert_eq!(
            pattern("*://localhost:*").host_name(Scheme::Tcp),
            Some("localhost")
        );
        assert_eq!(pattern("tcp://*.internal:1").host_name(Scheme::Tcp), None);
        assert!(pattern("tcp://*.internal:1").names(Scheme::Tcp, "db.internal"));
        assert!(!pattern("https://db.internal").names(Scheme::Tcp, "db.internal"));
        assert_eq!(
            refusal("etl", Scheme::Tcp, "127.0.0.2", 9),
            "127.0.0.2:9 is not granted to location etl: grant it with --grant-host tcp://127.0.0.2:9"
        );
        assert_eq!(
            refusal("etl", Scheme::Http, "::1", 80),
            "[::1]:80 is not granted to location etl: grant it with --grant-host http://[::1]:80"
        );
        let refused = refusal("etl", Scheme::Http, "::1", 80);
        let granted = pattern(refused.rsplit(' ').next().unwrap());
        assert!(
            granted.allows(Scheme::Http, "::1", 80),
            "the named grant allows it"
        );
    }

    #[test]
    fn a_malformed_pattern_is_refused_with_the_reason() {
        for (pattern, reason) in [
            ("api.example.com", "no scheme"),
            ("ftp://x.com", "unknown scheme \"ftp\""),
            ("https://x.com/path", "no path"),
            ("https://user@x.com", "no path, query or user"),
            ("https://", "no host"),
            ("https://:443", "no host"),
            ("https://x.com:99999", "not a port"),
            ("https://x.com:0", "not a port"),
            ("https://bad_name.com", "not a host name"),
            ("https://*x.com", "not a host name"),
            ("tcp://db.internal", "must name its port"),
        ] {
            let error = HostPattern::parse(pattern).unwrap_err().to_string();
            assert!(error.contains(reason), "{pattern}: {error}");
            assert!(error.contains("expected scheme://host[:port]"), "{error}");
        }
    }
}
