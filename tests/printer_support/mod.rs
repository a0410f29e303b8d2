//! A fake ticket printer for the printer tests: a real TCP listener on loopback that reads
//! what the daemon sends, answers its real-time status requests (`DLE EOT n`) with the
//! bytes the test sets, and decodes each job back into lines of GB18030 text, the QR
//! payload of `GS ( k` and the cut. It parses ESC/POS itself, command by command, so an
//! unknown command or a broken one shows up as such instead of as text.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Status bytes of a ready printer: `DLE EOT 1`, `2` and `4` all say "nothing wrong".
pub const READY: Answers = Answers { printer: 0x12, cause: 0x12, paper: 0x12, silent: false };
/// Out of paper: offline (bit 3), because the paper ended (bit 5), paper sensor at end.
pub const PAPER_OUT: Answers = Answers { printer: 0x1A, cause: 0x32, paper: 0x72, silent: false };
/// The roll's near-end sensor is on; it still prints.
pub const PAPER_LOW: Answers = Answers { printer: 0x12, cause: 0x12, paper: 0x1E, silent: false };
/// Offline because the cover is open.
pub const COVER_OPEN: Answers = Answers { printer: 0x1A, cause: 0x16, paper: 0x12, silent: false };
/// A printer whose network card passes no status back.
pub const SILENT: Answers = Answers { printer: 0, cause: 0, paper: 0, silent: true };

#[derive(Clone, Copy, Debug)]
pub struct Answers {
    pub printer: u8,
    pub cause: u8,
    pub paper: u8,
    pub silent: bool,
}

/// One command or run of text in the byte stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cmd {
    Init,
    ChineseOn,
    ChineseOff,
    /// `FS !`: the size of Chinese characters.
    ChineseSize(u8),
    Align(u8),
    Bold(u8),
    Size(u8),
    Feed(u8),
    Cut(u8, Option<u8>),
    /// `GS ( k` with cn = 49: function and its parameters.
    Qr(u8, Vec<u8>),
    Status(u8),
    LineFeed,
    Text(u8),
    Unknown(u8),
}

/// A line as printed: its text and the size, alignment and emphasis it began with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub size: u8,
    pub align: u8,
    pub bold: bool,
}

/// One connection's job, decoded.
#[derive(Clone, Debug, Default)]
pub struct Job {
    pub cmds: Vec<Cmd>,
    pub lines: Vec<Line>,
    /// The data stored by `GS ( k` fn 80 and whether fn 81 printed it.
    pub qr: Option<Vec<u8>>,
    pub qr_printed: bool,
    pub qr_model: Option<u8>,
    pub qr_module: Option<u8>,
    pub qr_ec: Option<u8>,
    pub cut: bool,
    /// Status requests made, in order.
    pub statuses: Vec<u8>,
    /// Text bytes that were not valid GB18030.
    pub bad_text: bool,
    /// Bytes left when the connection ended: a command cut off.
    pub leftover: Vec<u8>,
}

impl Job {
    /// Whether anything but status requests was sent.
    pub fn is_print(&self) -> bool {
        self.cmds.iter().any(|c| !matches!(c, Cmd::Status(_)))
    }

    pub fn text(&self) -> String {
        self.lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")
    }

    /// The first line containing `needle`.
    pub fn line(&self, needle: &str) -> &Line {
        self.lines
            .iter()
            .find(|l| l.text.contains(needle))
            .unwrap_or_else(|| panic!("no printed line contains {needle:?}:\n{}", self.text()))
    }
}

/// Parses one command at the start of `b`: the command and its length, or `None` when
/// more bytes are needed.
pub fn parse_one(b: &[u8]) -> Option<(Cmd, usize)> {
    let arg = |i: usize| b.get(i).copied();
    Some(match *b.first()? {
        0x1B => match arg(1)? {
            b'@' => (Cmd::Init, 2),
            b'a' => (Cmd::Align(arg(2)?), 3),
            b'E' => (Cmd::Bold(arg(2)?), 3),
            b'd' => (Cmd::Feed(arg(2)?), 3),
            other => (Cmd::Unknown(other), 2),
        },
        0x1C => match arg(1)? {
            b'&' => (Cmd::ChineseOn, 2),
            b'!' => (Cmd::ChineseSize(arg(2)?), 3),
            b'.' => (Cmd::ChineseOff, 2),
            other => (Cmd::Unknown(other), 2),
        },
        0x1D => match arg(1)? {
            b'!' => (Cmd::Size(arg(2)?), 3),
            b'V' => match arg(2)? {
                m @ (65 | 66) => (Cmd::Cut(m, Some(arg(3)?)), 4),
                m => (Cmd::Cut(m, None), 3),
            },
            b'(' => {
                if arg(2)? != b'k' {
                    return Some((Cmd::Unknown(b'('), 3));
                }
                let len = usize::from(arg(3)?) | usize::from(arg(4)?) << 8;
                let body = b.get(5..5 + len)?;
                if len < 2 || body[0] != 49 {
                    return Some((Cmd::Unknown(b'k'), 5 + len));
                }
                (Cmd::Qr(body[1], body[2..].to_vec()), 5 + len)
            }
            other => (Cmd::Unknown(other), 2),
        },
        0x10 => {
            if arg(1)? == 0x04 {
                (Cmd::Status(arg(2)?), 3)
            } else {
                (Cmd::Unknown(0x10), 1)
            }
        }
        0x0A => (Cmd::LineFeed, 1),
        c if c >= 0x20 && c != 0x7F => (Cmd::Text(c), 1),
        c => (Cmd::Unknown(c), 1),
    })
}

/// Turns the commands of one job into lines, QR data and the rest.
pub fn decode(cmds: Vec<Cmd>) -> Job {
    let mut job = Job::default();
    let (mut size, mut align, mut bold) = (0u8, 0u8, false);
    let mut text: Vec<u8> = Vec::new();
    let mut line_start = (0u8, 0u8, false);
    for c in &cmds {
        match c {
            Cmd::Init => (size, align, bold) = (0, 0, false),
            Cmd::Align(a) => align = *a,
            Cmd::Bold(b) => bold = *b != 0,
            Cmd::Size(s) => size = *s,
            Cmd::Text(t) => {
                if text.is_empty() {
                    line_start = (size, align, bold);
                }
                text.push(*t);
            }
            Cmd::LineFeed => {
                let (s, a, b) = if text.is_empty() { (size, align, bold) } else { line_start };
                let (decoded, _, bad) = encoding_rs::GB18030.decode(&text);
                job.bad_text |= bad;
                job.lines.push(Line { text: decoded.into_owned(), size: s, align: a, bold: b });
                text.clear();
            }
            Cmd::Qr(65, p) => job.qr_model = p.first().copied(),
            Cmd::Qr(67, p) => job.qr_module = p.first().copied(),
            Cmd::Qr(69, p) => job.qr_ec = p.first().copied(),
            Cmd::Qr(80, p) if p.first() == Some(&b'0') => job.qr = Some(p[1..].to_vec()),
            Cmd::Qr(81, _) => job.qr_printed = job.qr.is_some(),
            Cmd::Cut(..) => job.cut = true,
            Cmd::Status(n) => job.statuses.push(*n),
            Cmd::ChineseOn | Cmd::ChineseOff | Cmd::ChineseSize(_) | Cmd::Feed(_) | Cmd::Qr(..) | Cmd::Unknown(_) => {}
        }
    }
    job.cmds = cmds;
    job
}

/// A fake printer listening on loopback.
pub struct FakePrinter {
    pub addr: SocketAddr,
    answers: Arc<Mutex<Answers>>,
    jobs: mpsc::UnboundedReceiver<Job>,
    /// Every connection's commands, including status-only visits.
    pub visits: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakePrinter {
    pub async fn start(answers: Answers) -> Self {
        Self::start_at("127.0.0.1:0".parse().expect("an address"), answers).await
    }

    /// A fake printer on `addr` (a port a test chose before, e.g. for a printer that comes
    /// back where it was).
    pub async fn start_at(addr: SocketAddr, answers: Answers) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind the fake printer");
        let addr = listener.local_addr().expect("its address");
        let answers = Arc::new(Mutex::new(answers));
        let visits = Arc::new(Mutex::new(0usize));
        let (tx, jobs) = mpsc::unbounded_channel();
        let (a, v) = (answers.clone(), visits.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (a, v, tx) = (a.clone(), v.clone(), tx.clone());
                tokio::spawn(async move {
                    let job = serve(stream, a).await;
                    *v.lock().expect("visits") += 1;
                    if job.is_print() {
                        let _ = tx.send(job);
                    }
                });
            }
        });
        Self { addr, answers, jobs, visits, task }
    }

    pub fn set(&self, answers: Answers) {
        *self.answers.lock().expect("answers") = answers;
    }

    /// The next printed job (status-only visits are skipped); fails the test after 20 s.
    pub async fn next_job(&mut self) -> Job {
        match tokio::time::timeout(std::time::Duration::from_secs(20), self.jobs.recv()).await {
            Ok(Some(job)) => job,
            _ => panic!("the fake printer received no job"),
        }
    }

    /// A job already received, if any, without waiting.
    pub fn try_job(&mut self) -> Option<Job> {
        self.jobs.try_recv().ok()
    }

    /// Stops listening: from now on connections are refused.
    pub fn stop(self) {
        self.task.abort();
    }
}

impl Drop for FakePrinter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one connection to its end, answering status requests as they come.
async fn serve(mut stream: TcpStream, answers: Arc<Mutex<Answers>>) -> Job {
    let mut buf: Vec<u8> = Vec::new();
    let mut cmds = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while let Some((cmd, len)) = parse_one(&buf[at..]) {
            at += len;
            if let Cmd::Status(q) = cmd {
                let a = *answers.lock().expect("answers");
                let reply = match q {
                    1 => a.printer,
                    2 => a.cause,
                    _ => a.paper,
                };
                if !a.silent {
                    let _ = stream.write_all(&[reply]).await;
                }
            }
            cmds.push(cmd);
        }
        buf.drain(..at);
    }
    let mut job = decode(cmds);
    job.leftover = buf;
    job
}

/// Gives the example hall's kiosk1 (the kiosk of `support::KIOSK`) a printer at `addr`,
/// its status asked every `probe_s` seconds while idle (0: never); kiosk1's id.
pub fn printer_at_kiosk1(config: &mut hallq::config::Config, addr: SocketAddr, probe_s: u64) -> String {
    let kiosk = config.kiosks.iter_mut().find(|k| k.token == crate::support::KIOSK).expect("kiosk1");
    kiosk.printer = Some(hallq::config::PrinterDef {
        host: addr.ip().to_string(),
        port: addr.port(),
        timeout_ms: 1_000,
        width_chars: 42,
        probe_s,
    });
    kiosk.id.clone()
}
