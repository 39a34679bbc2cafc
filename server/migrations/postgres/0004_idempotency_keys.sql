-- Idempotency-Key of poll creations: a retried POST /api/polls (nginx, a client whose
-- answer was lost) finds the poll its key made instead of making another, on any node.
-- Rows older than the configured retention (24 h by default) are deleted by later
-- creations. request_hash tells a retry from another request reusing the key.
CREATE TABLE idempotency_keys (
    idem_key     VARCHAR(255) NOT NULL PRIMARY KEY,
    request_hash VARCHAR(64)  NOT NULL,
    poll_id      VARCHAR(64)  NOT NULL,
    created_at   BIGINT       NOT NULL
);

CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
