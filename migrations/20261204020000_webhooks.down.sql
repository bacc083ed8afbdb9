DROP TABLE webhook_deliveries;
DROP TABLE deployment_webhooks;
ALTER TABLE releases DROP COLUMN requested_commit;
