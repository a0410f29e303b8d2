//! Reading `[hall] public_url`: the address visitors' phones reach the hall by, for the
//! QR codes and status links a visitor gets. Without it those addresses use the Host a
//! kiosk reached the daemon by, which a phone may not reach (127.0.0.1, a back-room IP).

use super::tree::Tab;
use super::Errs;

/// Longest public address, in characters: a QR code on an 80 mm ticket stays scannable
/// with well under this.
const PUBLIC_URL_CHARS_MAX: usize = 200;

const EXAMPLE: &str = "\"https://hall.example.gov.cn\"";

/// A checked public address: `http` or `https`, a host, perhaps a port and a path, no
/// user, query or fragment; kept without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Checks `text`; the error says what is wrong and what to write instead.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.chars().count() > PUBLIC_URL_CHARS_MAX {
            return Err(format!("public_url is longer than {PUBLIC_URL_CHARS_MAX} characters; shorten it"));
        }
        if text.trim() != text || text.is_empty() {
            return Err(format!("public_url {text:?} is empty or has spaces around it; write one such as {EXAMPLE}"));
        }
        let url = url::Url::parse(text)
            .map_err(|e| format!("public_url {text:?} is not an address ({e}); write one such as {EXAMPLE}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("public_url {text:?} is not http or https; write one such as {EXAMPLE}"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("public_url {text:?} names no host; write one such as {EXAMPLE}"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("public_url {text:?} holds a user name or password; leave them out of a QR code"));
        }
        if url.query().is_some() || url.fragment().is_some() || text.contains(['?', '#']) {
            return Err(format!(
                "public_url {text:?} has a query or fragment; give only scheme, host, port and path, e.g. {EXAMPLE}"
            ));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_string()))
    }

    /// The address, without a trailing slash, e.g. `https://hall.example.gov.cn`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `public_url` from the `[hall]` table, if set and good.
pub(super) fn read(hall: &mut Tab<'_>, errs: &mut Errs) -> Option<PublicUrl> {
    let f = hall.str("public_url", errs)?;
    match PublicUrl::parse(&f.value) {
        Ok(url) => Some(url),
        Err(message) => {
            errs.push(f.loc.err(message));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses_are_kept_without_a_trailing_slash() {
        for (text, kept) in [
            ("https://hall.example.gov.cn", "https://hall.example.gov.cn"),
            ("https://hall.example.gov.cn/", "https://hall.example.gov.cn"),
            ("http://10.1.2.3:8080/hallq/", "http://10.1.2.3:8080/hallq"),
            ("http://[2001:db8::1]:8080", "http://[2001:db8::1]:8080"),
        ] {
            assert_eq!(PublicUrl::parse(text).map(|u| u.as_str().to_string()), Ok(kept.to_string()), "{text}");
        }
    }

    #[test]
    fn bad_addresses_say_why() {
        for (text, says) in [
            ("ftp://hall.example.gov.cn", "not http or https"),
            ("hall.example.gov.cn", "not an address"),
            ("https://", "not an address"),
            ("https://hall.example.gov.cn/?x=1", "query or fragment"),
            ("https://hall.example.gov.cn/#top", "query or fragment"),
            ("https://hall.example.gov.cn?", "query or fragment"),
            ("https://admin:pw@hall.example.gov.cn", "user name or password"),
            (" https://hall.example.gov.cn", "spaces"),
            ("", "empty"),
        ] {
            let err = PublicUrl::parse(text).expect_err(text);
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }
}
