-- Who sees the poll's counts: live, after_vote, after_close or hidden. Existing polls
-- show them live. A change by the owner raises the version, so it travels with the
-- tally to every node and client.
ALTER TABLE polls ADD COLUMN results VARCHAR(16) NOT NULL DEFAULT 'live';
