-- The body mass an earlier assessment of the athlete measured (kg), used to weigh a recording
-- that has no quiet standing when the upload gave no weigh-in (flagged
-- body_weight_from_earlier_assessment). Stored so a reanalysis weighs the file alike. NULL: none
-- was needed or none was found. Keep in step with the other backend's 0028_earlier_weigh_in.sql.
ALTER TABLE assessments ADD COLUMN earlier_body_mass_kg DOUBLE PRECISION;
