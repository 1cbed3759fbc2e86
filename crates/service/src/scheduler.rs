//! Runs work on the prover's own rayon pool.
//!
//! Proofs go through a bounded FIFO queue served by `max_concurrent` driver threads. A job runs
//! on its driver thread, where it may block (loading a circuit, waiting for a lock), and hands
//! only lock-free computation to the pool with `install`; midnight-proofs' parallel loops then
//! run on the pool's threads. The rule that no pool worker ever blocks matters: a worker waiting
//! inside one job steals others, and a stolen job that blocks on a lock held by the job beneath
//! it on the same stack deadlocks both (seen: a proof waiting for a circuit its own worker was
//! loading).
use kernels::sync::{lock, read, write};
use proving::error::{fail, ErrorCode, Result};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};

/// The CPUs this process may use (affinity and cgroup quota included).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// How a submitted job ends up being called: it runs, it was withdrawn before it started, or the
/// queue was full when it was submitted.
#[derive(Debug)]
pub enum Start {
    /// Holds the job's running slot: drop it before reporting the result, so that whoever sees
    /// the result also sees the proof no longer counted as running.
    Run(RunSlot),
    Withdrawn,
    Refused(Overloaded),
}

/// A running proof's place in the count of active ones; released on drop.
pub struct RunSlot(Arc<Shared>);

impl std::fmt::Debug for RunSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RunSlot")
    }
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        lock(&self.0.queue).active -= 1;
    }
}

type Job = Box<dyn FnOnce(Start) + Send + 'static>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<(u64, Job)>,
    next_id: u64,
    active: usize,
    shut_down: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wakeup: Condvar,
}

pub struct Scheduler {
    /// None once shut down: dropping the pool ends its threads.
    pool: RwLock<Option<Arc<rayon::ThreadPool>>>,
    threads: usize,
    /// Kernel thread ids of its drivers and workers, as each one recorded at its start. Names
    /// cannot tell them apart: threads that other libraries' pools start from ours inherit
    /// our threads' names.
    tids: Arc<Mutex<Vec<u32>>>,
    shared: Arc<Shared>,
    max_concurrent: usize,
    max_queue: usize,
}

/// The queue was full: (running, waiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded(pub usize, pub usize);

/// A queued job's claim ticket: withdrawing it before a driver takes it frees its place at once.
pub struct Ticket {
    id: u64,
    shared: Weak<Shared>,
}

impl Ticket {
    /// Removes the job from the queue and calls it with `Start::Withdrawn` on this thread.
    /// False once a driver has taken it (or it already ended).
    pub fn withdraw(&self) -> bool {
        let Some(shared) = self.shared.upgrade() else { return false };
        let job = {
            let mut q = lock(&shared.queue);
            let Some(at) = q.jobs.iter().position(|(id, _)| *id == self.id) else { return false };
            q.jobs.remove(at).map(|(_, job)| job)
        };
        job.map(|job| job(Start::Withdrawn)).is_some()
    }
}

/// Cancellation from the caller's side, which may come before or after the job is queued.
#[derive(Clone, Default)]
pub struct CancelHandle(Arc<Mutex<CancelState>>);

type Hook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    ticket: Option<Ticket>,
    /// Wakes a job that has left the queue but still waits (for memory) before it runs.
    hook: Option<Hook>,
}

impl CancelHandle {
    /// Withdraws the job if it is still queued, or wakes it if it waits in its hook; a running
    /// job is left to finish.
    pub fn cancel(&self) {
        let (ticket, hook) = {
            let mut state = lock(&self.0);
            state.cancelled = true;
            (state.ticket.take(), state.hook.take())
        };
        if let Some(ticket) = ticket {
            ticket.withdraw();
        }
        if let Some(hook) = hook {
            hook();
        }
    }

    /// Runs `hook` on cancel, from the cancelling thread. False, and the hook is dropped, when
    /// cancel came first.
    pub fn on_cancel(&self, hook: Hook) -> bool {
        let mut state = lock(&self.0);
        if state.cancelled {
            return false;
        }
        state.hook = Some(hook);
        true
    }

    /// Forgets the hook once the wait it serves is over.
    pub fn clear_on_cancel(&self) {
        lock(&self.0).hook = None;
    }

    /// Links the queued job to this handle, withdrawing it at once if cancel came first.
    pub fn attach(&self, ticket: Ticket) {
        let mut state = lock(&self.0);
        if state.cancelled {
            drop(state);
            ticket.withdraw();
        } else {
            state.ticket = Some(ticket);
        }
    }
}

impl Scheduler {
    pub fn new(threads: usize, max_concurrent: usize, max_queue: usize) -> std::io::Result<Self> {
        // Named per scheduler (`mnp-<n>w<i>` workers, `mnp-<n>d<i>` drivers) so that each
        // prover's threads can be told apart and counted.
        static SCHEDULERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SCHEDULERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tids: Arc<Mutex<Vec<u32>>> = Arc::default();
        // Every thread registers before `new` returns, so `live_threads` never misses one that
        // has not been scheduled yet.
        let (started, registered) = std::sync::mpsc::channel::<()>();
        let register = move |tids: &Mutex<Vec<u32>>, started: &std::sync::mpsc::Sender<()>| {
            lock(tids).extend(current_tid());
            let _ = started.send(());
        };
        let (for_workers, workers_started) = (tids.clone(), Mutex::new(started.clone()));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("mnp-{n}w{i}"))
            .start_handler(move |_| register(&for_workers, &lock(&workers_started)))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { queue: Mutex::new(Queue::default()), wakeup: Condvar::new() });
        let pool = RwLock::new(Some(Arc::new(pool)));
        let drivers = max_concurrent.max(1);
        for i in 0..drivers {
            let (shared, tids, started) = (shared.clone(), tids.clone(), started.clone());
            std::thread::Builder::new().name(format!("mnp-{n}d{i}")).spawn(move || {
                register(&tids, &started);
                drop(started);
                drive(shared)
            })?;
        }
        drop(started);
        for _ in 0..threads + drivers {
            let _ = registered.recv_timeout(std::time::Duration::from_secs(10));
        }
        Ok(Scheduler { pool, threads, tids, shared, max_concurrent: drivers, max_queue })
    }

    /// Queues a proof; it runs when a driver is free, in submission order. When `max_queue`
    /// proofs already wait for a driver the job is called at once, here, with
    /// `Start::Refused`, and no ticket is returned. A job an idle driver is about to take does
    /// not wait, so it never counts against `max_queue`.
    pub fn submit(&self, job: impl FnOnce(Start) + Send + 'static) -> Option<Ticket> {
        let mut q = lock(&self.shared.queue);
        let waiting = (q.jobs.len() + q.active).saturating_sub(self.max_concurrent);
        let would_wait = (q.jobs.len() + q.active + 1).saturating_sub(self.max_concurrent);
        if would_wait > self.max_queue || q.shut_down {
            let depth = Overloaded((q.jobs.len() + q.active).min(self.max_concurrent), waiting);
            drop(q);
            job(Start::Refused(depth));
            return None;
        }
        let id = q.next_id;
        q.next_id += 1;
        q.jobs.push_back((id, Box::new(job)));
        drop(q);
        self.shared.wakeup.notify_one();
        Some(Ticket { id, shared: Arc::downgrade(&self.shared) })
    }

    /// Runs lock-free computation on the pool, from a thread that is not one of its workers.
    /// PROVER_CLOSED once the scheduler is shut down.
    pub fn install<R: Send>(&self, work: impl FnOnce() -> R + Send) -> Result<R> {
        let Some(pool) = read(&self.pool).clone() else {
            return fail(ErrorCode::ProverClosed, "the prover is closed");
        };
        Ok(pool.install(work))
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// This scheduler's threads alive now, from /proc (0 where it cannot be read).
    pub fn live_threads(&self) -> usize {
        lock(&self.tids).iter().filter(|tid| std::path::Path::new(&format!("/proc/self/task/{tid}")).exists()).count()
    }

    /// Proofs submitted and not ended: queued, or taken by a driver.
    pub fn in_flight(&self) -> usize {
        let q = lock(&self.shared.queue);
        q.jobs.len() + q.active
    }

    /// (taken by a driver, waiting for one) proofs.
    #[cfg(test)]
    pub fn depth(&self) -> (usize, usize) {
        let q = lock(&self.shared.queue);
        let waiting = (q.jobs.len() + q.active).saturating_sub(self.max_concurrent);
        (q.active + q.jobs.len() - waiting, waiting)
    }

    /// Ends every thread: drivers finish what is queued, then exit, and the pool's workers exit
    /// once the work they hold is done. Nothing here blocks the calling thread. Idempotent.
    pub fn shut_down(&self) {
        lock(&self.shared.queue).shut_down = true;
        self.shared.wakeup.notify_all();
        write(&self.pool).take();
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// The calling thread's kernel id (Linux; None elsewhere).
fn current_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

fn drive(shared: Arc<Shared>) {
    loop {
        let job = {
            let mut q = lock(&shared.queue);
            loop {
                if let Some((_, job)) = q.jobs.pop_front() {
                    q.active += 1;
                    break job;
                }
                if q.shut_down {
                    return;
                }
                q = shared.wakeup.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        let slot = RunSlot(shared.clone());
        // Jobs report their own panics; this only keeps the driver alive if one slips through
        // (unwinding drops the slot).
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Start::Run(slot))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn proofs_run_fifo_on_the_pool_with_bounded_concurrency() {
        let sched = Scheduler::new(2, 1, 100).unwrap();
        let (tx, rx) = mpsc::channel();
        for i in 0..5 {
            let tx = tx.clone();
            let pool = read(&sched.pool).clone().unwrap();
            let queued = sched.submit(move |start| {
                let name = pool.install(|| std::thread::current().name().unwrap_or("").to_owned());
                std::thread::sleep(Duration::from_millis(5));
                tx.send((i, name, matches!(start, Start::Run(_)))).unwrap();
            });
            assert!(queued.is_some());
        }
        let got: Vec<_> = (0..5).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert!(got.iter().all(|g| g.1.starts_with("mnp-") && g.1.contains('w') && g.2), "{got:?}");
        assert_eq!(sched.threads(), 2);
    }

    #[test]
    fn max_queue_counts_only_proofs_that_wait_and_shut_down_ends_the_threads() {
        // maxQueue 0: as many proofs as drivers, none waiting; a burst is admitted while
        // drivers are idle even before they have taken anything.
        let sched = Scheduler::new(1, 2, 0).unwrap();
        let (release, hold) = mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let (tx, rx) = mpsc::channel();
        for i in 0..3 {
            let (hold, tx) = (hold.clone(), tx.clone());
            let admitted = sched.submit(move |start| {
                let ran = matches!(start, Start::Run(_));
                if ran {
                    lock(&hold).recv().unwrap();
                }
                tx.send((i, ran)).unwrap();
            });
            assert_eq!(admitted.is_some(), i < 2, "proof {i}");
        }
        assert_eq!(rx.recv().unwrap(), (2, false), "the third would wait: refused");
        release.send(()).unwrap();
        release.send(()).unwrap();
        let mut ran: Vec<_> = (0..2).map(|_| rx.recv().unwrap()).collect();
        ran.sort();
        assert_eq!(ran, vec![(0, true), (1, true)]);
        let threads = || sched.live_threads();
        sched.install(|| ()).unwrap(); // the worker has started (and recorded itself) once it ran something
        assert_eq!(threads(), 3, "2 drivers and 1 worker");
        sched.shut_down();
        assert_eq!(sched.install(|| ()).unwrap_err().code, ErrorCode::ProverClosed);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while threads() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(threads(), 0, "every driver and worker exited");
    }

    #[test]
    fn a_full_queue_refuses_and_a_withdrawn_job_frees_its_place() {
        let sched = Scheduler::new(1, 1, 1).unwrap();
        let (release, hold) = mpsc::channel::<()>();
        let (tx, rx) = mpsc::channel::<(&str, String)>();
        let tell = |tx: mpsc::Sender<(&'static str, String)>, what: &'static str| move |start: Start| tx.send((what, format!("{start:?}"))).unwrap();
        assert!(sched.submit(move |_| hold.recv().unwrap()).is_some());
        while sched.depth() != (1, 0) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let waiting = sched.submit(tell(tx.clone(), "waiting")).unwrap();
        assert!(sched.submit(tell(tx.clone(), "refused")).is_none());
        assert_eq!(rx.recv().unwrap(), ("refused", "Refused(Overloaded(1, 1))".into()));
        let handle = CancelHandle::default();
        handle.attach(waiting);
        handle.cancel();
        assert_eq!(rx.recv().unwrap(), ("waiting", "Withdrawn".into()));
        assert_eq!(sched.depth(), (1, 0));
        let late = CancelHandle::default();
        late.cancel();
        late.attach(sched.submit(tell(tx.clone(), "cancelled first")).unwrap());
        assert_eq!(rx.recv().unwrap(), ("cancelled first", "Withdrawn".into()));
        let depth_seen = Arc::new(Mutex::new(None));
        let (seen, depth_at_end) = (depth_seen.clone(), sched.shared.clone());
        assert!(sched
            .submit(move |start| {
                drop(start);
                *seen.lock().unwrap() = Some(depth_at_end.queue.lock().unwrap().active);
                tx.send(("next", String::new())).unwrap();
            })
            .is_some());
        release.send(()).unwrap();
        assert_eq!(rx.recv().unwrap().0, "next");
        assert_eq!(*depth_seen.lock().unwrap(), Some(0), "the slot is released when the job drops it");
    }
}
