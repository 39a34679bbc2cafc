-- The replication heartbeat (MySQL 8.0 and MariaDB 10.11: no MariaDB-only SQL): one
-- row that nodes set to their clock (ms since the epoch) every HEARTBEAT_INTERVAL.
-- Replication carries it to the read replicas, where "now - beat_at" is how far behind
-- they are.
CREATE TABLE heartbeat (
    id      BIGINT NOT NULL PRIMARY KEY,
    beat_at BIGINT NOT NULL
) ENGINE = InnoDB;

INSERT INTO heartbeat (id, beat_at) VALUES (1, 0);
