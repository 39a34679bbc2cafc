-- Every new poll gets a join code people can type (six characters, unique: the creation
-- draws another when one is taken); polls made before have none. `listed` = 0 keeps a
-- poll off the list of open polls.
ALTER TABLE polls ADD COLUMN join_code VARCHAR(8) NULL;
ALTER TABLE polls ADD COLUMN listed BIGINT NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX polls_by_join_code ON polls (join_code);
