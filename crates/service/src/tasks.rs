//! Short blocking work (checks, verifies, preloads, keygen, parameter fetches) on a bounded set
//! of OS threads of the process.
//!
//! These tasks may block (on a circuit another call is loading, on a download), so they never
//! run on a pool worker (see scheduler.rs). Threads are started on demand, up to `max_threads`,
//! and each one exits as soon as the queue is empty: an idle process keeps none, and a burst of
//! calls waits in a bounded queue instead of starting a thread per call.
use kernels::sync::lock;
use proving::error::{fail, ErrorCode, ProverError, Result};
use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

/// Called once: with `Ok` on a pool thread to run, or with the reason it cannot run.
type Task = Box<dyn FnOnce(std::result::Result<(), ProverError>) + Send>;

pub struct TaskPool {
    max_threads: usize,
    max_queued: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Task>,
    threads: usize,
}

/// What `getStatus` shows of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskStatus {
    pub threads: usize,
    pub max_threads: usize,
    pub queued: usize,
    pub max_queued: usize,
}

/// Tasks that may wait beyond the running ones; past that a call fails with PROVER_OVERLOADED.
pub const MAX_QUEUED_TASKS: usize = 1024;

/// The process's pool: as many threads as CPUs (at least 2, so one slow download or key
/// derivation does not hold up every check).
pub fn global() -> &'static TaskPool {
    static POOL: OnceLock<TaskPool> = OnceLock::new();
    POOL.get_or_init(|| TaskPool::new(super::scheduler::default_threads().max(2), MAX_QUEUED_TASKS))
}

/// Parameter downloads get threads of their own: Midnight's fetch has no timeout, so a stalled
/// source would otherwise hold task threads that checks and keygen need.
pub fn downloads() -> &'static TaskPool {
    static POOL: OnceLock<TaskPool> = OnceLock::new();
    POOL.get_or_init(|| TaskPool::new(4, 64))
}

impl TaskPool {
    pub const fn new(max_threads: usize, max_queued: usize) -> Self {
        TaskPool { max_threads, max_queued, state: Mutex::new(State { queue: VecDeque::new(), threads: 0 }) }
    }

    /// Runs `work` on a pool thread and hands its result to `done` exactly once: also when the
    /// queue is full or no thread can be started. A panic in `work` becomes PROVER_PANIC.
    pub fn spawn<T: Send + 'static>(&'static self, work: impl FnOnce() -> Result<T> + Send + 'static, done: impl FnOnce(Result<T>) + Send + 'static) {
        let mut s = lock(&self.state);
        if s.queue.len() >= self.max_queued {
            drop(s);
            return done(fail(ErrorCode::ProverOverloaded, format!("{} tasks are waiting for a thread, the limit", self.max_queued)));
        }
        s.queue.push_back(Box::new(move |start| match start {
            Ok(()) => done(proving::error::guarded(work)),
            Err(e) => done(Err(e)),
        }));
        if s.threads >= self.max_threads {
            return;
        }
        s.threads += 1;
        drop(s);
        if let Err(e) = std::thread::Builder::new().name("mnp-task".into()).spawn(move || self.work()) {
            let orphans = {
                let mut s = lock(&self.state);
                s.threads -= 1;
                // Only when no thread is left to serve the queue do its tasks fail here.
                if s.threads == 0 {
                    std::mem::take(&mut s.queue)
                } else {
                    VecDeque::new()
                }
            };
            for task in orphans {
                task(fail(ErrorCode::ProverOverloaded, format!("cannot start a thread: {e}")));
            }
        }
    }

    fn work(&self) {
        loop {
            let task = {
                let mut s = lock(&self.state);
                match s.queue.pop_front() {
                    Some(task) => task,
                    None => {
                        s.threads -= 1;
                        return;
                    }
                }
            };
            task(Ok(()));
        }
    }

    pub fn status(&self) -> TaskStatus {
        let s = lock(&self.state);
        TaskStatus { threads: s.threads, max_threads: self.max_threads, queued: s.queue.len(), max_queued: self.max_queued }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn runs_on_at_most_max_threads_refuses_past_the_queue_and_keeps_no_idle_thread() {
        static POOL: TaskPool = TaskPool::new(2, 3);
        let (release, hold) = mpsc::channel::<()>();
        let hold = std::sync::Arc::new(Mutex::new(hold));
        let (tx, rx) = mpsc::channel();
        for i in 0..6 {
            while i == 2 && POOL.status().queued > 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let (hold, tx) = (hold.clone(), tx.clone());
            POOL.spawn(
                move || {
                    if i < 2 {
                        lock(&hold).recv().unwrap();
                    }
                    Ok(i)
                },
                move |r| tx.send(r.map_err(|e| e.code)).unwrap(),
            );
        }
        // Two run, three wait, the sixth is refused at once.
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Err(ErrorCode::ProverOverloaded));
        assert_eq!(POOL.status(), TaskStatus { threads: 2, max_threads: 2, queued: 3, max_queued: 3 });
        release.send(()).unwrap();
        release.send(()).unwrap();
        let mut done: Vec<i32> = (0..5).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap().unwrap()).collect();
        done.sort();
        assert_eq!(done, vec![0, 1, 2, 3, 4]);
        while POOL.status().threads > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let (tx, rx) = mpsc::channel();
        POOL.spawn(|| -> Result<()> { panic!("boom") }, move |r| tx.send(r.unwrap_err().code).unwrap());
        assert_eq!(rx.recv().unwrap(), ErrorCode::ProverPanic);
    }
}
