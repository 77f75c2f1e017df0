-- Variant cloud_id_in_config (CONTRACT 9): public Powernode keeps the Vultr id in the instance's
-- config, not in a column of its own, and every NodeInstance belongs to a node. Applied only to a
-- new database, after the numbered migrations, so the table is still empty.
ALTER TABLE system_node_instances DROP COLUMN provider_instance_id;
ALTER TABLE system_node_instances ADD COLUMN config jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE system_node_instances ADD COLUMN node_id uuid NOT NULL;
