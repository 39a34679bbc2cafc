-- The latest ingest stream entry handled for each voter on each poll (stream mode: a
-- Redis Streams id `ms-n` as ms * 2^20 + n; 0 when none). A ballot without a `seq` applies
-- only with a later entry, so an entry a worker committed twice, or claimed after a
-- later one, changes nothing. A voter who sent an entry but no `seq` yet has seq -1.
ALTER TABLE ballot_seqs ADD COLUMN entry BIGINT NOT NULL DEFAULT 0;
