-- Providers, regions, instance types, templates, credentials and node instances (system slice).
CREATE TABLE system_providers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid REFERENCES accounts (id) ON DELETE CASCADE, -- NULL only for the canonical platform row
  name text NOT NULL,
  provider_type text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX system_providers_account_type_idx ON system_providers (account_id, provider_type) WHERE account_id IS NOT NULL;
CREATE UNIQUE INDEX system_providers_platform_type_idx ON system_providers (provider_type) WHERE account_id IS NULL;

CREATE TABLE system_provider_regions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  provider_id uuid NOT NULL REFERENCES system_providers (id) ON DELETE CASCADE,
  name text NOT NULL,
  region_code text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, region_code)
);

CREATE TABLE system_provider_instance_types (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  provider_id uuid NOT NULL REFERENCES system_providers (id) ON DELETE CASCADE,
  name text NOT NULL,
  instance_type_code text NOT NULL,
  vcpus integer NOT NULL,
  memory_mb integer NOT NULL,
  hourly_price numeric(10, 4) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, instance_type_code)
);

CREATE TABLE system_node_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, name)
);

CREATE TABLE system_provider_credentials (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid REFERENCES accounts (id) ON DELETE CASCADE, -- NULL for the platform pool
  provider_id uuid NOT NULL REFERENCES system_providers (id) ON DELETE CASCADE,
  scope integer NOT NULL CHECK (scope IN (0, 1)), -- 0 account_owned, 1 platform_pool
  credentials text NOT NULL, -- AES-256-GCM envelope, never plaintext
  key_last4 text NOT NULL,
  is_active boolean NOT NULL DEFAULT true,
  consecutive_failures integer NOT NULL DEFAULT 0,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 1) = (account_id IS NULL))
);
CREATE INDEX system_provider_credentials_account_idx ON system_provider_credentials (account_id);

CREATE TABLE system_node_instances (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  mission_id uuid,
  name text NOT NULL,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'provisioning', 'starting', 'running', 'stopping', 'stopped', 'terminated', 'error')),
  provider_instance_id text,
  provider_region_id uuid REFERENCES system_provider_regions (id) ON DELETE SET NULL,
  provider_instance_type_id uuid REFERENCES system_provider_instance_types (id) ON DELETE SET NULL,
  public_ip_address text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX system_node_instances_account_idx ON system_node_instances (account_id);
