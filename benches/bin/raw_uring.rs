//! `raw_uring`: the echo server of `raw_polling` with io_uring completions
//! in place of epoll readiness — the bound of what an io_uring driver could
//! save (docs/benchmarks.md, "io_uring: a measured spike"). Built with the
//! package's `io-uring` feature, Linux only.
//!
//! One thread, no futures, the same protocol as every echo server here: echo
//! back what is read. The design, as lean as io_uring allows:
//!
//! * One ring set up with `SINGLE_ISSUER | DEFER_TASKRUN` (completions are
//!   run in this thread's `io_uring_enter`, not by task-work interrupts),
//!   so a loop turn is exactly one `submit_and_wait(1)`: it submits every
//!   SQE queued since the previous turn and waits for at least one CQE.
//! * A multishot accept on the listener (one SQE for every connection,
//!   re-armed only if the kernel ends it).
//! * Per connection exactly one operation in flight, so its buffer has
//!   one owner at a time: a `Recv` into the connection's own 4 KiB buffer;
//!   its completion queues a `Send` of those bytes (again for the rest after
//!   a short send); the send's completion queues the next `Recv`. EOF or an
//!   error closes the descriptor (nothing of it is in flight then) and frees
//!   the slot.
//! * `--fixed 1`: every accepted descriptor also goes into the ring's
//!   registered file table (one `io_uring_register` per accept, outside the
//!   measured window), and recv/send name it by index (`types::Fixed`), so
//!   the kernel skips the per-operation `fdget`/`fdput`.
//!
//! The `user_data` of an SQE is `slot << 2 | op` (`op`: accept, recv, send).
//! A connection's buffer is a `Box<[u8]>` that stays where it is while the
//! kernel may write into it: the slot is neither freed nor reused while its
//! one operation is in flight, and the process exits (dropping the ring,
//! which cancels everything) before any `Conn` is dropped otherwise.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use io_uring::{cqueue, opcode, squeue, types, IoUring, SubmissionQueue, Submitter};

/// SQ entries; each turn queues at most one SQE per completion it handled.
const SQ_ENTRIES: u32 = 1024;
/// CQ entries: every connection has at most one CQE pending, plus accepts.
const CQ_ENTRIES: u32 = 32 * 1024;
/// Registered file table size with `--fixed 1`, at most (the kernel caps
/// it at `RLIMIT_NOFILE`, and so does `fixed_table_len`).
const FIXED_FILES: u32 = 32 * 1024;

const OP_ACCEPT: u64 = 0;
const OP_RECV: u64 = 1;
const OP_SEND: u64 = 2;

struct Conn {
    fd: OwnedFd,
    /// Read bytes land here; they stay until sent back.
    buf: Box<[u8]>,
    /// Bytes in `buf` to echo, and how many of them are sent.
    len: usize,
    sent: usize,
}

struct Server {
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Recv and send name the connection by its slot in the registered
    /// file table (the slot index is the connection's).
    fixed: bool,
    /// Slots of the registered file table (`fixed` only).
    table_len: u32,
}

/// Serves `addr` until the process exits; `fixed`: registered descriptors.
pub fn serve(addr: SocketAddr, fixed: bool) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let mut ring: IoUring = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_cqsize(CQ_ENTRIES)
        .build(SQ_ENTRIES)
        .map_err(|e| io::Error::new(e.kind(), format!("io_uring_setup: {e}")))?;
    let table_len = if fixed { fixed_table_len() } else { 0 };
    if fixed {
        ring.submitter().register_files_sparse(table_len)?;
    }
    let mut server = Server {
        conns: Vec::new(),
        free: Vec::new(),
        fixed,
        table_len,
    };
    let accept = opcode::AcceptMulti::new(types::Fd(listener.as_raw_fd()))
        .build()
        .user_data(OP_ACCEPT);
    let (submitter, mut sq, mut cq) = ring.split();
    push(&mut sq, &submitter, &accept)?;
    super::announce(listener.local_addr()?);

    loop {
        sq.sync();
        match submitter.submit_and_wait(1) {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
            Err(e) => return Err(e),
        }
        cq.sync();
        for cqe in &mut cq {
            let (slot, op) = ((cqe.user_data() >> 2) as usize, cqe.user_data() & 3);
            let next = match op {
                OP_ACCEPT => {
                    let mut next = None;
                    if cqe.result() >= 0 {
                        // SAFETY: a non-negative accept result is a new
                        // descriptor that nothing else owns.
                        let fd = unsafe { OwnedFd::from_raw_fd(cqe.result()) };
                        next = server.open(fd, &submitter);
                    } else {
                        // Out of descriptors or a reset: back off a little
                        // (as `raw_polling` does).
                        let error = io::Error::from_raw_os_error(-cqe.result());
                        eprintln!("echo_bench_server: accept: {error}");
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    if !cqueue::more(cqe.flags()) {
                        push(&mut sq, &submitter, &accept)?;
                    }
                    next
                }
                OP_RECV => server.received(slot, cqe.result(), &submitter),
                _ => server.sent(slot, cqe.result(), &submitter),
            };
            if let Some(sqe) = next {
                push(&mut sq, &submitter, &sqe)?;
            }
        }
    }
}

/// The registered file table's size: `FIXED_FILES`, or the open-files
/// limit if lower (the kernel refuses a larger table with `EMFILE`).
fn fixed_table_len() -> u32 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    u32::try_from(lim.rlim_cur).map_or(FIXED_FILES, |n| n.min(FIXED_FILES))
}

/// Queues `sqe`, first submitting what is queued if the SQ is full.
fn push(
    sq: &mut SubmissionQueue<'_>,
    submitter: &Submitter<'_>,
    sqe: &squeue::Entry,
) -> io::Result<()> {
    // SAFETY: every SQE points only into a `Conn` buffer that stays
    // allocated and untouched until its CQE (see the file's comment), or at
    // no memory (accept).
    while unsafe { sq.push(sqe) }.is_err() {
        sq.sync();
        match submitter.submit() {
            Ok(_) => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
            Err(e) => return Err(e),
        }
        sq.sync();
    }
    Ok(())
}

impl Server {
    /// A new connection: its slot, and the first recv.
    fn open(&mut self, fd: OwnedFd, submitter: &Submitter<'_>) -> Option<squeue::Entry> {
        let nodelay: libc::c_int = 1;
        // SAFETY: `fd` is an open socket; the option value is a live c_int
        // of the size passed.
        let set = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&nodelay as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if set != 0 {
            return None;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if self.fixed {
            let registered = u32::try_from(slot)
                .ok()
                .filter(|&s| s < self.table_len)
                .map(|s| submitter.register_files_update(s, &[fd.as_raw_fd()]));
            if !matches!(registered, Some(Ok(1))) {
                eprintln!("echo_bench_server: no registered file slot for connection {slot}");
                self.free.push(slot);
                return None;
            }
        }
        self.conns[slot] = Some(Conn {
            fd,
            buf: vec![0u8; super::BUF_LEN].into_boxed_slice(),
            len: 0,
            sent: 0,
        });
        Some(self.recv(slot))
    }

    /// A recv on `slot` completed with `result`: send the bytes back.
    fn received(
        &mut self,
        slot: usize,
        result: i32,
        submitter: &Submitter<'_>,
    ) -> Option<squeue::Entry> {
        match result {
            n if n > 0 => {
                let conn = self.conns[slot]
                    .as_mut()
                    .expect("a recv completed on a free slot");
                (conn.len, conn.sent) = (n as usize, 0);
                Some(self.send(slot))
            }
            e if e == -libc::EINTR || e == -libc::EAGAIN => Some(self.recv(slot)),
            _ => self.close(slot, submitter),
        }
    }

    /// A send on `slot` completed with `result`: the rest, or the next recv.
    fn sent(
        &mut self,
        slot: usize,
        result: i32,
        submitter: &Submitter<'_>,
    ) -> Option<squeue::Entry> {
        let conn = self.conns[slot]
            .as_mut()
            .expect("a send completed on a free slot");
        match result {
            n if n >= 0 => {
                conn.sent += n as usize;
                if conn.sent < conn.len {
                    Some(self.send(slot))
                } else {
                    Some(self.recv(slot))
                }
            }
            e if e == -libc::EINTR || e == -libc::EAGAIN => Some(self.send(slot)),
            _ => self.close(slot, submitter),
        }
    }

    /// EOF or an error: nothing is in flight on `slot`, so close it.
    fn close(&mut self, slot: usize, submitter: &Submitter<'_>) -> Option<squeue::Entry> {
        if self.fixed {
            let _ = submitter.register_files_update(slot as u32, &[-1]);
        }
        self.conns[slot] = None; // closes the descriptor
        self.free.push(slot);
        None
    }

    fn recv(&mut self, slot: usize) -> squeue::Entry {
        let conn = self.conns[slot].as_mut().expect("recv on a free slot");
        let (ptr, len) = (conn.buf.as_mut_ptr(), conn.buf.len() as u32);
        let entry = if self.fixed {
            opcode::Recv::new(types::Fixed(slot as u32), ptr, len).build()
        } else {
            opcode::Recv::new(types::Fd(conn.fd.as_raw_fd()), ptr, len).build()
        };
        entry.user_data((slot as u64) << 2 | OP_RECV)
    }

    fn send(&mut self, slot: usize) -> squeue::Entry {
        let conn = self.conns[slot].as_ref().expect("send on a free slot");
        let rest = &conn.buf[conn.sent..conn.len];
        let (ptr, len) = (rest.as_ptr(), rest.len() as u32);
        let entry = if self.fixed {
            opcode::Send::new(types::Fixed(slot as u32), ptr, len).build()
        } else {
            opcode::Send::new(types::Fd(conn.fd.as_raw_fd()), ptr, len).build()
        };
        entry.user_data((slot as u64) << 2 | OP_SEND)
    }
}
