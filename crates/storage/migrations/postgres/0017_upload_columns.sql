-- The column map an upload gave for a delimited file whose header MHP does not recognise
-- (`time_s,force`: mhp_biomech::ColumnMap's text form), so a reanalysis reads the columns as
-- the upload did. NULL: the header's names were read. Keep in step with the other backend's
-- 0017_upload_columns.sql.
ALTER TABLE assessments ADD COLUMN declared_columns TEXT;
