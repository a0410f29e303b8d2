//! A kiosk's ticket printer (`[[kiosk]] printer = "host:9100"` and its knobs): a network
//! thermal printer speaking ESC/POS over raw TCP. Only read and checked here; the daemon's
//! `printer` module talks to it. The address is not resolved here, so that `hallq check`
//! runs anywhere.

use super::tree::Tab;
use super::Errs;

/// The raw-TCP port of network ticket printers (the "JetDirect" port 9100).
pub const DEFAULT_PRINTER_PORT: u16 = 9100;
/// How long one connection, status answer or write may take before the printer counts as
/// offline, in milliseconds: long enough for a busy hall network, short enough that a dead
/// printer is reported while the visitor is still at the kiosk.
pub const DEFAULT_PRINTER_TIMEOUT_MS: u64 = 3_000;
const PRINTER_TIMEOUT_MS_MIN: i64 = 100;
const PRINTER_TIMEOUT_MS_MAX: i64 = 60_000;
/// Characters per line in the printer's normal font: 42 fits 80 mm paper (the usual
/// kiosk roll); 32 is 58 mm paper, 48 an 80 mm printer with the full 576-dot line.
pub const DEFAULT_PRINTER_WIDTH: u16 = 42;
const PRINTER_WIDTH_MIN: i64 = 24;
const PRINTER_WIDTH_MAX: i64 = 64;
/// Seconds between status checks while no ticket is printed, so that an empty roll shows
/// on the supervisor's page before the next visitor finds it; 0 turns the check off.
pub const DEFAULT_PRINTER_PROBE_S: u64 = 30;
const PRINTER_PROBE_S_MAX: i64 = 3_600;
/// Longest printer host name, in characters (a DNS name is at most 253).
const PRINTER_HOST_CHARS_MAX: usize = 253;

/// Where a kiosk's printer is and how to talk to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterDef {
    /// Host name or IP address, without brackets for IPv6.
    pub host: String,
    pub port: u16,
    pub timeout_ms: u64,
    /// Characters per line in the normal font.
    pub width_chars: u16,
    /// Seconds between idle status checks; 0 for none.
    pub probe_s: u64,
}

impl PrinterDef {
    /// `host:port` as written for a connection (IPv6 in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Splits `host[:port]` (`[v6]:port` for IPv6); `None` when it is not one.
pub fn parse_address(text: &str) -> Option<(String, u16)> {
    let text = text.trim();
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match text.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|&p| p > 0)?,
        None => DEFAULT_PRINTER_PORT,
    };
    let host_ok = !host.is_empty()
        && host.chars().count() <= PRINTER_HOST_CHARS_MAX
        && (host.parse::<std::net::IpAddr>().is_ok()
            || host.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }));
    host_ok.then(|| (host.to_string(), port))
}

/// Reads a `[[kiosk]]`'s `printer`, `printer_timeout_ms`, `printer_width` and
/// `printer_probe_s`. The knobs without `printer` are an error: they would do nothing, and
/// a hall that wrote them meant a printer to be there. So is a printer on a remote kiosk,
/// which has no paper.
pub(super) fn read(t: &mut Tab<'_>, remote: bool, errs: &mut Errs) -> Option<PrinterDef> {
    let addr = t.str("printer", errs);
    let mut knobs = Vec::new();
    let mut int = |key: &'static str, min: i64, max: i64, errs: &mut Errs| match t.int(key, errs) {
        Some(f) if (min..=max).contains(&f.value) => {
            knobs.push(f.loc.clone());
            Some(f.value.unsigned_abs())
        }
        Some(f) => {
            errs.push(f.loc.err(format!("{key} is {}; use a value from {min} to {max}", f.value)));
            knobs.push(f.loc);
            None
        }
        None => None,
    };
    let timeout_ms = int("printer_timeout_ms", PRINTER_TIMEOUT_MS_MIN, PRINTER_TIMEOUT_MS_MAX, errs);
    let width = int("printer_width", PRINTER_WIDTH_MIN, PRINTER_WIDTH_MAX, errs);
    let probe_s = int("printer_probe_s", 0, PRINTER_PROBE_S_MAX, errs);
    let Some(addr) = addr else {
        if let Some(loc) = knobs.first() {
            errs.push(loc.err(
                "a printer setting without a printer; add `printer = \"host:9100\"` to this kiosk or remove the setting",
            ));
        }
        return None;
    };
    if remote {
        errs.push(addr.loc.err("a remote kiosk (kind = \"remote\") has no paper; remove its printer"));
        return None;
    }
    let Some((host, port)) = parse_address(&addr.value) else {
        errs.push(addr.loc.err(format!(
            "bad printer address {:?}; write HOST:PORT such as \"192.168.1.50:9100\" (the port defaults to 9100)",
            addr.value
        )));
        return None;
    };
    Some(PrinterDef {
        host,
        port,
        timeout_ms: timeout_ms.unwrap_or(DEFAULT_PRINTER_TIMEOUT_MS),
        width_chars: width.and_then(|w| u16::try_from(w).ok()).unwrap_or(DEFAULT_PRINTER_WIDTH),
        probe_s: probe_s.unwrap_or(DEFAULT_PRINTER_PROBE_S),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_and_without_a_port() {
        assert_eq!(parse_address("192.168.1.50:9100"), Some(("192.168.1.50".into(), 9100)));
        assert_eq!(parse_address("printer-3.hall.lan"), Some(("printer-3.hall.lan".into(), 9100)));
        assert_eq!(parse_address("[fe80::1]:9101"), Some(("fe80::1".into(), 9101)));
        assert_eq!(parse_address("[fe80::1]"), Some(("fe80::1".into(), 9100)));
        for bad in ["", ":9100", "host:0", "host:99999", "host:x", "a b:9100", "[nope]:1", "-x:1", "a..b", "h:1:2"] {
            assert_eq!(parse_address(bad), None, "{bad:?} must be refused");
        }
    }
}
