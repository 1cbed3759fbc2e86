//! Locks that survive a panic elsewhere. Every panic below the prover is caught and reported as a
//! typed error, so a poisoned lock only means some other call failed; its data is still
//! consistent (each critical section here is a few assignments), and `expect` on it would turn
//! one failed call into an abort of the whole process.
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

pub fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}
