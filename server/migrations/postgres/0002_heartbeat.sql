-- The replication heartbeat: one row that nodes set to their clock (ms since the
-- epoch) every HEARTBEAT_INTERVAL. Replication carries it to the read replicas, where
-- "now - beat_at" is how far behind they are.
CREATE TABLE heartbeat (
    id      BIGINT PRIMARY KEY,
    beat_at BIGINT NOT NULL
);

INSERT INTO heartbeat (id, beat_at) VALUES (1, 0);
