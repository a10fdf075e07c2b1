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
//! * `--mode recv` (the default): per connection one operation in flight.
//!   A `Recv` into the connection's own 4 KiB buffer; its completion queues
//!   a `Send` of those bytes (again for the rest after a short send); the
//!   send's completion queues the next `Recv`.
//! * `--mode multishot`: one `RecvMulti` per connection stays armed (the
//!   kernel keeps its poll entry instead of arming one per recv) and picks
//!   a buffer from a registered ring of provided buffers (`BufRing`) for
//!   each completion; the chunks are sent back in order, one `Send` in
//!   flight per connection, and each buffer goes back to the ring when its
//!   bytes are sent. A connection that found the ring empty (`ENOBUFS`, the
//!   kernel ends its multishot) is re-armed when a buffer comes back
//!   (`--buffers N`, 4096 by default: the smoke test uses few, to run out).
//! * `--fixed 1`: every accepted descriptor also goes into the ring's
//!   registered file table (one `io_uring_register` per accept, outside the
//!   measured window), and recv/send name it by index (`types::Fixed`), so
//!   the kernel skips the per-operation `fdget`/`fdput`.
//!
//! Invariants. The `user_data` of an SQE is `slot << 2 | op` (`op`: accept,
//! recv, send). A slot is freed (and its descriptor closed) only when its
//! connection is done (EOF or an error) and neither a recv nor a send of it
//! is in flight, so no completion ever names a freed or reused slot, and no
//! buffer the kernel may touch is dropped: a connection's own buffer lives
//! in its slot, the provided buffers in the `BufRing`, which is declared
//! before the ring and so outlives it.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use io_uring::{cqueue, opcode, squeue, types, IoUring, SubmissionQueue, Submitter};

use buf_ring::BufRing;

/// SQ entries; each turn queues at most one SQE per completion it handled
/// (and submits early if that fills the SQ).
const SQ_ENTRIES: u32 = 1024;
/// CQ entries: a connection has at most a few CQEs pending (the kernel
/// keeps overflowing ones anyway, `IORING_FEAT_NODROP`).
const CQ_ENTRIES: u32 = 32 * 1024;
/// Registered file table size with `--fixed 1`, at most (the kernel caps
/// it at `RLIMIT_NOFILE`, and so does `fixed_table_len`).
const FIXED_FILES: u32 = 32 * 1024;
/// Provided buffers with `--mode multishot` (`super::BUF_LEN` bytes each)
/// unless `--buffers` says otherwise.
const RING_BUFFERS: u16 = 4096;
/// The provided-buffer group id of the one `BufRing`.
const BUF_GROUP: u16 = 0;

const OP_ACCEPT: u64 = 0;
const OP_RECV: u64 = 1;
const OP_SEND: u64 = 2;

/// A chunk's "buffer id" when its bytes are in the connection's own buffer.
const OWN: u16 = u16::MAX;

/// How `raw_uring` serves (`--mode`, `--fixed`).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// `RecvMulti` with provided buffers instead of one `Recv` at a time.
    pub multishot: bool,
    /// Registered descriptors (`types::Fixed`).
    pub fixed: bool,
    /// Provided buffers (multishot; a power of two, at most 32,768).
    pub buffers: u16,
}

impl Options {
    /// `--mode recv|multishot`, `--fixed 0|1`, `--buffers N`; exits with
    /// the usage on a bad value.
    pub fn from_args(args: &super::args::Args) -> Options {
        let usage = |what: &str| -> ! {
            eprintln!("{what}\n{}", super::USAGE);
            std::process::exit(2);
        };
        let multishot = match args.get("mode", String::from("recv")).as_str() {
            "recv" => false,
            "multishot" => true,
            _ => usage("--mode (raw_uring): recv or multishot"),
        };
        let buffers: u16 = args.get("buffers", RING_BUFFERS);
        if !buffers.is_power_of_two() || buffers > 1 << 15 {
            usage("--buffers (raw_uring): a power of two up to 32768");
        }
        Options {
            multishot,
            fixed: args.get("fixed", 0u8) != 0,
            buffers,
        }
    }
}

struct Conn {
    fd: OwnedFd,
    /// The single-shot recv's buffer (empty with multishot).
    buf: Box<[u8]>,
    /// Received chunks not yet all sent back, oldest first: buffer id
    /// (`OWN`: `buf`) and length.
    unsent: VecDeque<(u16, usize)>,
    /// Bytes of the front chunk already sent.
    sent: usize,
    /// A recv is in flight (multishot: armed).
    receiving: bool,
    /// A send is in flight.
    sending: bool,
    /// EOF or an error: no new recv; the slot is freed once idle.
    done: bool,
}

struct Server {
    options: Options,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    /// Slots of the registered file table (`fixed` only).
    table_len: u32,
    /// The provided buffers (multishot only).
    ring: Option<BufRing>,
    /// Connections whose multishot recv ended for want of a buffer.
    starved: Vec<usize>,
}

/// Serves `addr` until the process exits.
pub fn serve(addr: SocketAddr, options: Options) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    let table_len = if options.fixed { fixed_table_len() } else { 0 };
    // Before `uring`, so dropped after it: the kernel may use the buffers
    // until the ring is gone.
    let mut server = Server {
        options,
        conns: Vec::new(),
        free: Vec::new(),
        table_len,
        ring: options
            .multishot
            .then(|| BufRing::new(options.buffers, super::BUF_LEN)),
        starved: Vec::new(),
    };
    let mut uring: IoUring = IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_cqsize(CQ_ENTRIES)
        .build(SQ_ENTRIES)
        .map_err(|e| io::Error::new(e.kind(), format!("io_uring_setup: {e}")))?;
    let (submitter, mut sq, mut cq) = uring.split();
    if options.fixed {
        submitter.register_files_sparse(table_len)?;
    }
    if let Some(ring) = &server.ring {
        ring.register(&submitter, BUF_GROUP)?;
    }
    let accept = opcode::AcceptMulti::new(types::Fd(listener.as_raw_fd()))
        .build()
        .user_data(OP_ACCEPT);
    push(&mut sq, &submitter, &accept)?;
    super::announce(listener.local_addr()?);

    let mut next = Vec::new();
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
            match op {
                OP_ACCEPT => {
                    if cqe.result() >= 0 {
                        // SAFETY: a non-negative accept result is a new
                        // descriptor that nothing else owns.
                        let fd = unsafe { OwnedFd::from_raw_fd(cqe.result()) };
                        server.open(fd, &submitter, &mut next);
                    } else {
                        // Out of descriptors or a reset: back off a little
                        // (as `raw_polling` does).
                        let error = io::Error::from_raw_os_error(-cqe.result());
                        eprintln!("echo_bench_server: accept: {error}");
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    if !cqueue::more(cqe.flags()) {
                        next.push(accept.clone());
                    }
                }
                OP_RECV => server.received(slot, cqe.result(), cqe.flags(), &mut next),
                _ => server.sent(slot, cqe.result(), &mut next),
            }
            if server.is_idle_and_done(slot) && op != OP_ACCEPT {
                server.close(slot, &submitter);
            }
            for sqe in next.drain(..) {
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
    // SAFETY: every SQE points only into a buffer that stays allocated and
    // untouched by this thread until its CQE (see the file's comment), or
    // at no memory (accept, multishot recv).
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

/// A retryable completion result (the operation did nothing).
fn is_retry(result: i32) -> bool {
    result == -libc::EINTR || result == -libc::EAGAIN
}

impl Server {
    fn conn(&mut self, slot: usize) -> &mut Conn {
        self.conns[slot]
            .as_mut()
            .expect("a completion named a free slot: the slot invariant is broken")
    }

    /// A new connection: its slot, and its first recv.
    fn open(&mut self, fd: OwnedFd, submitter: &Submitter<'_>, next: &mut Vec<squeue::Entry>) {
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
            return;
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if self.options.fixed {
            let registered = u32::try_from(slot)
                .ok()
                .filter(|&s| s < self.table_len)
                .map(|s| submitter.register_files_update(s, &[fd.as_raw_fd()]));
            if !matches!(registered, Some(Ok(1))) {
                eprintln!("echo_bench_server: no registered file slot for connection {slot}");
                self.free.push(slot);
                return;
            }
        }
        let own = if self.options.multishot {
            0
        } else {
            super::BUF_LEN
        };
        self.conns[slot] = Some(Conn {
            fd,
            buf: vec![0u8; own].into_boxed_slice(),
            unsent: VecDeque::new(),
            sent: 0,
            receiving: false,
            sending: false,
            done: false,
        });
        next.push(self.recv(slot));
    }

    /// A recv on `slot` completed: queue the bytes to be sent back.
    fn received(&mut self, slot: usize, result: i32, flags: u32, next: &mut Vec<squeue::Entry>) {
        let multishot = self.options.multishot;
        let conn = self.conn(slot);
        conn.receiving = multishot && cqueue::more(flags);
        if result > 0 {
            let bid = if multishot {
                cqueue::buffer_select(flags).expect("a multishot recv without a buffer")
            } else {
                OWN
            };
            conn.unsent.push_back((bid, result as usize));
            if !conn.sending {
                next.push(self.send(slot));
            }
            // Multishot: the kernel may end it after data (e.g. a full CQ).
            if multishot && !self.conn(slot).receiving {
                next.push(self.recv(slot));
            }
        } else if result == -libc::ENOBUFS {
            self.starved.push(slot);
        } else if is_retry(result) {
            if !conn.receiving {
                next.push(self.recv(slot));
            }
        } else {
            conn.done = true; // EOF or an error
        }
    }

    /// A send on `slot` completed: the rest, the next chunk or the next recv.
    fn sent(&mut self, slot: usize, result: i32, next: &mut Vec<squeue::Entry>) {
        let conn = self.conn(slot);
        conn.sending = false;
        if result < 0 && !is_retry(result) {
            conn.done = true;
            if conn.receiving {
                // SAFETY: plain syscall on an open descriptor; it makes the
                // armed recv complete, after which the slot is freed.
                unsafe { libc::shutdown(conn.fd.as_raw_fd(), libc::SHUT_RDWR) };
            }
            return;
        }
        conn.sent += result.max(0) as usize;
        let &(bid, len) = conn
            .unsent
            .front()
            .expect("a send completed with nothing unsent");
        if conn.sent == len {
            conn.unsent.pop_front();
            conn.sent = 0;
            if bid != OWN {
                self.give_back(bid, next);
            }
        }
        let multishot = self.options.multishot;
        let conn = self.conn(slot);
        if !conn.unsent.is_empty() {
            next.push(self.send(slot));
        } else if !multishot && !conn.done {
            next.push(self.recv(slot));
        }
    }

    /// Returns buffer `bid` to the ring, and re-arms a connection that was
    /// waiting for one.
    fn give_back(&mut self, bid: u16, next: &mut Vec<squeue::Entry>) {
        self.ring
            .as_mut()
            .expect("a provided buffer without a ring")
            .provide(bid);
        while let Some(slot) = self.starved.pop() {
            // The slot may have been closed (and even reused) meanwhile.
            if matches!(&self.conns[slot], Some(c) if !c.receiving && !c.done) {
                next.push(self.recv(slot));
                return;
            }
        }
    }

    fn is_idle_and_done(&self, slot: usize) -> bool {
        matches!(self.conns.get(slot), Some(Some(c)) if c.done && !c.receiving && !c.sending)
    }

    /// Frees `slot` (done, nothing in flight): its buffers back to the
    /// ring, its descriptor out of the table and closed.
    fn close(&mut self, slot: usize, submitter: &Submitter<'_>) {
        let conn = self.conns[slot].take().expect("closing a free slot");
        if let Some(ring) = &mut self.ring {
            for &(bid, _) in &conn.unsent {
                ring.provide(bid);
            }
        }
        if self.options.fixed {
            let _ = submitter.register_files_update(slot as u32, &[-1]);
        }
        drop(conn); // closes the descriptor
        self.free.push(slot);
    }

    /// The recv SQE for `slot`, marked in flight.
    fn recv(&mut self, slot: usize) -> squeue::Entry {
        let (multishot, fixed) = (self.options.multishot, self.options.fixed);
        let conn = self.conn(slot);
        conn.receiving = true;
        let (ptr, len) = (conn.buf.as_mut_ptr(), conn.buf.len() as u32);
        let entry = match (multishot, fixed) {
            (true, true) => opcode::RecvMulti::new(types::Fixed(slot as u32), BUF_GROUP).build(),
            (true, false) => {
                opcode::RecvMulti::new(types::Fd(conn.fd.as_raw_fd()), BUF_GROUP).build()
            }
            (false, true) => opcode::Recv::new(types::Fixed(slot as u32), ptr, len).build(),
            (false, false) => opcode::Recv::new(types::Fd(conn.fd.as_raw_fd()), ptr, len).build(),
        };
        entry.user_data((slot as u64) << 2 | OP_RECV)
    }

    /// The send SQE for the rest of `slot`'s front chunk, marked in flight.
    fn send(&mut self, slot: usize) -> squeue::Entry {
        let fixed = self.options.fixed;
        let conn = self.conns[slot].as_mut().expect("send on a free slot");
        conn.sending = true;
        let &(bid, len) = conn.unsent.front().expect("send with nothing unsent");
        let base = match bid {
            OWN => conn.buf.as_ptr(),
            bid => self
                .ring
                .as_ref()
                .expect("a provided buffer without a ring")
                .buf(bid),
        };
        // SAFETY: `sent < len <= BUF_LEN`, inside the chunk's buffer.
        let ptr = unsafe { base.add(conn.sent) };
        let len = (len - conn.sent) as u32;
        let entry = if fixed {
            opcode::Send::new(types::Fixed(slot as u32), ptr, len).build()
        } else {
            opcode::Send::new(types::Fd(conn.fd.as_raw_fd()), ptr, len).build()
        };
        entry.user_data((slot as u64) << 2 | OP_SEND)
    }
}

/// A ring of provided buffers (`IORING_REGISTER_PBUF_RING`): the kernel
/// takes a buffer from its head for each multishot recv completion; this
/// thread puts it back at the tail once its bytes are sent. At most `count`
/// buffers are ever out, so the tail never overtakes the kernel's head.
mod buf_ring {
    use std::alloc::{self, Layout};
    use std::io;
    use std::ptr::NonNull;
    use std::sync::atomic::{AtomicU16, Ordering};

    use io_uring::types::BufRingEntry;
    use io_uring::Submitter;

    pub struct BufRing {
        /// `count` entries, page-aligned (the kernel's requirement).
        entries: NonNull<BufRingEntry>,
        layout: Layout,
        count: u16,
        tail: u16,
        /// The buffers, `buf_len` bytes each, by buffer id.
        data: Box<[u8]>,
        buf_len: usize,
    }

    impl BufRing {
        /// `count` (a power of two, at most 32,768) buffers of `buf_len`
        /// bytes, all provided.
        pub fn new(count: u16, buf_len: usize) -> BufRing {
            assert!(
                count.is_power_of_two() && count <= 1 << 15,
                "BufRing::new: count must be a power of two <= 32768, not {count}"
            );
            let size = usize::from(count) * std::mem::size_of::<BufRingEntry>();
            let layout = Layout::from_size_align(size, 4096).expect("a valid ring layout");
            // SAFETY: `layout` has a non-zero size.
            let raw = unsafe { alloc::alloc_zeroed(layout) };
            let entries =
                NonNull::new(raw.cast()).unwrap_or_else(|| alloc::handle_alloc_error(layout));
            let data = vec![0u8; usize::from(count) * buf_len].into_boxed_slice();
            let mut ring = BufRing {
                entries,
                layout,
                count,
                tail: 0,
                data,
                buf_len,
            };
            for bid in 0..count {
                ring.provide(bid);
            }
            ring
        }

        /// Registers the ring as provided-buffer group `group`.
        pub fn register(&self, submitter: &Submitter<'_>, group: u16) -> io::Result<()> {
            // SAFETY: the entries stay allocated, at this address, until
            // `self` is dropped, which happens after the io_uring is (see
            // `serve`).
            unsafe {
                submitter.register_buf_ring_with_flags(
                    self.entries.as_ptr() as u64,
                    self.count,
                    group,
                    0,
                )
            }
        }

        /// The start of buffer `bid`.
        pub fn buf(&self, bid: u16) -> *const u8 {
            self.data[usize::from(bid) * self.buf_len..].as_ptr()
        }

        /// Puts buffer `bid` (not in the kernel's hands) back at the tail.
        pub fn provide(&mut self, bid: u16) {
            let index = usize::from(self.tail & (self.count - 1));
            let addr = self.buf(bid) as u64;
            // SAFETY: `index < count`, inside the allocation; the kernel
            // reads only entries between its head and the published tail,
            // and this one is past the tail until the store below.
            let entry = unsafe { &mut *self.entries.as_ptr().add(index) };
            entry.set_addr(addr);
            entry.set_len(self.buf_len as u32);
            entry.set_bid(bid);
            self.tail = self.tail.wrapping_add(1);
            // SAFETY: the tail is the `resv` field of entry 0, a `u16`
            // inside the allocation, aligned for `AtomicU16` (2 bytes), and
            // shared with the kernel only through atomic accesses.
            let tail = unsafe { &*BufRingEntry::tail(self.entries.as_ptr()).cast::<AtomicU16>() };
            // Release: the entry's fields are visible before the tail.
            tail.store(self.tail, Ordering::Release);
        }
    }

    impl Drop for BufRing {
        fn drop(&mut self) {
            // SAFETY: allocated in `new` with this layout, freed once.
            unsafe { alloc::dealloc(self.entries.as_ptr().cast(), self.layout) };
        }
    }
}
