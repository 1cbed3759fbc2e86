//! Runs work on the prover's own rayon pool.
//!
//! Proofs go through a FIFO queue served by `max_concurrent` driver threads, each of which hands
//! one proof at a time to the pool with `install`; midnight-proofs' parallel loops then run on
//! the pool's threads. Feeding the pool this way (instead of `spawn`ing every proof into it)
//! keeps proofs from being started by workers that are merely waiting inside another proof.
//! Short tasks (check, verify, loading) are `spawn`ed straight onto the pool.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    active: usize,
    shut_down: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wakeup: Condvar,
}

pub struct Scheduler {
    pool: Arc<rayon::ThreadPool>,
    shared: Arc<Shared>,
}

/// Set when the caller no longer wants the result; checked before queued work starts.
#[derive(Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl Scheduler {
    pub fn new(threads: usize, max_concurrent: usize) -> std::io::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("mnp-prover-{i}"))
            .build()
            .map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared { queue: Mutex::new(Queue::default()), wakeup: Condvar::new() });
        let pool = Arc::new(pool);
        for i in 0..max_concurrent.max(1) {
            let (shared, pool) = (shared.clone(), pool.clone());
            std::thread::Builder::new()
                .name(format!("mnp-driver-{i}"))
                .spawn(move || drive(&shared, &pool))?;
        }
        Ok(Scheduler { pool, shared })
    }

    /// Queues a proof; it runs when a driver is free, in submission order.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        self.shared.queue.lock().expect("queue lock").jobs.push_back(Box::new(job));
        self.shared.wakeup.notify_one();
    }

    /// Runs a short task on the pool right away.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        self.pool.spawn(job);
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// (running, waiting) proofs.
    pub fn depth(&self) -> (usize, usize) {
        let q = self.shared.queue.lock().expect("queue lock");
        (q.active, q.jobs.len())
    }
}

impl Drop for Scheduler {
    /// Drivers finish what is queued, then exit; nothing here blocks the dropping thread.
    fn drop(&mut self) {
        self.shared.queue.lock().expect("queue lock").shut_down = true;
        self.shared.wakeup.notify_all();
    }
}

fn drive(shared: &Shared, pool: &rayon::ThreadPool) {
    loop {
        let job = {
            let mut q = shared.queue.lock().expect("queue lock");
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    q.active += 1;
                    break job;
                }
                if q.shut_down {
                    return;
                }
                q = shared.wakeup.wait(q).expect("queue lock");
            }
        };
        // Jobs report their own panics; this only keeps the driver alive if one slips through.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.install(job)));
        shared.queue.lock().expect("queue lock").active -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn proofs_run_fifo_on_the_pool_with_bounded_concurrency() {
        let sched = Scheduler::new(2, 1).unwrap();
        let (tx, rx) = mpsc::channel();
        for i in 0..5 {
            let tx = tx.clone();
            sched.submit(move || {
                let name = std::thread::current().name().unwrap_or("").to_owned();
                std::thread::sleep(std::time::Duration::from_millis(5));
                tx.send((i, name)).unwrap();
            });
        }
        let got: Vec<(i32, String)> = (0..5).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert!(got.iter().all(|g| g.1.starts_with("mnp-prover-")), "{got:?}");
        assert_eq!(sched.threads(), 2);
    }
}
