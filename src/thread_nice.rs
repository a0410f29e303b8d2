//! The nice level of one thread (Linux schedules threads, so a nice level set with the
//! thread's own id holds for that thread alone).

/// Sets the calling thread's nice level (0 to 19; a process may always lower its own
/// priority). False if the system refused; the thread then keeps its priority.
pub fn set(nice: i32) -> bool {
    if nice == 0 {
        return true;
    }
    // SAFETY: gettid has no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    let Ok(tid) = libc::id_t::try_from(tid) else { return false };
    // SAFETY: a plain system call on this thread's own id; nothing is borrowed.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) == 0 }
}
