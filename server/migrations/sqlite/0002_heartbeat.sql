-- The replication heartbeat: one row that nodes set to their clock (ms since the
-- epoch) every HEARTBEAT_INTERVAL. Replication carries it to the read replicas, where
-- "now - beat_at" is how far behind they are. Kept on SQLite too so that every backend
-- has the same schema (a SQLite file copied elsewhere can serve as a replica).
CREATE TABLE heartbeat (
    id      INTEGER PRIMARY KEY NOT NULL,
    beat_at INTEGER NOT NULL
);

INSERT INTO heartbeat (id, beat_at) VALUES (1, 0);
