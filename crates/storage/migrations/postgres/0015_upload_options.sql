-- What an upload said about reading its file (a sampling rate for a file without one, the test
-- kind when the file does not say), so that a reanalysis reads the stored raw file exactly as
-- the upload did. NULL: the file said it all. Keep in step with the other backend's
-- 0015_upload_options.sql.
ALTER TABLE assessments ADD COLUMN declared_sample_rate_hz DOUBLE PRECISION;
ALTER TABLE assessments ADD COLUMN declared_kind TEXT;
