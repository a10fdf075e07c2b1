//! Raising the open-files limit, shared (via `#[path]`) by the load programs
//! and `benches/net.rs`, which open thousands of sockets.

/// Raises the soft `RLIMIT_NOFILE` to `want`, or to the hard limit if that
/// is lower (`rlim_t::MAX`: as high as allowed). Reports failure on stderr;
/// the caller's later `EMFILE` says the rest.
pub fn raise_fd_limit(want: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_cur >= want {
        return;
    }
    lim.rlim_cur = want.min(lim.rlim_max);
    // SAFETY: `lim` is a valid `rlimit` with `rlim_cur <= rlim_max`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        eprintln!(
            "could not raise RLIMIT_NOFILE: {}",
            std::io::Error::last_os_error()
        );
    }
}
