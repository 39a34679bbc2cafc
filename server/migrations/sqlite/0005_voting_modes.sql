-- Who may vote (`open`, `per_address`, `invite`), chosen at creation; existing polls
-- are open. The vote transaction reads it with the poll's lock and, for the other two
-- modes, admits each voter through one of the tables below, under the same lock.
ALTER TABLE polls ADD COLUMN mode TEXT NOT NULL DEFAULT 'open';

-- per_address: the one voter of each client address (a keyed digest, never the address).
CREATE TABLE address_voters (
    poll_id  TEXT NOT NULL,
    address  TEXT NOT NULL,
    voter_id TEXT NOT NULL,
    PRIMARY KEY (poll_id, address)
);

-- invite: the owner's codes (their SHA-256, never the code), each bound to the first
-- voter who votes with it.
CREATE TABLE invites (
    poll_id   TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    voter_id  TEXT NULL,
    PRIMARY KEY (poll_id, code_hash)
);

CREATE INDEX invites_by_voter ON invites (poll_id, voter_id);
