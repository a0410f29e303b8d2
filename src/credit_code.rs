//! The unified social credit code (统一社会信用代码, GB 32100-2015): checking its check
//! character, finding it in what a business-licence QR scanner types, and the keyed hash
//! that stands for it everywhere past the edge.
//!
//! A code identifies an enterprise to anyone who has it, so the daemon keeps none: the
//! config's codes and a kiosk's are turned into an HMAC under a key derived from the data
//! directory's `phone-hash.key` as soon as they are read, and only the hash reaches the
//! core, the log, the answers and the logs. `CreditCode`'s `Debug` prints no digit of it.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Characters of a code: digits and capitals without I, O, S, V and Z, each worth its
/// place in this list (GB 32100-2015, table 1).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of the first 17 characters: 3^(i) mod 31.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Characters in a code.
pub const CODE_CHARS: usize = 18;
/// The longest text looked through for a code, in characters: a licence's QR code holds a
/// URL of about 100; a scanner that never stops typing is cut off here.
pub const SCAN_CHARS_MAX: usize = 512;
/// Bytes of the keyed hash kept (hex on the record): 128 bits.
const HASH_BYTES: usize = 16;

/// A code whose check character matches.
#[derive(Clone, PartialEq, Eq)]
pub struct CreditCode(String);

/// Why a text is not a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error(
        "no 18-character unified social credit code (统一社会信用代码) found; type it, or scan the licence's QR code"
    )]
    NotFound,
    #[error("the unified social credit code's check character (the 18th) does not match; check the code for a typing mistake")]
    BadCheck,
}

impl fmt::Debug for CreditCode {
    // A code identifies an enterprise: keep it out of logs and panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CreditCode(..)")
    }
}

fn value(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == b).and_then(|p| u32::try_from(p).ok())
}

/// The check character the first 17 characters call for; `None` if one is not of the
/// alphabet.
fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (b, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*b)? * w;
    }
    let c = (31 - sum % 31) % 31;
    ALPHABET.get(usize::try_from(c).ok()?).copied()
}

impl CreditCode {
    /// Checks `s` (upper or lower case, spaces around allowed) is one code.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let code = s.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != CODE_CHARS || !bytes.iter().all(|b| value(*b).is_some()) {
            return Err(CodeError::NotFound);
        }
        if check_char(&bytes[..17]) != Some(bytes[17]) {
            return Err(CodeError::BadCheck);
        }
        Ok(Self(code))
    }

    /// The code inside what a scanner typed: the text itself, or a run of exactly 18
    /// letters and digits in it (a licence's QR code is a URL with the code as a query
    /// value). The first run whose check character matches wins; a run of 18 with a wrong
    /// check, where none matches, says so.
    pub fn find(text: &str) -> Result<Self, CodeError> {
        let text: String = text.chars().take(SCAN_CHARS_MAX).collect();
        let mut found = Err(CodeError::NotFound);
        for run in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            if run.len() != CODE_CHARS {
                continue;
            }
            match Self::parse(run) {
                Ok(code) => return Ok(code),
                Err(CodeError::BadCheck) => found = Err(CodeError::BadCheck),
                Err(CodeError::NotFound) => {}
            }
        }
        found
    }

    /// The keyed hash that stands for the code: HMAC-SHA256 under a key derived from the
    /// hall's `phone-hash.key` (so it shares inputs with no other hash), 128 bits as hex.
    pub fn hash(&self, phone_key: &[u8; 32]) -> String {
        let derive = Hmac::<Sha256>::new_from_slice(phone_key).map(|mut d| {
            d.update(b"hallq credit code v1");
            d.finalize().into_bytes()
        });
        // HMAC takes a key of any length; neither call can fail.
        let Ok(key) = derive else { return String::new() };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { return String::new() };
        mac.update(self.0.as_bytes());
        mac.finalize().into_bytes().iter().take(HASH_BYTES).map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up code with its right check character.
    fn valid(first17: &str) -> String {
        let c = check_char(first17.as_bytes()).expect("alphabet");
        format!("{first17}{}", char::from(c))
    }

    #[test]
    fn published_codes_pass_and_a_changed_character_fails() {
        // Codes printed on real licences and in the standard's examples.
        for code in ["91350100M000100Y43", "91110108551385082Q", "911100001000079554"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
        assert_eq!(CreditCode::parse("91350100M000100Y44"), Err(CodeError::BadCheck));
        assert_eq!(CreditCode::parse("91350100M000100Y4"), Err(CodeError::NotFound));
        // I, O, S, V and Z are not in the alphabet.
        assert_eq!(CreditCode::parse("91350100M000100YO3"), Err(CodeError::NotFound));
        assert_eq!(CreditCode::parse(&valid("91510100MA6CABCD1")).map(|c| c.0.len()), Ok(18));
    }

    #[test]
    fn a_code_is_found_in_a_licence_url_and_lower_case() {
        let url = "http://www.gsxt.gov.cn/index.html?uniscid=91350100M000100Y43&entname=x";
        assert!(CreditCode::find(url).is_ok());
        assert!(CreditCode::find(" 91350100m000100y43\n").is_ok());
        assert_eq!(CreditCode::find("uniscid=91350100M000100Y44"), Err(CodeError::BadCheck));
        assert_eq!(CreditCode::find("13800138000"), Err(CodeError::NotFound));
    }

    #[test]
    fn the_hash_depends_on_key_and_code_and_shows_no_code() {
        let a = CreditCode::parse("91350100M000100Y43").unwrap();
        let b = CreditCode::parse("91110108551385082Q").unwrap();
        let h = a.hash(&[1; 32]);
        assert_eq!(h.len(), 32);
        assert_eq!(h, a.hash(&[1; 32]));
        assert_ne!(h, a.hash(&[2; 32]));
        assert_ne!(h, b.hash(&[1; 32]));
        assert!(!format!("{a:?}").contains("9135"));
    }
}
