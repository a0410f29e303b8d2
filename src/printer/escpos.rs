//! ESC/POS, the command language of thermal receipt printers: a byte builder for what a
//! ticket needs (text in the printer's Chinese mode, sizes, alignment, the printer's own QR
//! code, feed and cut) and the meaning of its real-time status bytes (`DLE EOT n`).
//!
//! Pure: no I/O, no clock. Text is encoded as GB18030, which Chinese printers expect once
//! `FS &` has put them in Chinese mode, and control characters never reach the printer as
//! such, so no text can smuggle a command in.

use std::borrow::Cow;

pub const LF: u8 = 0x0A;
pub const ESC: u8 = 0x1B;
pub const FS: u8 = 0x1C;
pub const GS: u8 = 0x1D;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;

/// Longest QR payload sent, in bytes: a ticket's status address is under 100; model 2 at
/// level M holds about 2,300, and a printer's buffer is the tighter limit.
pub const QR_DATA_BYTES_MAX: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left = 0,
    Center = 1,
    Right = 2,
}

/// A print job being built.
pub struct Escpos {
    buf: Vec<u8>,
}

impl Default for Escpos {
    fn default() -> Self {
        Self::new()
    }
}

impl Escpos {
    /// A job that starts from the printer's defaults (`ESC @`) in Chinese mode (`FS &`).
    pub fn new() -> Self {
        Self { buf: vec![ESC, b'@', FS, b'&'] }
    }

    pub fn align(&mut self, a: Align) -> &mut Self {
        self.buf.extend_from_slice(&[ESC, b'a', a as u8]);
        self
    }

    /// Character size (`GS !`): `w` times as wide and `h` times as high, each 1 to 8. Some
    /// Chinese printers size their Chinese characters only by `FS !` (at most double), so
    /// that is sent too.
    pub fn size(&mut self, w: u8, h: u8) -> &mut Self {
        let (w, h) = (w.clamp(1, 8) - 1, h.clamp(1, 8) - 1);
        let chinese = if w > 0 { 0x04 } else { 0 } | if h > 0 { 0x08 } else { 0 };
        self.buf.extend_from_slice(&[GS, b'!', (w << 4) | h, FS, b'!', chinese]);
        self
    }

    /// Emphasis (`ESC E`).
    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.buf.extend_from_slice(&[ESC, b'E', u8::from(on)]);
        self
    }

    /// One line of text, then a line feed.
    pub fn line(&mut self, text: &str) -> &mut Self {
        self.buf.extend_from_slice(&encode(text));
        self.buf.push(LF);
        self
    }

    /// Feeds `lines` blank lines (`ESC d n`).
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.buf.extend_from_slice(&[ESC, b'd', lines]);
        self
    }

    /// A QR code of `data` by the printer's own command (`GS ( k`): model 2, modules of
    /// `module` dots (1 to 16), error correction M, store, print. Data past
    /// [`QR_DATA_BYTES_MAX`] prints no code at all rather than a cut one.
    pub fn qr(&mut self, data: &[u8], module: u8) -> &mut Self {
        if data.is_empty() || data.len() > QR_DATA_BYTES_MAX {
            return self;
        }
        let mut k = |body: &[u8]| {
            let len = u16::try_from(body.len()).unwrap_or(u16::MAX).to_le_bytes();
            self.buf.extend_from_slice(&[GS, b'(', b'k', len[0], len[1]]);
            self.buf.extend_from_slice(body);
        };
        k(&[b'1', b'A', b'2', 0]); // fn 165: model 2
        k(&[b'1', b'C', module.clamp(1, 16)]); // fn 167: module size
        k(b"1E1"); // fn 169: error correction M (15 %)
        let mut store = vec![b'1', b'P', b'0'];
        store.extend_from_slice(data);
        k(&store); // fn 180: store the data
        k(b"1Q0"); // fn 181: print it
        self
    }

    /// Feeds `lines` and cuts, leaving a hinge (`GS V 66 n`: feed, then partial cut), so
    /// the ticket hangs from the slot instead of falling to the floor.
    pub fn cut(&mut self, lines: u8) -> &mut Self {
        self.buf.extend_from_slice(&[GS, b'V', 66, lines]);
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// `text` as GB18030 bytes, with control characters (which would be commands) printed as
/// spaces.
pub fn encode(text: &str) -> Vec<u8> {
    let clean: Cow<'_, str> = if text.chars().any(char::is_control) {
        Cow::Owned(text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect())
    } else {
        Cow::Borrowed(text)
    };
    // GB18030 covers all of Unicode, so nothing is ever replaced.
    let (bytes, _, _) = encoding_rs::GB18030.encode(&clean);
    bytes.into_owned()
}

/// Columns `text` takes in the normal font: one for ASCII, two for anything else (a
/// Chinese character is a full-width glyph in Chinese mode).
pub fn columns(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Breaks `text` into lines of at most `width` columns (at least one character each).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut line, mut used) = (String::new(), 0usize);
    for c in text.chars() {
        let w = if c.is_ascii() { 1 } else { 2 };
        if used + w > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        line.push(c);
        used += w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The real-time status request `DLE EOT n`: 1 printer, 2 offline cause, 4 paper sensor.
pub fn status_request(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}

/// Whether `b` is a status byte at all: bits 0, 1, 4 and 7 are fixed at 0, 1, 1, 0.
pub fn is_status(b: u8) -> bool {
    b & 0x93 == 0x12
}

/// `DLE EOT 1`: the printer is offline.
pub fn is_offline(b: u8) -> bool {
    b & 0x08 != 0
}

/// `DLE EOT 2`: why the printer is offline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfflineCause {
    pub cover_open: bool,
    /// Printing stopped because the paper ran out.
    pub paper_end: bool,
    pub error: bool,
}

pub fn offline_cause(b: u8) -> OfflineCause {
    OfflineCause { cover_open: b & 0x04 != 0, paper_end: b & 0x20 != 0, error: b & 0x40 != 0 }
}

/// `DLE EOT 4`: the roll-paper sensors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paper {
    Ok,
    /// The near-end sensor sees the roll's last metres.
    Low,
    Out,
}

pub fn paper(b: u8) -> Paper {
    if b & 0x60 != 0 {
        Paper::Out
    } else if b & 0x0C != 0 {
        Paper::Low
    } else {
        Paper::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_job_starts_in_chinese_mode_and_ends_with_a_cut() {
        let mut p = Escpos::new();
        p.align(Align::Center).size(4, 4).line("A012").cut(3);
        let b = p.into_bytes();
        assert_eq!(&b[..4], &[ESC, b'@', FS, b'&']);
        assert!(b.windows(6).any(|w| w == [GS, b'!', 0x33, FS, b'!', 0x0C]), "quad size: GS ! 0x33, FS ! double");
        assert!(b.ends_with(&[b'A', b'0', b'1', b'2', LF, GS, b'V', 66, 3]));
    }

    #[test]
    fn chinese_text_is_gb18030() {
        // 号 is 0xBA 0xC5 in GB2312, which GB18030 contains.
        assert_eq!(encode("号"), vec![0xBA, 0xC5]);
        let bytes = encode("青川区政务服务中心 A012");
        let (back, _, bad) = encoding_rs::GB18030.decode(&bytes);
        assert!(!bad);
        assert_eq!(back, "青川区政务服务中心 A012");
        // Outside the BMP: a four-byte sequence, still round-trips.
        let bytes = encode("𠀀");
        let (back, _, _) = encoding_rs::GB18030.decode(&bytes);
        assert_eq!(back, "𠀀");
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(encode("a\x1b@b\nc\x10\x04\x01"), b"a @b c   ".to_vec());
    }

    #[test]
    fn the_qr_command_carries_its_length_and_data() {
        let mut p = Escpos::new();
        p.qr(b"http://h/t/1", 6);
        let b = p.into_bytes();
        let store = [GS, b'(', b'k', 15, 0, b'1', b'P', b'0'];
        let at = b.windows(store.len()).position(|w| w == store).expect("a store command");
        assert_eq!(&b[at + store.len()..at + store.len() + 12], b"http://h/t/1");
        assert!(b.ends_with(&[GS, b'(', b'k', 3, 0, b'1', b'Q', b'0']));
        let mut none = Escpos::new();
        none.qr(&[b'x'; QR_DATA_BYTES_MAX + 1], 6);
        assert_eq!(none.into_bytes().len(), 4, "too long a payload prints no code");
    }

    #[test]
    fn status_bytes_read_as_the_manual_says() {
        assert!(is_status(0x12) && !is_status(0x00) && !is_status(0xFF));
        assert!(!is_offline(0x12) && is_offline(0x1A));
        assert_eq!(offline_cause(0x16), OfflineCause { cover_open: true, paper_end: false, error: false });
        assert!(offline_cause(0x32).paper_end);
        assert_eq!(paper(0x12), Paper::Ok);
        assert_eq!(paper(0x1E), Paper::Low);
        assert_eq!(paper(0x72), Paper::Out);
        assert_eq!(paper(0x7E), Paper::Out);
    }

    #[test]
    fn wrapping_counts_chinese_as_two_columns() {
        assert_eq!(wrap("身份证原件及复印件", 8), vec!["身份证原", "件及复印", "件"]);
        assert_eq!(wrap("abc", 2), vec!["ab", "c"]);
        assert_eq!(wrap("中", 1), vec!["中"], "a character wider than the line still prints");
        assert!(wrap("", 10).is_empty());
    }

    proptest! {
        #[test]
        fn any_text_encodes_and_round_trips_without_control_bytes(text in "\\PC{0,60}|[\\x00-\\x7f]{0,60}") {
            let bytes = encode(&text);
            prop_assert!(!bytes.iter().any(|&b| b < 0x20 || b == 0x7f), "a control byte in {bytes:?}");
            let (back, _, bad) = encoding_rs::GB18030.decode(&bytes);
            prop_assert!(!bad);
            let expected: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            prop_assert_eq!(back.as_ref(), expected.as_str());
        }

        #[test]
        fn wrapped_lines_fit_and_lose_nothing(text in "[a-z 中文号]{0,80}", width in 2usize..50) {
            let lines = wrap(&text, width);
            prop_assert!(lines.iter().all(|l| columns(l) <= width));
            prop_assert_eq!(lines.concat(), text);
        }
    }
}
