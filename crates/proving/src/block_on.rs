//! Runs midnight's async proving API to completion on the calling thread.
//!
//! Its futures never wait on I/O here: the only await is `ParamsProverProvider::get_params`,
//! which `ReadyParams` answers from memory. An executor would add nothing but a re-entrancy
//! check: `futures_executor::block_on` panics when a rayon worker, waiting inside one proof,
//! steals another proof's job and enters it on the same stack (seen with maxConcurrent = 2).
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        // Not expected with ReadyParams; polling again is all a waker would do for us.
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nests_inside_itself() {
        assert_eq!(block_on(async { block_on(async { 41 }) + 1 }), 42);
    }
}
