//! What the benchmark reads of a process from /proc (resident memory, CPU time) and the
//! file-descriptor limit it raises so that thousands of displays can connect.
//!
//! Linux only, like the hall's servers; elsewhere the figures are simply absent.

use std::time::Instant;

use super::BenchError;

/// Resident memory of a process, in KiB (`VmRSS`), and its peak so far (`VmHWM`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

/// Reads `/proc/PID/status`; `None` when the process is gone or /proc is not there.
pub fn memory(pid: u32) -> Option<Memory> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()
    };
    Some(Memory { rss_kib: field("VmRSS:")?, peak_kib: field("VmHWM:")? })
}

/// CPU time (user + system) a process has used so far, in seconds.
pub fn cpu_s(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields from
    // the last ')'. After it come field 3 (state) ... field 14 (utime), 15 (stime).
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_s())
}

fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf reads a constant of the system and touches no memory of ours.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The CPU a process used between `start` and `stop`, as a share of one core in percent.
pub struct CpuMeter {
    pid: u32,
    cpu_s: f64,
    at: Instant,
}

impl CpuMeter {
    pub fn start(pid: u32) -> Option<Self> {
        Some(Self { pid, cpu_s: cpu_s(pid)?, at: Instant::now() })
    }

    pub fn percent(&self) -> Option<f64> {
        let used = cpu_s(self.pid)? - self.cpu_s;
        let wall = self.at.elapsed().as_secs_f64();
        (wall > 0.0).then(|| 100.0 * used / wall)
    }
}

/// Raises this process's soft limit of open files to at least `needed` (up to the hard
/// limit, or past it when allowed); child processes inherit it. An error says what to do.
pub fn raise_nofile(needed: u64) -> Result<u64, BenchError> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct, which we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(BenchError::new(format!("cannot read the open-file limit: {}", std::io::Error::last_os_error())));
    }
    if lim.rlim_cur >= needed {
        return Ok(lim.rlim_cur);
    }
    let wanted = libc::rlimit { rlim_cur: needed, rlim_max: lim.rlim_max.max(needed) };
    // SAFETY: setrlimit reads one rlimit struct, which we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) } == 0 {
        return Ok(wanted.rlim_cur);
    }
    let err = std::io::Error::last_os_error();
    Err(BenchError::new(format!(
        "this many connections need {needed} open files, but the limit is {} (hard {}) and raising it failed: {err}; \
         raise it with `ulimit -n {needed}` (or as root) or ask for fewer displays",
        lim.rlim_cur, lim.rlim_max
    )))
}
