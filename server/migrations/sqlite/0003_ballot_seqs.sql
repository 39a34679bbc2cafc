-- The last per-voter sequence number applied on each poll (`seq` of a vote or a
-- withdrawal): a ballot applies only with a higher one, so a late retry of an older
-- choice never undoes a newer one. Kept apart from votes because a withdrawal deletes
-- the vote but must keep its seq. Only voters whose client sends a seq have a row.
CREATE TABLE ballot_seqs (
    poll_id  TEXT    NOT NULL REFERENCES polls (id),
    voter_id TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (poll_id, voter_id)
);
