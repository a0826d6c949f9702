//! Short transactions whose BEGIN travels with their first statement and whose COMMIT
//! may travel with their last.

use crate::Result;
use crate::error::StoreError;
use deadpool_postgres::Client;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// A transaction whose BEGIN travels with its first statement and whose COMMIT may
/// travel with its last: tokio-postgres pipelines requests issued together on one
/// connection, and the server runs them in order, so a short transaction spends one
/// round trip on BEGIN and COMMIT instead of two. Dropped unfinished (an error
/// returned early, or the request's future dropped) it queues ROLLBACK on the
/// connection the way tokio-postgres's own transactions do, before the connection can
/// serve anyone else.
pub(super) struct Tx<'a> {
    c: &'a Client,
    done: bool,
}

impl<'a> Tx<'a> {
    /// BEGIN and `sql` (at most one row) in one round trip.
    pub(super) async fn begin(
        c: &'a Client,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<(Tx<'a>, Option<Row>)> {
        // Prepared (a round trip the first time only) before BEGIN is sent.
        let st = c.prepare_cached(sql).await?;
        let tx = Tx { c, done: false };
        let (begun, row) = tokio::join!(c.batch_execute("BEGIN"), c.query_opt(&st, params));
        begun?;
        Ok((tx, row?))
    }

    pub(super) async fn commit(mut self) -> Result<()> {
        self.done = true;
        self.c.batch_execute("COMMIT").await?;
        Ok(())
    }

    /// `sql` (exactly one row) and COMMIT in one round trip. Only for a statement
    /// whose success is the whole decision: COMMIT is sent before its answer is read
    /// (after a failed statement PostgreSQL answers it by rolling back).
    pub(super) async fn commit_with(
        mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row> {
        let st = self.c.prepare_cached(sql).await?;
        self.done = true;
        let (rows, committed) =
            tokio::join!(self.c.query(&st, params), self.c.batch_execute("COMMIT"));
        let mut rows = rows?;
        committed?;
        match rows.pop() {
            Some(r) if rows.is_empty() => Ok(r),
            _ => Err(StoreError::Database(format!(
                "expected one row from a committed statement, got {}",
                rows.len() + 1
            ))),
        }
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.c.__private_api_rollback(None);
        }
    }
}
