-- A rotated API key's previous secret (its SHA-256) still authenticates until
-- `previous_expires_at_ms`, so that a device or an integration can change over without a gap.
-- The same key is also an OAuth 2.0 client (client credentials grant): its id is the client id.
ALTER TABLE api_keys ADD COLUMN previous_secret_sha256 BLOB;
ALTER TABLE api_keys ADD COLUMN previous_expires_at_ms INTEGER;
