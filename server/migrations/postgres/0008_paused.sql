-- 1 while the poll's owner paused voting: the vote transaction refuses the batch
-- (poll_paused). Pausing and resuming raise the poll's version, so the state travels
-- with the tally to every node and client.
ALTER TABLE polls ADD COLUMN paused BIGINT NOT NULL DEFAULT 0;
