//! The messages a report calls for, queued in the reports database in the same transaction as
//! the report or its step, then delivered at least once: a deliverer claims the due ones for a
//! lease (another deliverer, or itself after a restart, leaves them alone until the lease ends),
//! marks each sent, or failed with its error and the time to try again; after
//! [`MAX_ATTEMPTS`] a delivery is given up and stays listed for an administrator to replay.

use rusqlite::{Transaction, TransactionBehavior};

use crate::error::Result;
pub use crate::requests::{Contact, Recipient};
use crate::requests::{Db, P, RequestStore, Status, ot, pg_params, pg_sql, t};

/// Tries before a delivery is given up (kept, listed, replayable).
pub const MAX_ATTEMPTS: i64 = 8;

/// A queued message: which report and which of its steps, to whom, and how its delivery goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub id: i64,
    pub report_id: i64,
    pub role: String,
    pub recipient: String,
    /// The status the step moved the report to.
    pub status: Status,
    /// When the step was made.
    pub at: String,
    pub note: Option<String>,
    pub attempts: i64,
    /// When it is tried next; none once sent or given up.
    pub next_at: Option<String>,
    pub sent_at: Option<String>,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "id, report_id, role, recipient, status, at, note, attempts, next_at, sent_at, last_error";

macro_rules! delivery_row {
    ($r:ident . $get:ident) => {
        Delivery {
            id: $r.$get(0)?,
            report_id: $r.$get(1)?,
            role: $r.$get(2)?,
            recipient: $r.$get(3)?,
            status: $r.$get::<_, crate::requests::Parsed<Status>>(4)?.0,
            at: $r.$get(5)?,
            note: $r.$get(6)?,
            attempts: i64::from($r.$get::<_, i32>(7)?),
            next_at: $r.$get(8)?,
            sent_at: $r.$get(9)?,
            last_error: $r.$get(10)?,
        }
    };
}

impl RequestStore {
    /// The reporter's contact of report `id`.
    pub fn contact(&self, id: i64) -> Result<Option<Contact>> {
        const SQL: &str = "SELECT email, name, phone FROM report_contacts WHERE report_id = ?1";
        match &self.db {
            Db::Sqlite(conn) => {
                let mut st = conn.prepare(SQL)?;
                let mut rows =
                    st.query_map([id], |r| Ok(Contact { email: r.get(0)?, name: r.get(1)?, phone: r.get(2)? }))?;
                Ok(rows.next().transpose()?)
            }
            Db::Pg(pg) => Ok(pg.client()?.query_opt(&pg_sql(SQL), &[&id])?.map(|r| Contact {
                email: r.get(0),
                name: r.get(1),
                phone: r.get(2),
            })),
        }
    }

    /// Claims up to `limit` deliveries due at `now` until `lease_until` (only the webhooks'
    /// with `webhooks_only`: a deliverer with no mail server): each is tried once more (its
    /// attempts counted now), and no one claims it again before the lease ends.
    pub fn claim_due(
        &mut self,
        now: &str,
        lease_until: &str,
        limit: usize,
        webhooks_only: bool,
    ) -> Result<Vec<Delivery>> {
        const LEASE: &str = "UPDATE report_deliveries SET next_at = ?2, attempts = attempts + 1 WHERE id = ?1";
        let only = if webhooks_only { " AND role LIKE 'webhook:%'" } else { "" };
        let pick = format!(
            "SELECT {COLUMNS} FROM report_deliveries WHERE sent_at IS NULL AND next_at IS NOT NULL AND next_at <= ?1{only} \
             ORDER BY id LIMIT {limit}"
        );
        match &mut self.db {
            Db::Sqlite(conn) => {
                let tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
                let picked: Vec<Delivery> = {
                    let mut st = tx.prepare(&pick)?;
                    st.query_map([now], |r| Ok(delivery_row!(r.get)))?.collect::<rusqlite::Result<_>>()?
                };
                for d in &picked {
                    tx.execute(LEASE, rusqlite::params![d.id, lease_until])?;
                }
                tx.commit()?;
                Ok(picked.into_iter().map(|d| Delivery { attempts: d.attempts + 1, ..d }).collect())
            }
            Db::Pg(pg) => {
                let mut client = pg.client()?;
                let mut tx = client.transaction()?;
                // Servers sharing the store: each row is claimed by one of them.
                let picked: Vec<Delivery> = tx
                    .query(&format!("{} FOR UPDATE SKIP LOCKED", pg_sql(&pick)), &[&now])?
                    .iter()
                    .map(|r| Ok(delivery_row!(r.try_get)))
                    .collect::<std::result::Result<_, postgres::Error>>()?;
                for d in &picked {
                    tx.execute(&pg_sql(LEASE), &[&d.id, &lease_until])?;
                }
                tx.commit()?;
                Ok(picked.into_iter().map(|d| Delivery { attempts: d.attempts + 1, ..d }).collect())
            }
        }
    }

    /// Marks delivery `id` sent at `at`.
    pub fn delivered(&mut self, id: i64, at: &str) -> Result<()> {
        self.exec(
            "UPDATE report_deliveries SET sent_at = ?2, next_at = NULL, last_error = NULL WHERE id = ?1",
            &[P::I(id), t(at)],
        )
    }

    /// Marks delivery `id` failed with `error`, to try again at `retry_at` (none: given up).
    pub fn failed(&mut self, id: i64, error: &str, retry_at: Option<&str>) -> Result<()> {
        self.exec(
            "UPDATE report_deliveries SET last_error = ?2, next_at = ?3 WHERE id = ?1",
            &[P::I(id), t(error), ot(retry_at)],
        )
    }

    /// Puts the given-up deliveries back in the queue, due at `at` (an administrator's replay);
    /// returns how many.
    pub fn replay(&mut self, at: &str) -> Result<usize> {
        const SQL: &str =
            "UPDATE report_deliveries SET next_at = ?1, attempts = 0 WHERE sent_at IS NULL AND next_at IS NULL";
        match &mut self.db {
            Db::Sqlite(conn) => Ok(conn.execute(SQL, [at])?),
            Db::Pg(pg) => Ok(usize::try_from(pg.client()?.execute(&pg_sql(SQL), &[&at])?).unwrap_or(usize::MAX)),
        }
    }

    /// The deliveries, newest first: all, or those not sent yet (queued, retried or given up).
    pub fn deliveries(&self, unsent_only: bool) -> Result<Vec<Delivery>> {
        let filter = if unsent_only { " WHERE sent_at IS NULL" } else { "" };
        let sql = format!("SELECT {COLUMNS} FROM report_deliveries{filter} ORDER BY id DESC LIMIT 10000");
        match &self.db {
            Db::Sqlite(conn) => {
                let mut st = conn.prepare(&sql)?;
                let rows = st.query_map([], |r| Ok(delivery_row!(r.get)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            }
            Db::Pg(pg) => Ok(pg
                .client()?
                .query(&sql, &[])?
                .iter()
                .map(|r| Ok(delivery_row!(r.try_get)))
                .collect::<std::result::Result<_, postgres::Error>>()?),
        }
    }

    fn exec(&mut self, sql: &str, ps: &[P]) -> Result<()> {
        match &mut self.db {
            Db::Sqlite(conn) => {
                conn.execute(sql, rusqlite::params_from_iter(ps.iter().map(P::sqlite)))?;
            }
            Db::Pg(pg) => {
                pg.client()?.execute(&pg_sql(sql), &pg_params(ps))?;
            }
        }
        Ok(())
    }
}
