-- Polls, votes and tallies (MySQL 8.0 and MariaDB 10.11: no MariaDB-only SQL). Times
-- are milliseconds since the epoch (UTC) and every integer is BIGINT, so the three
-- backends store and decode them the same way. Keys are VARCHAR: MySQL cannot index TEXT.
CREATE TABLE polls (
    id           VARCHAR(64)  NOT NULL PRIMARY KEY,
    question     TEXT         NOT NULL,
    options      TEXT         NOT NULL,           -- JSON array of the option texts
    option_count BIGINT       NOT NULL,
    created_at   BIGINT       NOT NULL,
    closes_at    BIGINT       NULL,
    closed_at    BIGINT       NULL,
    version      BIGINT       NOT NULL DEFAULT 0, -- +1 per vote that changed the tally
    total        BIGINT       NOT NULL DEFAULT 0, -- voters with a vote in the poll
    INDEX polls_newest (created_at, id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row per option, changed in the same transaction as the vote.
CREATE TABLE tallies (
    poll_id    VARCHAR(64) NOT NULL,
    option_idx BIGINT      NOT NULL,
    count      BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, option_idx),
    FOREIGN KEY (poll_id) REFERENCES polls (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One vote per voter per poll (invariant 1): the primary key is the guarantee.
CREATE TABLE votes (
    poll_id    VARCHAR(64) NOT NULL,
    voter_id   VARCHAR(64) NOT NULL,
    option_idx BIGINT      NOT NULL,
    node       VARCHAR(64) NOT NULL,              -- the node that handled the vote, for the audit
    voted_at   BIGINT      NOT NULL,
    PRIMARY KEY (poll_id, voter_id),
    FOREIGN KEY (poll_id) REFERENCES polls (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
