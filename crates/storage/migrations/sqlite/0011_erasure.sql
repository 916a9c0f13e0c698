-- Erasure by crypto-shredding: the subject's key is destroyed in the key store (apart from this
-- database) and the row stays as a tombstone, so its sealed identifiers are unreadable here and
-- in every backup. Keep in step with the other backend's 0011_erasure.sql.
ALTER TABLE subjects ADD COLUMN erased_at_ms INTEGER;
