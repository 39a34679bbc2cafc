-- Multiple choice: how many options a voter may choose (1: a single-choice poll, as
-- every poll before). A multiple-choice ballot's options are the bits of `choices`
-- (bit i: option i) and `option_idx` holds its lowest; a single-choice poll's rows leave
-- `choices` NULL, as they always were.
ALTER TABLE polls ADD COLUMN max_choices BIGINT NOT NULL DEFAULT 1;
ALTER TABLE votes ADD COLUMN choices BIGINT NULL;
