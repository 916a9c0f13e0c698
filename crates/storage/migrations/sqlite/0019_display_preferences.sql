-- What pages show in: each person's units (lengths, body mass, force and power absolute or per
-- kilogram) and the organisation's time zone (an IANA name). Stored values stay SI and UTC.
-- Keep in step with the other backend's 0019_display_preferences.sql.
ALTER TABLE users ADD COLUMN length_unit TEXT NOT NULL DEFAULT 'cm'
    CHECK (length_unit IN ('cm', 'in'));
ALTER TABLE users ADD COLUMN mass_unit TEXT NOT NULL DEFAULT 'kg'
    CHECK (mass_unit IN ('kg', 'lb'));
ALTER TABLE users ADD COLUMN force_unit TEXT NOT NULL DEFAULT 'n_per_kg'
    CHECK (force_unit IN ('n', 'n_per_kg'));
ALTER TABLE organizations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
