-- Provisioning metering (billing slice C). Kept last: the "pending migration" fault leaves it unapplied.
CREATE TABLE billing_provisioning_usage_records (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  node_instance_id uuid NOT NULL REFERENCES system_node_instances (id) ON DELETE CASCADE,
  event text NOT NULL CHECK (event IN ('running', 'terminated')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rolled_up')),
  hourly_price numeric(10, 4) NOT NULL,
  metered_at timestamptz NOT NULL DEFAULT now(),
  rolled_up_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (node_instance_id, event)
);
CREATE INDEX billing_provisioning_usage_records_account_idx ON billing_provisioning_usage_records (account_id);
