-- Who may vote (`open`, `per_address`, `invite`), chosen at creation; existing polls
-- are open. The vote transaction reads it with the poll's lock and, for the other two
-- modes, admits each voter through one of the tables below, under the same lock.
ALTER TABLE polls ADD COLUMN mode VARCHAR(16) NOT NULL DEFAULT 'open';

-- per_address: the one voter of each client address (a keyed digest, never the address).
CREATE TABLE address_voters (
    poll_id  VARCHAR(64) NOT NULL,
    address  VARCHAR(64) NOT NULL,
    voter_id VARCHAR(64) NOT NULL,
    PRIMARY KEY (poll_id, address)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- invite: the owner's codes (their SHA-256, never the code), each bound to the first
-- voter who votes with it.
CREATE TABLE invites (
    poll_id   VARCHAR(64) NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    voter_id  VARCHAR(64) NULL,
    PRIMARY KEY (poll_id, code_hash)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE INDEX invites_by_voter ON invites (poll_id, voter_id);
