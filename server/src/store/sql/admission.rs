//! Who may vote in a poll that is not `open`, decided inside the vote transaction under
//! the poll's lock, so two voters racing for one address or one invite code cannot
//! both get in:
//! - `per_address`: the first voter from an address is admitted, and stays the one;
//!   another voter from it is refused;
//! - `invite`: a voter who holds an invite is admitted; one who brings an unused code
//!   gets it (bound for good) and is admitted; any other is refused.
//!
//! Withdrawals are never refused: a voter who is not admitted has no vote to withdraw.
//! One or two statements per ballot, on these polls only: they are the small ones
//! (boards, classrooms), where the per-ballot cost does not matter; `open` polls, the
//! viral ones, pay nothing.

use std::collections::HashMap;

use sqlx::{ColumnIndex, Decode, Encode, Executor, Transaction, Type};
use votewire_proto::{PollId, VotingMode};

use super::dialect::RowsAffected;
use super::{Dialect, SqlStore};
use crate::store::{Ballot, StoreError};

/// The bounds of the `Store` impl in `mod.rs` (see "The bounds" there).
impl<DB: Dialect> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    for<'v> i64: Type<DB> + Encode<'v, DB> + Decode<'v, DB>,
    for<'v> Option<i64>: Encode<'v, DB>,
    for<'v> Option<&'v str>: Encode<'v, DB>,
    for<'v> &'v str: Type<DB> + Encode<'v, DB>,
    for<'v> String: Type<DB> + Decode<'v, DB>,
{
    /// Per ballot, why it is refused (`None`: admitted), on a poll of `mode`.
    pub(super) async fn admit(
        &self,
        tx: &mut Transaction<'static, DB>,
        poll: &str,
        mode: VotingMode,
        ballots: &[Ballot],
    ) -> Result<Vec<Option<StoreError>>, StoreError> {
        let mut admitted: HashMap<&str, bool> = HashMap::new();
        let mut refusals = Vec::with_capacity(ballots.len());
        for ballot in ballots {
            if mode == VotingMode::Open || !ballot.choice.is_some() {
                refusals.push(None);
                continue;
            }
            let voter = ballot.voter.as_str();
            let refusal = match (admitted.get(voter), mode) {
                (Some(true), _) => None,
                (_, VotingMode::PerAddress) => self.admit_address(tx, poll, ballot).await?,
                _ => self.admit_invited(tx, poll, ballot).await?,
            };
            admitted.insert(voter, refusal.is_none());
            refusals.push(refusal);
        }
        Ok(refusals)
    }

    async fn admit_address(
        &self,
        tx: &mut Transaction<'static, DB>,
        poll: &str,
        ballot: &Ballot,
    ) -> Result<Option<StoreError>, StoreError> {
        let Some(address) = ballot.admission.address.as_deref() else {
            return Ok(Some(StoreError::AddressAlreadyVoted));
        };
        let holder: Option<(String,)> = sqlx::query_as(DB::SQL.select_address_voter)
            .bind(poll)
            .bind(address)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| self.write_error(e))?;
        match holder {
            Some((voter,)) if voter == ballot.voter => Ok(None),
            Some(_) => Ok(Some(StoreError::AddressAlreadyVoted)),
            None => {
                sqlx::query(DB::SQL.insert_address_voter)
                    .bind(poll)
                    .bind(address)
                    .bind(ballot.voter.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(|e| self.write_error(e))?;
                Ok(None)
            }
        }
    }

    async fn admit_invited(
        &self,
        tx: &mut Transaction<'static, DB>,
        poll: &str,
        ballot: &Ballot,
    ) -> Result<Option<StoreError>, StoreError> {
        let held: Vec<(String,)> = sqlx::query_as(DB::SQL.select_invited)
            .bind(poll)
            .bind(ballot.voter.as_str())
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| self.write_error(e))?;
        if !held.is_empty() {
            return Ok(None);
        }
        let Some(code) = ballot.admission.invite.as_deref() else {
            return Ok(Some(StoreError::InviteRequired));
        };
        let redeemed = sqlx::query(DB::SQL.redeem_invite)
            .bind(ballot.voter.as_str())
            .bind(poll)
            .bind(code)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.write_error(e))?;
        Ok((redeemed.rows_affected() != 1).then_some(StoreError::InviteInvalid))
    }

    /// Adds unused invite codes (digests) to `poll`.
    pub(super) async fn insert_invites(
        &self,
        poll: &PollId,
        code_hashes: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for code in code_hashes {
            sqlx::query(DB::SQL.insert_invite)
                .bind(poll.as_str())
                .bind(code.as_str())
                .execute(&mut *tx)
                .await
                .map_err(|e| self.write_error(e))?;
        }
        tx.commit().await.map_err(|e| self.write_error(e))
    }
}
