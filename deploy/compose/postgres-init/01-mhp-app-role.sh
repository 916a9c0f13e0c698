#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised. The application's role must not
# bypass row-level security: NOSUPERUSER NOBYPASSRLS (README, docs/design/tenancy.md).
set -eu
psql -v ON_ERROR_STOP=1 -v app_password="$MHP_APP_DB_PASSWORD" \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE mhp_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
GRANT CONNECT, TEMPORARY ON DATABASE mhp TO mhp_app;
GRANT USAGE, CREATE ON SCHEMA public TO mhp_app;
-- The key store: wrapped keys and the installation root, in a database apart from the system of
-- record so that its backups never carry a key.
CREATE DATABASE mhp_keys OWNER mhp_app;
SQL
