//! The migration lock: a session advisory lock on a connection of its own, taken by polling.
//!
//! Never `pg_advisory_lock`: a session blocked in it holds a snapshot, and `CREATE INDEX
//! CONCURRENTLY` in the run that holds the lock waits for that snapshot forever.

use std::time::{Duration, Instant};

use rand::Rng;
use tokio_postgres::Client;

use crate::PgError;
use crate::history::simple;

/// `"shipline"` in ASCII, as a bigint: the key every shipline run locks.
pub const LOCK_KEY: i64 = 0x7368_6970_6c69_6e65;

/// The held lock; released by `release` or when its session ends.
pub struct Lock {
    client: Client,
}

impl Lock {
    /// Polls until the lock is free or `wait` has passed.
    pub async fn acquire(client: Client, wait: Duration) -> Result<Lock, PgError> {
        let started = Instant::now();
        loop {
            let rows = simple(
                &client,
                &format!("SELECT pg_try_advisory_lock({LOCK_KEY})"),
                "taking the migration lock",
            )
            .await?;
            if rows.first().and_then(|r| r.get(0)) == Some("t") {
                return Ok(Lock { client });
            }
            if started.elapsed() >= wait {
                return Err(PgError::Locked {
                    key: LOCK_KEY,
                    objid: (LOCK_KEY & 0xffff_ffff) as u32,
                    waited_s: started.elapsed().as_secs(),
                });
            }
            let pause = Duration::from_millis(200 + rand::rng().random_range(0..200));
            tokio::time::sleep(pause.min(wait.saturating_sub(started.elapsed()))).await;
        }
    }

    pub async fn release(self) -> Result<(), PgError> {
        simple(
            &self.client,
            &format!("SELECT pg_advisory_unlock({LOCK_KEY})"),
            "releasing the migration lock",
        )
        .await
        .map(|_| ())
    }
}
