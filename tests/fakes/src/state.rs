//! Shared state: the journal, the fault queue, the configuration and each service's world.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::faults::Faults;
use crate::journal::Journal;
use crate::{aio, github, octane, testnod, testomatio};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub started: Instant,
    pub journal: Mutex<Journal>,
    pub faults: Mutex<Faults>,
    pub testnod: Mutex<testnod::World>,
    pub github: Mutex<github::World>,
    pub testomatio: Mutex<testomatio::World>,
    pub aio: Mutex<aio::World>,
    pub octane: Mutex<octane::World>,
}

impl AppState {
    pub fn new() -> AppState {
        AppState(Arc::new(Inner {
            started: Instant::now(),
            journal: Mutex::default(),
            faults: Mutex::default(),
            testnod: Mutex::default(),
            github: Mutex::default(),
            testomatio: Mutex::default(),
            aio: Mutex::default(),
            octane: Mutex::default(),
        }))
    }

    pub fn inner(&self) -> &Inner {
        &self.0
    }

    /// Forgets every request, fault, stored object and configuration change.
    pub fn reset(&self) {
        lock(&self.0.journal).clear();
        lock(&self.0.faults).clear();
        *lock(&self.0.testnod) = testnod::World::default();
        *lock(&self.0.github) = github::World::default();
        *lock(&self.0.testomatio) = testomatio::World::default();
        *lock(&self.0.aio) = aio::World::default();
        *lock(&self.0.octane) = octane::World::default();
    }
}

/// Locks a mutex; a handler that panicked while holding it leaves data a test may still inspect.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
