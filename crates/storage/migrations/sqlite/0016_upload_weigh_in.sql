-- What else an upload said about the athlete and the test: a recent weigh-in (kg), used when the
-- recording has no quiet standing to weigh them, and the box height (m) of drop jumps. Stored so
-- a reanalysis reads the file as the upload did. NULL: not given. Keep in step with the other
-- backend's 0016_upload_weigh_in.sql.
ALTER TABLE assessments ADD COLUMN declared_body_mass_kg REAL;
ALTER TABLE assessments ADD COLUMN declared_box_height_m REAL;
