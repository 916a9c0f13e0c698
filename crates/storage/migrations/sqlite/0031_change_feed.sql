-- An organisation's change feed reads its audit events of changes in delivery order
-- (`tx_id`, then `seq`) after a client's cursor.
CREATE INDEX audit_events_org_delivery ON audit_events (org_id, tx_id, seq);
