//! The native memory budget (`memoryLimit`).
//!
//! What the budget covers: memory the prover holds (loaded circuits with their parameters) plus
//! a reservation for every proof in flight. A proof reserves its estimated peak before it starts
//! and keeps it until its work has stopped; one that does not fit waits, in FIFO order, so a
//! large proof at the head is never starved by small ones behind it. A proof that cannot fit
//! even with nothing else running is refused at once. When a proof does not fit, the caller's
//! `evict` frees held memory first (idle loaded circuits, least recently used first; see
//! keystore.rs), so held memory shrinks again under pressure.
//!
//! Waiting happens on the calling thread, which must be a driver (never a pool worker), and is
//! cut short by the proof's `CancelHandle`.
use super::scheduler::CancelHandle;
use proving::error::{ErrorCode, ProverError};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};

const MIB: f64 = 1024.0 * 1024.0;

/// Why a reservation was not granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// `need` bytes cannot fit under `limit` beside the `held` memory, even with nothing running.
    NeverFits { need: u64, held: u64, limit: u64 },
    /// The proof was cancelled (aborted or timed out) while it waited.
    Cancelled,
}

impl Denied {
    pub fn into_error(self, circuit_id: &str) -> ProverError {
        match self {
            Denied::NeverFits { need, held, limit } => ProverError::new(
                ErrorCode::MemoryLimitExceeded,
                format!(
                    "{circuit_id} needs {:.1} MiB for a proof, {:.1} MiB are held by loaded circuits, the limit is {:.1} MiB (memoryLimit)",
                    need as f64 / MIB,
                    held as f64 / MIB,
                    limit as f64 / MIB
                ),
            ),
            Denied::Cancelled => ProverError::new(ErrorCode::Aborted, format!("{circuit_id}: withdrawn while waiting for memory")),
        }
    }
}

/// One proof's claim on the budget; what it reserved returns to the budget when it is dropped.
pub struct Reservation {
    budget: Arc<Budget>,
    ticket: u64,
}

impl Reservation {
    /// Lowers the reservation to `bytes` (after a load turned part of it into held memory).
    pub fn shrink_to(&self, bytes: u64) {
        let mut s = self.budget.lock();
        if let Some(grant) = s.granted.get_mut(&self.ticket) {
            let freed = grant.bytes.saturating_sub(bytes);
            grant.bytes -= freed;
            s.reserved -= freed;
        }
        self.budget.wake(s);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut s = self.budget.lock();
        if let Some(grant) = s.granted.remove(&self.ticket) {
            s.reserved -= grant.bytes;
        }
        self.budget.wake(s);
    }
}

#[derive(Clone)]
struct Claim {
    label: String,
    bytes: u64,
}

struct Waiter {
    ticket: u64,
    claim: Claim,
}

#[derive(Default)]
struct State {
    held: u64,
    reserved: u64,
    next_ticket: u64,
    waiting: VecDeque<Waiter>,
    granted: BTreeMap<u64, Claim>,
}

/// A claim as `getStatus` shows it: the proof's label (its circuit) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimStatus {
    pub label: String,
    pub bytes: u64,
}

#[derive(Debug, Clone)]
pub struct BudgetStatus {
    pub limit: Option<u64>,
    pub held: u64,
    pub reserved: u64,
    /// Running proofs' reservations, in grant order.
    pub reservations: Vec<ClaimStatus>,
    /// Proofs waiting for memory, in the order they will be granted.
    pub waiting: Vec<ClaimStatus>,
}

pub struct Budget {
    limit: Option<u64>,
    state: Mutex<State>,
    changed: Condvar,
}

impl Budget {
    /// `None`: no limit; reservations are granted at once but still shown in the status.
    pub fn new(limit: Option<u64>) -> Arc<Budget> {
        Arc::new(Budget { limit, state: Mutex::new(State::default()), changed: Condvar::new() })
    }

    /// Blocks until `bytes` fit beside what is held and reserved and every earlier waiter has
    /// been served. Refuses at once (or as soon as held memory grows too much) what can never
    /// fit; gives up when `cancel` fires.
    ///
    /// `evict` is called, without the budget's lock, when the proof does not fit: it frees
    /// held memory if it can (calling `release`) and says whether it freed anything.
    pub fn reserve(self: &Arc<Self>, label: &str, bytes: u64, cancel: &CancelHandle, evict: &dyn Fn() -> bool) -> Result<Reservation, Denied> {
        let ticket = {
            let mut s = self.lock();
            let ticket = s.next_ticket;
            s.next_ticket += 1;
            s.waiting.push_back(Waiter { ticket, claim: Claim { label: label.to_owned(), bytes } });
            ticket
        };
        let budget: Weak<Budget> = Arc::downgrade(self);
        if !cancel.on_cancel(Box::new(move || {
            if let Some(budget) = budget.upgrade() {
                budget.cancel_waiter(ticket);
            }
        })) {
            self.cancel_waiter(ticket);
        }
        let outcome = self.wait_turn(ticket, evict);
        cancel.clear_on_cancel();
        outcome.map(|()| Reservation { budget: self.clone(), ticket })
    }

    fn wait_turn(&self, ticket: u64, evict: &dyn Fn() -> bool) -> Result<(), Denied> {
        let mut s = self.lock();
        loop {
            // Cancelling removes the waiter.
            let Some(at) = s.waiting.iter().position(|w| w.ticket == ticket) else { return Err(Denied::Cancelled) };
            let bytes = s.waiting[at].claim.bytes;
            let never = self.limit.is_some_and(|limit| s.held.saturating_add(bytes) > limit);
            let fits = self.limit.is_none_or(|limit| s.held + s.reserved + bytes <= limit);
            if never || (at == 0 && !fits) {
                drop(s);
                let freed = evict();
                s = self.lock();
                if freed {
                    continue;
                }
            }
            if let Some(limit) = self.limit.filter(|&limit| s.held.saturating_add(bytes) > limit) {
                s.waiting.remove(at);
                let held = s.held;
                self.wake(s);
                return Err(Denied::NeverFits { need: bytes, held, limit });
            }
            let fits = self.limit.is_none_or(|limit| s.held + s.reserved + bytes <= limit);
            if at == 0 && fits {
                let waiter = s.waiting.pop_front().expect("the head");
                s.reserved += bytes;
                s.granted.insert(ticket, waiter.claim);
                // The next waiter may fit too.
                self.wake(s);
                return Ok(());
            }
            // Timed: a circuit becomes idle (evictable) without the budget hearing of it.
            s = self.changed.wait_timeout(s, std::time::Duration::from_millis(200)).map(|(s, _)| s).unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Frees the waiter's place at once, before its thread wakes up.
    fn cancel_waiter(&self, ticket: u64) {
        let mut s = self.lock();
        s.waiting.retain(|w| w.ticket != ticket);
        self.wake(s);
    }

    /// Counts memory a loaded circuit keeps for as long as the prover lives.
    pub fn hold(&self, bytes: u64) {
        let mut s = self.lock();
        s.held += bytes;
        self.wake(s);
    }

    /// Gives back memory an evicted circuit held.
    pub fn release(&self, bytes: u64) {
        let mut s = self.lock();
        s.held = s.held.saturating_sub(bytes);
        self.wake(s);
    }

    /// Forgets held memory (the prover released its circuits).
    pub fn clear_held(&self) {
        let mut s = self.lock();
        s.held = 0;
        self.wake(s);
    }

    /// Bytes held by loaded circuits and their parameters.
    pub fn held(&self) -> u64 {
        self.lock().held
    }

    pub fn status(&self) -> BudgetStatus {
        let s = self.lock();
        let show = |c: &Claim| ClaimStatus { label: c.label.clone(), bytes: c.bytes };
        BudgetStatus {
            limit: self.limit,
            held: s.held,
            reserved: s.reserved,
            reservations: s.granted.values().map(show).collect(),
            waiting: s.waiting.iter().map(|w| show(&w.claim)).collect(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every change can let the head waiter in, or refuse it: all waiters re-check.
    fn wake(&self, guard: MutexGuard<'_, State>) {
        drop(guard);
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Reserves on a thread of its own and reports (label, outcome) when it returns; the
    /// reservation is kept until `release` sends.
    fn claim(
        budget: &Arc<Budget>,
        label: &'static str,
        bytes: u64,
        cancel: CancelHandle,
        tx: mpsc::Sender<(&'static str, Result<(), Denied>)>,
    ) -> mpsc::Sender<()> {
        let (release, hold) = mpsc::channel::<()>();
        let budget = budget.clone();
        std::thread::spawn(move || {
            let got = budget.reserve(label, bytes, &cancel, &|| false);
            let ok = got.as_ref().map(|_| ()).map_err(|e| e.clone());
            tx.send((label, ok)).unwrap();
            let _ = hold.recv();
            drop(got);
        });
        release
    }

    fn until_waiting(budget: &Budget, n: usize) {
        while budget.status().waiting.len() != n {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_proof_that_does_not_fit_has_idle_memory_evicted_first() {
        let budget = Budget::new(Some(100));
        budget.hold(80);
        let evictions = std::sync::atomic::AtomicU32::new(0);
        // Two idle circuits of 40 each: one eviction is not enough for 70, two are.
        let evict = || {
            let n = evictions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n < 2 {
                budget.release(40);
            }
            n < 2
        };
        let r = budget.reserve("needs room", 70, &CancelHandle::default(), &evict).unwrap();
        assert_eq!((budget.status().held, budget.status().reserved), (0, 70));
        assert_eq!(evictions.load(std::sync::atomic::Ordering::SeqCst), 2);
        drop(r);
        budget.hold(60);
        let denied = budget.reserve("never", 50, &CancelHandle::default(), &|| false).err().unwrap();
        assert_eq!(denied, Denied::NeverFits { need: 50, held: 60, limit: 100 });
    }

    #[test]
    fn grants_in_fifo_order_so_a_big_head_is_not_starved() {
        let budget = Budget::new(Some(100));
        budget.hold(20);
        let (tx, rx) = mpsc::channel();
        let first = claim(&budget, "first", 50, CancelHandle::default(), tx.clone());
        assert_eq!(rx.recv().unwrap(), ("first", Ok(())));
        // 20 held + 50 reserved: the big one (60) waits, and the small ones (10) behind it wait
        // too although they would fit.
        let big = claim(&budget, "big", 60, CancelHandle::default(), tx.clone());
        until_waiting(&budget, 1);
        let small: Vec<_> = [("s1", 2), ("s2", 3)]
            .into_iter()
            .map(|(label, waiting)| {
                let release = claim(&budget, label, 10, CancelHandle::default(), tx.clone());
                until_waiting(&budget, waiting);
                release
            })
            .collect();
        assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "nobody passes the head");
        let status = budget.status();
        assert_eq!((status.held, status.reserved), (20, 50));
        assert_eq!(status.waiting.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["big", "s1", "s2"]);
        first.send(()).unwrap();
        // 20 + 60 leaves room for both small ones behind the big one. (Their threads may report
        // in any order; the order of grants is what the wait above showed.)
        let mut granted: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        granted.sort_by_key(|g| g.0);
        assert_eq!(granted, [("big", Ok(())), ("s1", Ok(())), ("s2", Ok(()))]);
        assert_eq!(budget.status().reserved, 80);
        drop((big, small));
    }

    #[test]
    fn what_can_never_fit_is_refused_at_once_with_the_numbers() {
        let budget = Budget::new(Some(100));
        budget.hold(30);
        let denied = budget.reserve("huge", 71, &CancelHandle::default(), &|| false).err().unwrap();
        assert_eq!(denied, Denied::NeverFits { need: 71, held: 30, limit: 100 });
        let err = denied.into_error("output");
        assert_eq!(err.code, ErrorCode::MemoryLimitExceeded);
        assert!(err.message.contains("output needs 0.0 MiB"), "{}", err.message);
        assert!(budget.reserve("fits", 70, &CancelHandle::default(), &|| false).is_ok());
        // A waiter that held memory later outgrows is refused too, instead of waiting forever.
        let (tx, rx) = mpsc::channel();
        let running = claim(&budget, "running", 60, CancelHandle::default(), tx.clone());
        assert_eq!(rx.recv().unwrap().1, Ok(()));
        let _waiting = claim(&budget, "waiting", 50, CancelHandle::default(), tx);
        until_waiting(&budget, 1);
        budget.hold(30);
        assert_eq!(rx.recv().unwrap(), ("waiting", Err(Denied::NeverFits { need: 50, held: 60, limit: 100 })));
        drop(running);
        let unlimited = Budget::new(None);
        let any = unlimited.reserve("any", u64::MAX / 2, &CancelHandle::default(), &|| false).unwrap();
        assert_eq!(unlimited.status().reservations, [ClaimStatus { label: "any".into(), bytes: u64::MAX / 2 }]);
        drop(any);
    }

    #[test]
    fn a_cancelled_waiter_leaves_at_once_and_lets_the_next_in() {
        let budget = Budget::new(Some(100));
        let (tx, rx) = mpsc::channel();
        let running = claim(&budget, "running", 60, CancelHandle::default(), tx.clone());
        assert_eq!(rx.recv().unwrap().1, Ok(()));
        let cancel = CancelHandle::default();
        let _big = claim(&budget, "big", 50, cancel.clone(), tx.clone());
        until_waiting(&budget, 1);
        let _small = claim(&budget, "small", 30, CancelHandle::default(), tx.clone());
        until_waiting(&budget, 2);
        cancel.cancel();
        assert!(budget.status().waiting.iter().all(|c| c.label != "big"), "its place is free when cancel returns");
        // With the head gone, the small one fits beside the running one.
        let mut outcomes: Vec<_> = (0..2).map(|_| rx.recv().unwrap()).collect();
        outcomes.sort_by_key(|o| o.0);
        assert_eq!(outcomes, [("big", Err(Denied::Cancelled)), ("small", Ok(()))]);
        assert_eq!(budget.status().reserved, 90);
        // Cancelled before it asked: never granted, never queued.
        let early = CancelHandle::default();
        early.cancel();
        assert_eq!(budget.reserve("early", 1, &early, &|| false).err(), Some(Denied::Cancelled));
        assert!(budget.status().waiting.is_empty());
        drop(running);
    }

    #[test]
    fn shrinking_and_dropping_a_reservation_give_memory_back() {
        let budget = Budget::new(Some(100));
        let r = budget.reserve("load+proof", 90, &CancelHandle::default(), &|| false).unwrap();
        budget.hold(70);
        r.shrink_to(20);
        assert_eq!((budget.status().held, budget.status().reserved), (70, 20));
        drop(r);
        assert_eq!(budget.status().reserved, 0);
        assert!(budget.status().reservations.is_empty());
    }
}
