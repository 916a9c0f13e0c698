-- Each checkpoint names the version of the installation root whose key signed it, so that after
-- the root is rotated `mhp audit verify` checks it against that version's public key. Rows
-- signed before this column existed were signed by version 1.
ALTER TABLE audit_checkpoints ADD COLUMN key_version INTEGER;
