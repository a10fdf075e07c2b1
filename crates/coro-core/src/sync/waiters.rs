//! The waiter list shared by every primitive of [`sync`](super).
//!
//! Each primitive keeps its state behind one `std::sync::Mutex`; the tasks
//! that have to wait are queued in a [`WaitList`]: a FIFO doubly linked list
//! threaded through a [`Slab`], so that
//!
//! * queueing, unqueueing from the middle (a cancelled future) and popping the
//!   front are all O(1);
//! * a wait allocates nothing once the slab has grown to the peak number of
//!   simultaneous waiters (slots are reused);
//! * each waiter carries a payload `T` the primitive uses to hand it a result
//!   (a message, a grant of permits) while it is still asleep.
//!
//! A waiter is *linked* while it waits. Waking it (`pop_front`, `drain`)
//! unlinks it but leaves its slot in the slab: the woken future finds its
//! payload there the next time it is polled, and frees the slot itself
//! ([`WaitList::remove`]), also when it is dropped instead of polled.
//!
//! Wakers are collected in a [`WakeList`] and woken after the lock is
//! released, so a woken task never contends on the lock its waker held.

use std::task::Waker;

use slab::Slab;

/// End of the list.
const NIL: usize = usize::MAX;

/// A FIFO of waiting tasks, each with a payload `T`. See the module docs.
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: usize,
    tail: usize,
    /// Number of linked nodes.
    len: usize,
}

#[derive(Debug)]
struct Node<T> {
    prev: usize,
    next: usize,
    linked: bool,
    waker: Option<Waker>,
    data: T,
}

impl<T> WaitList<T> {
    pub(crate) const fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// `true` if no task is waiting (unlinked slots do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues a waiter at the back and returns its key.
    pub(crate) fn push_back(&mut self, waker: &Waker, data: T) -> usize {
        let key = self.nodes.insert(Node {
            prev: self.tail,
            next: NIL,
            linked: true,
            waker: Some(waker.clone()),
            data,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.len += 1;
        key
    }

    /// `true` while the waiter is queued (it has not been woken).
    pub(crate) fn is_linked(&self, key: usize) -> bool {
        self.nodes[key].linked
    }

    /// Replaces the waiter's waker unless it would wake the same task.
    pub(crate) fn update_waker(&mut self, key: usize, waker: &Waker) {
        let slot = &mut self.nodes[key].waker;
        match slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// The payload of a waiter, linked or not.
    pub(crate) fn data_mut(&mut self, key: usize) -> &mut T {
        &mut self.nodes[key].data
    }

    /// The payload of the first queued waiter.
    pub(crate) fn front_mut(&mut self) -> Option<&mut T> {
        match self.head {
            NIL => None,
            head => Some(&mut self.nodes[head].data),
        }
    }

    /// Unlinks the first queued waiter and returns its key and waker. Its
    /// slot stays allocated until the waiter calls [`remove`](Self::remove).
    pub(crate) fn pop_front(&mut self) -> Option<(usize, Option<Waker>)> {
        match self.head {
            NIL => None,
            key => {
                self.unlink(key);
                Some((key, self.nodes[key].waker.take()))
            }
        }
    }

    /// Unlinks every queued waiter and collects their wakers.
    pub(crate) fn drain(&mut self, wakers: &mut WakeList) {
        while let Some((_, waker)) = self.pop_front() {
            wakers.extend(waker);
        }
    }

    /// Frees a waiter's slot (unlinking it first if it is still queued) and
    /// returns its payload.
    pub(crate) fn remove(&mut self, key: usize) -> T {
        if self.nodes[key].linked {
            self.unlink(key);
        }
        self.nodes.remove(key).data
    }

    fn unlink(&mut self, key: usize) {
        let node = &mut self.nodes[key];
        debug_assert!(node.linked, "unlinking a waiter that is not queued");
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        match prev {
            NIL => self.head = next,
            prev => self.nodes[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.nodes[next].prev = prev,
        }
        self.len -= 1;
    }
}

/// Wakers collected under a lock, to be woken once it is released.
///
/// The first [`INLINE`](Self::INLINE) live on the stack; only a larger
/// crowd (a `close` or `Event::set` with many waiters) allocates.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    inline: [Option<Waker>; WakeList::INLINE],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    const INLINE: usize = 16;

    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < Self::INLINE {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Wakes every collected waker. Call it after releasing the lock.
    pub(crate) fn wake_all(self) {
        let WakeList { inline, spill, .. } = self;
        inline.into_iter().flatten().for_each(Waker::wake);
        spill.into_iter().for_each(Waker::wake);
    }
}

impl Extend<Waker> for WakeList {
    fn extend<I: IntoIterator<Item = Waker>>(&mut self, iter: I) {
        iter.into_iter().for_each(|waker| self.push(waker));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn fifo_order_removal_from_the_middle_and_slot_reuse() {
        let waker = Waker::noop();
        let mut list = WaitList::new();
        let a = list.push_back(waker, 'a');
        let b = list.push_back(waker, 'b');
        let c = list.push_back(waker, 'c');
        assert_eq!(list.remove(b), 'b'); // cancelled while queued
        assert!(list.is_linked(a) && list.is_linked(c));
        assert_eq!(list.front_mut(), Some(&mut 'a'));
        let (first, _) = list.pop_front().unwrap();
        assert_eq!(first, a);
        assert!(!list.is_linked(a)); // woken: slot kept for its owner
        assert_eq!(*list.data_mut(a), 'a');
        let d = list.push_back(waker, 'd'); // reuses b's slot
        assert_eq!(d, b);
        assert_eq!(list.pop_front().unwrap().0, c);
        assert_eq!(list.pop_front().unwrap().0, d);
        assert!(list.pop_front().is_none() && list.is_empty());
        for key in [a, c, d] {
            list.remove(key);
        }
        assert_eq!(list.nodes.len(), 0);
    }

    #[test]
    fn drain_wakes_everyone_beyond_the_inline_capacity() {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..40).map(|i| list.push_back(&waker, i)).collect();
        let mut wakers = WakeList::new();
        list.drain(&mut wakers);
        assert!(list.is_empty());
        wakers.wake_all();
        assert_eq!(counter.0.load(Ordering::SeqCst), 40);
        for key in keys {
            list.remove(key);
        }
    }

    #[test]
    fn update_waker_keeps_an_equivalent_waker() {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut list = WaitList::new();
        let key = list.push_back(Waker::noop(), ());
        list.update_waker(key, &waker);
        list.update_waker(key, &waker.clone());
        let (_, woken) = list.pop_front().unwrap();
        woken.unwrap().wake();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        list.remove(key);
    }
}
