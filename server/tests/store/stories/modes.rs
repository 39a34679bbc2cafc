//! Admission to `invite` and `per_address` polls, inside the vote transaction, on every
//! backend.

use votewire_proto::VotingMode;
use votewire_server::store::{Admission, PollRecord, Store, StoreError};
use votewire_testkit::votes::VoteOne;
use votewire_testkit::{Kind, TestDatabase};

use super::{poll, vote};

/// `voter` votes `option` with `admission`: whether it was counted, or why not.
async fn admitted(
    store: &dyn Store,
    p: &PollRecord,
    voter: &str,
    option: u32,
    admission: Admission,
) -> Result<bool, StoreError> {
    let mut command = vote(p, voter, Some(option), "n1");
    command.admission = admission;
    store.vote(command).await.map(|o| o.ballot.changed)
}

fn invite(code: &str) -> Admission {
    Admission {
        invite: Some(code.to_owned()),
        ..Admission::default()
    }
}

fn from(address: &str) -> Admission {
    Admission {
        address: Some(address.to_owned()),
        ..Admission::default()
    }
}

pub(super) async fn invite_and_per_address_polls_admit_whom_they_should(kind: Kind) {
    let Some(db) = TestDatabase::new(kind).await else {
        return;
    };
    let store: &dyn Store = &*db.store;
    let invited = PollRecord {
        mode: VotingMode::Invite,
        ..poll("invited", 2, None)
    };
    store.create_poll(&invited, None).await.unwrap();
    store
        .add_invites(&invited.id, &["h1".to_owned(), "h2".to_owned()])
        .await
        .unwrap();
    let none = Admission::default();
    assert_eq!(
        admitted(store, &invited, "a", 0, none.clone()).await,
        Err(StoreError::InviteRequired)
    );
    assert_eq!(
        admitted(store, &invited, "a", 0, invite("h1")).await,
        Ok(true)
    );
    assert_eq!(
        admitted(store, &invited, "b", 0, invite("h1")).await,
        Err(StoreError::InviteInvalid)
    );
    assert_eq!(
        admitted(store, &invited, "a", 1, none.clone()).await,
        Ok(true)
    );
    assert_eq!(
        admitted(store, &invited, "b", 1, invite("h2")).await,
        Ok(true)
    );
    assert_eq!(db.recount("invited", 2).await, vec![0, 2]);

    let per_address = PollRecord {
        mode: VotingMode::PerAddress,
        ..poll("peraddr", 2, None)
    };
    store.create_poll(&per_address, None).await.unwrap();
    assert_eq!(
        admitted(store, &per_address, "a", 0, from("x")).await,
        Ok(true)
    );
    assert_eq!(
        admitted(store, &per_address, "b", 0, from("x")).await,
        Err(StoreError::AddressAlreadyVoted)
    );
    assert_eq!(
        admitted(store, &per_address, "b", 1, from("y")).await,
        Ok(true)
    );
    assert_eq!(
        admitted(store, &per_address, "a", 1, from("x")).await,
        Ok(true)
    );
    assert_eq!(db.recount("peraddr", 2).await, vec![0, 2]);
    let read = store.poll(&per_address.id).await.unwrap();
    assert_eq!(read.poll.mode, VotingMode::PerAddress);
    db.drop_database().await;
}
