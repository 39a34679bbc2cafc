-- Polls, votes and tallies. Times are milliseconds since the epoch (UTC) and every
-- integer is BIGINT, so the three backends store and decode them the same way.
CREATE TABLE polls (
    id           TEXT    PRIMARY KEY,
    question     TEXT    NOT NULL,
    options      TEXT    NOT NULL,           -- JSON array of the option texts
    option_count BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    closes_at    BIGINT,
    closed_at    BIGINT,
    version      BIGINT  NOT NULL DEFAULT 0, -- +1 per vote that changed the tally
    total        BIGINT  NOT NULL DEFAULT 0  -- voters with a vote in the poll
);

CREATE INDEX polls_newest ON polls (created_at DESC, id DESC);

-- One row per option, changed in the same transaction as the vote.
CREATE TABLE tallies (
    poll_id    TEXT   NOT NULL REFERENCES polls (id),
    option_idx BIGINT NOT NULL,
    count      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (poll_id, option_idx)
);

-- One vote per voter per poll (invariant 1): the primary key is the guarantee.
CREATE TABLE votes (
    poll_id    TEXT   NOT NULL REFERENCES polls (id),
    voter_id   TEXT   NOT NULL,
    option_idx BIGINT NOT NULL,
    node       TEXT   NOT NULL,               -- the node that handled the vote, for the audit
    voted_at   BIGINT NOT NULL,
    PRIMARY KEY (poll_id, voter_id)
);
