-- The trace that enqueued a run (a W3C traceparent: ids only), so that its steps' spans link
-- back to the request that asked for it. NULL when spans were not exported.
ALTER TABLE pipeline_runs ADD COLUMN traceparent TEXT;
