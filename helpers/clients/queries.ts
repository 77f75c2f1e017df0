/**
 * Every SQL statement the suite runs, against the contract's columns only (CONTRACT 5).
 * A real Powernode keeps the Vultr id elsewhere (`config->>'cloud_instance_id'`), so that one
 * expression comes from config (NODE_INSTANCE_PROVIDER_ID_SQL, validated as a column or a
 * column->>'key'), and its NodeInstance rows need more columns than the runbook's
 * (NODE_INSTANCE_INSERT, helpers/dialect/node-instances.ts). Every row is parsed with zod before
 * anyone reads it.
 */
import { z } from 'zod';
import { NODE_INSTANCE_INSERTS, type NodeInstanceInsert } from '../dialect/node-instances';
import {
  accountRowSchema,
  aiProviderRowSchema,
  bootstrapCountsRowSchema,
  credentialRowSchema,
  inFlightMissionRowSchema,
  missionRowSchema,
  nodeInstanceRowSchema,
  planRowSchema,
  runAccountRowSchema,
  schemaColumnRowSchema,
  subscriptionRowSchema,
  usageRecordRowSchema,
  userRowSchema,
  type AccountRow,
  type AiProviderRow,
  type BootstrapCounts,
  type CredentialRow,
  type MissionRow,
  type NodeInstanceRow,
  type PlanRow,
  type RunAccountRow,
  type SubscriptionRow,
  type UsageRecordRow,
  type UserRow,
} from '../schemas';

/** A pg Pool or client: anything with `query`. */
export type Queryable = {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
};

/** The tables and columns the suite relies on; pre-flight reports any that are missing as pending migrations. */
export function requiredSchema(providerIdSql: string): Record<string, string[]> {
  const providerIdColumn = providerIdSql.split('->>')[0]!;
  return {
    schema_migrations: ['version'],
    accounts: ['id', 'name', 'status', 'stripe_customer_id', 'created_at'],
    users: ['id', 'account_id', 'email', 'name', 'password_digest', 'created_at'],
    saas_plans: ['id', 'slug', 'name', 'price_cents', 'limits'],
    subscriptions: ['id', 'account_id', 'saas_plan_id', 'status', 'stripe_subscription_id', 'created_at'],
    system_providers: ['id', 'account_id', 'name', 'provider_type', 'enabled'],
    system_provider_regions: ['id', 'account_id', 'provider_id', 'name', 'region_code'],
    system_provider_instance_types: ['id', 'account_id', 'provider_id', 'name', 'instance_type_code', 'hourly_price'],
    system_node_templates: ['id', 'account_id', 'name'],
    system_node_instances: [
      ...new Set([
        'id',
        'account_id',
        'mission_id',
        'name',
        'status',
        providerIdColumn,
        'provider_region_id',
        'provider_instance_type_id',
        'public_ip_address',
        'created_at',
      ]),
    ],
    system_provider_credentials: ['id', 'account_id', 'provider_id', 'scope', 'credentials', 'is_active', 'consecutive_failures', 'last_error'],
    billing_provisioning_usage_records: ['id', 'account_id', 'node_instance_id', 'event', 'status', 'hourly_price', 'metered_at'],
    ai_providers: ['id', 'name', 'current_quota_usage', 'quota_limit'],
    ai_missions: ['id', 'account_id', 'conversation_id', 'phase', 'status', 'brief', 'plan', 'error_code', 'created_at'],
  };
}

/** "table X" / "column X.Y" for each required item absent from the live schema. */
export function missingSchemaItems(required: Record<string, string[]>, present: { table_name: string; column_name: string }[]): string[] {
  const columnsByTable = new Map<string, Set<string>>();
  for (const { table_name, column_name } of present) {
    const columns = columnsByTable.get(table_name) ?? new Set<string>();
    columns.add(column_name);
    columnsByTable.set(table_name, columns);
  }
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(required)) {
    const have = columnsByTable.get(table);
    if (!have) {
      missing.push(`table ${table}`);
      continue;
    }
    for (const column of columns) if (!have.has(column)) missing.push(`column ${table}.${column}`);
  }
  return missing;
}

/** Escapes LIKE wildcards so an e-mail prefix matches literally. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function parseRows<S extends z.ZodType>(schema: S, rows: unknown[]): z.output<S>[] {
  return rows.map((row) => schema.parse(row));
}

/** Node instances the run still has at the cloud: created there and not yet gone or failed. */

export type NewNodeInstance = { accountId: string; name: string; status: NodeInstanceRow['status'] };

const deletedCountsSchema = z.object({ node_instances: z.number().int(), usage_records: z.number().int() });
const accountIdRowSchema = z.object({ account_id: z.string() });
const holdingRowSchema = z.object({ provider_instance_id: z.string().nullable() });
const visibleRowSchema = z.object({ visible: z.boolean() });

export function createQueries(db: Queryable, options: { providerIdSql: string; insert?: NodeInstanceInsert }) {
  const providerId = `(${options.providerIdSql})`;
  const insert = options.insert ?? NODE_INSTANCE_INSERTS.runbook;
  const nodeInstanceColumns = `id, account_id, mission_id::text AS mission_id, name, status,
    ${providerId} AS provider_instance_id, public_ip_address, created_at, updated_at`;

  return {
    async schemaColumns(tables: string[]): Promise<{ table_name: string; column_name: string }[]> {
      const { rows } = await db.query(
        `SELECT table_name::text AS table_name, column_name::text AS column_name
           FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = ANY($1::text[])`,
        [tables],
      );
      return parseRows(schemaColumnRowSchema, rows);
    },

    /** The versions schema_migrations lists (RUNBOOK pre-flight 1). */
    async appliedMigrations(): Promise<string[]> {
      const { rows } = await db.query('SELECT version::text AS version FROM schema_migrations');
      return parseRows(z.object({ version: z.string() }), rows).map((r) => r.version);
    },

    /** The account's price of an instance type (CONTRACT 5), or null when the account has no such type. */
    async instanceTypePrice(accountId: string, instanceTypeCode: string): Promise<number | null> {
      const { rows } = await db.query(
        'SELECT hourly_price FROM system_provider_instance_types WHERE account_id = $1 AND instance_type_code = $2',
        [accountId, instanceTypeCode],
      );
      return rows[0] === undefined ? null : z.object({ hourly_price: z.coerce.number() }).parse(rows[0]).hourly_price;
    },

    async plans(slugs: string[]): Promise<PlanRow[]> {
      const { rows } = await db.query('SELECT slug, name, price_cents, limits FROM saas_plans WHERE slug = ANY($1::text[]) ORDER BY slug', [slugs]);
      return parseRows(planRowSchema, rows);
    },

    /** RUNBOOK pre-flight 2's fix: add the runbook's limit keys, keeping any others the plan has. */
    async mergePlanLimits(slug: string, limits: Record<string, unknown>): Promise<number> {
      const { rowCount } = await db.query(
        `UPDATE saas_plans SET limits = COALESCE(limits, '{}'::jsonb) || $2::jsonb, updated_at = now() WHERE slug = $1`,
        [slug, JSON.stringify(limits)],
      );
      return rowCount ?? 0;
    },

    /** The operator-managed platform pool: scope 1, no account. */
    async platformPoolCredentials(): Promise<CredentialRow[]> {
      const { rows } = await db.query(
        `SELECT id, account_id, provider_id, scope, is_active, consecutive_failures, last_error
           FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL ORDER BY created_at`,
      );
      return parseRows(credentialRowSchema, rows);
    },

    async setCredentialsActive(ids: string[], active: boolean): Promise<number> {
      if (ids.length === 0) return 0;
      const { rowCount } = await db.query(
        'UPDATE system_provider_credentials SET is_active = $2, updated_at = now() WHERE id = ANY($1::uuid[])',
        [ids, active],
      );
      return rowCount ?? 0;
    },

    async accountCredentials(accountId: string): Promise<CredentialRow[]> {
      const { rows } = await db.query(
        `SELECT id, account_id, provider_id, scope, is_active, consecutive_failures, last_error
           FROM system_provider_credentials WHERE account_id = $1 ORDER BY created_at`,
        [accountId],
      );
      return parseRows(credentialRowSchema, rows);
    },

    async userByEmail(email: string): Promise<UserRow | null> {
      const { rows } = await db.query('SELECT id, account_id, email, name FROM users WHERE email = $1', [email.toLowerCase()]);
      return rows[0] === undefined ? null : userRowSchema.parse(rows[0]);
    },

    async account(accountId: string): Promise<AccountRow | null> {
      const { rows } = await db.query('SELECT id, name, status, stripe_customer_id, created_at FROM accounts WHERE id = $1', [accountId]);
      return rows[0] === undefined ? null : accountRowSchema.parse(rows[0]);
    },

    /** Accounts whose users' e-mails match a LIKE pattern (the run's identities), optionally only older ones. */
    async accountsByEmailPattern(pattern: string, createdBefore?: Date): Promise<RunAccountRow[]> {
      const { rows } = await db.query(
        `SELECT account_id, email, created_at FROM users
          WHERE email LIKE $1 AND ($2::timestamptz IS NULL OR created_at < $2)
          ORDER BY created_at`,
        [pattern, createdBefore ?? null],
      );
      return parseRows(runAccountRowSchema, rows);
    },

    async accountsByEmails(emails: string[]): Promise<RunAccountRow[]> {
      if (emails.length === 0) return [];
      const { rows } = await db.query(
        'SELECT account_id, email, created_at FROM users WHERE email = ANY($1::text[]) ORDER BY created_at',
        [emails.map((e) => e.toLowerCase())],
      );
      return parseRows(runAccountRowSchema, rows);
    },

    /** RUNBOOK step 1: what `Account.after_create_commit` bootstrapped for one account. */
    async bootstrapCounts(accountId: string): Promise<BootstrapCounts> {
      const { rows } = await db.query(
        `SELECT (SELECT count(*) FROM system_providers WHERE account_id = $1) AS providers,
                (SELECT count(*) FROM system_provider_regions WHERE account_id = $1) AS regions,
                (SELECT count(*) FROM system_provider_instance_types WHERE account_id = $1) AS types,
                (SELECT count(*) FROM system_node_templates WHERE account_id = $1) AS templates`,
        [accountId],
      );
      return bootstrapCountsRowSchema.parse(rows[0]);
    },

    async subscriptions(accountId: string): Promise<SubscriptionRow[]> {
      const { rows } = await db.query(
        `SELECT s.id, s.account_id, p.slug AS plan_slug, s.status, s.stripe_subscription_id, s.created_at
           FROM subscriptions s JOIN saas_plans p ON p.id = s.saas_plan_id
          WHERE s.account_id = $1 ORDER BY s.created_at`,
        [accountId],
      );
      return parseRows(subscriptionRowSchema, rows);
    },

    async nodeInstances(accountIds: string[]): Promise<NodeInstanceRow[]> {
      if (accountIds.length === 0) return [];
      const { rows } = await db.query(
        `SELECT ${nodeInstanceColumns} FROM system_node_instances WHERE account_id = ANY($1::uuid[]) ORDER BY created_at`,
        [accountIds],
      );
      return parseRows(nodeInstanceRowSchema, rows);
    },

    /** The QuotaGuard negative path: an instance the account "has" without any cloud call. */
    async insertNodeInstance(instance: NewNodeInstance): Promise<NodeInstanceRow> {
      const { rows } = await db.query(
        `INSERT INTO system_node_instances (${['account_id', 'name', 'status', ...insert.extraColumns].join(', ')})
         VALUES (${['$1', '$2', '$3', ...insert.extraValues].join(', ')}) RETURNING ${nodeInstanceColumns}`,
        [instance.accountId, instance.name, instance.status],
      );
      return nodeInstanceRowSchema.parse(rows[0]);
    },

    /** The run's NodeInstances that reached the cloud (a Vultr id), newest first: the instances whose tags can be checked. */
    async cloudNodeInstancesOfRun(emailPattern: string, limit: number): Promise<NodeInstanceRow[]> {
      const { rows } = await db.query(
        `SELECT ${nodeInstanceColumns} FROM system_node_instances
          WHERE account_id IN (SELECT account_id FROM users WHERE email LIKE $1) AND ${providerId} IS NOT NULL
          ORDER BY created_at DESC LIMIT $2`,
        [emailPattern, limit],
      );
      return parseRows(nodeInstanceRowSchema, rows);
    },

    /**
     * The approve gate's count (MAX_INSTANCES_PER_RUN): the run's accounts, and their NodeInstance
     * rows in any status but terminated, `error` and rows with no Vultr id yet included.
     */
    async runHoldings(emailPattern: string): Promise<{ accountIds: string[]; rows: { provider_instance_id: string | null }[] }> {
      const accounts = await db.query('SELECT DISTINCT account_id FROM users WHERE email LIKE $1', [emailPattern]);
      const accountIds = parseRows(accountIdRowSchema, accounts.rows).map((r) => r.account_id);
      if (accountIds.length === 0) return { accountIds, rows: [] };
      const { rows } = await db.query(
        `SELECT ${providerId} AS provider_instance_id FROM system_node_instances WHERE account_id = ANY($1::uuid[]) AND status <> 'terminated'`,
        [accountIds],
      );
      return { accountIds, rows: parseRows(holdingRowSchema, rows) };
    },

    /** An approval's effect is visible: the mission has a NodeInstance row, or it is no longer in flight. */
    async approvalEffectVisible(missionId: string, inFlightStatuses: readonly string[]): Promise<boolean> {
      const { rows } = await db.query(
        `SELECT EXISTS (SELECT 1 FROM system_node_instances WHERE mission_id = $1::uuid)
             OR NOT EXISTS (SELECT 1 FROM ai_missions WHERE id = $1::uuid AND status = ANY($2::text[])) AS visible`,
        [missionId, [...inFlightStatuses]],
      );
      return visibleRowSchema.parse(rows[0]).visible;
    },

    async usageRecords(accountIds: string[]): Promise<UsageRecordRow[]> {
      if (accountIds.length === 0) return [];
      const { rows } = await db.query(
        `SELECT id, account_id, node_instance_id, event, status, hourly_price, metered_at
           FROM billing_provisioning_usage_records WHERE account_id = ANY($1::uuid[]) ORDER BY metered_at`,
        [accountIds],
      );
      return parseRows(usageRecordRowSchema, rows);
    },

    /**
     * Rollback: these NodeInstances and their usage records (their spend), in one statement, so a
     * foreign key without ON DELETE CASCADE is satisfied at its end and nothing is half deleted.
     */
    async deleteNodeInstanceRows(nodeInstanceIds: string[]): Promise<{ nodeInstances: number; usageRecords: number }> {
      if (nodeInstanceIds.length === 0) return { nodeInstances: 0, usageRecords: 0 };
      const { rows } = await db.query(
        `WITH records AS (DELETE FROM billing_provisioning_usage_records WHERE node_instance_id = ANY($1::uuid[]) RETURNING 1),
              instances AS (DELETE FROM system_node_instances WHERE id = ANY($1::uuid[]) RETURNING 1)
         SELECT (SELECT count(*) FROM instances)::int AS node_instances, (SELECT count(*) FROM records)::int AS usage_records`,
        [nodeInstanceIds],
      );
      const counts = deletedCountsSchema.parse(rows[0]);
      return { nodeInstances: counts.node_instances, usageRecords: counts.usage_records };
    },

    /** Missions a worker may still be provisioning for (rollback waits for them to settle). */
    async inFlightMissions(accountIds: string[], statuses: readonly string[]): Promise<{ id: string; status: string }[]> {
      if (accountIds.length === 0 || statuses.length === 0) return [];
      const { rows } = await db.query(
        `SELECT id, status FROM ai_missions WHERE account_id = ANY($1::uuid[]) AND status = ANY($2::text[])`,
        [accountIds, [...statuses]],
      );
      return parseRows(inFlightMissionRowSchema, rows);
    },

    async missionStatus(missionId: string): Promise<string | null> {
      const { rows } = await db.query('SELECT status FROM ai_missions WHERE id = $1', [missionId]);
      return rows[0] === undefined ? null : z.object({ status: z.string() }).parse(rows[0]).status;
    },

    async missions(accountId: string): Promise<MissionRow[]> {
      const { rows } = await db.query(
        `SELECT id, account_id, conversation_id, phase, status, error_code, created_at
           FROM ai_missions WHERE account_id = $1 ORDER BY created_at`,
        [accountId],
      );
      return parseRows(missionRowSchema, rows);
    },

    async mission(missionId: string): Promise<MissionRow | null> {
      const { rows } = await db.query(
        'SELECT id, account_id, conversation_id, phase, status, error_code, created_at FROM ai_missions WHERE id = $1',
        [missionId],
      );
      return rows[0] === undefined ? null : missionRowSchema.parse(rows[0]);
    },

    /** The newest plan the accounts' missions hold, as stored (for the diagnosis's hints: read, never asserted). */
    async latestPlan(accountIds: string[]): Promise<unknown> {
      if (accountIds.length === 0) return null;
      const { rows } = await db.query(
        'SELECT plan FROM ai_missions WHERE account_id = ANY($1::uuid[]) AND plan IS NOT NULL ORDER BY created_at DESC LIMIT 1',
        [accountIds],
      );
      return (rows[0] as { plan?: unknown } | undefined)?.plan ?? null;
    },

    /** The newest assistant chat message of the accounts that carries a paywall (`metadata.upgrade_required`), with its reason. */
    async chatPaywall(accountIds: string[]): Promise<{ reason: string | null } | null> {
      if (accountIds.length === 0) return null;
      const { rows } = await db.query(
        `SELECT metadata->'upgrade_required'->>'reason' AS reason FROM ai_messages
          WHERE account_id = ANY($1::uuid[]) AND role = 'assistant' AND metadata ? 'upgrade_required'
          ORDER BY created_at DESC LIMIT 1`,
        [accountIds],
      );
      return rows[0] === undefined ? null : z.object({ reason: z.string().nullable() }).parse(rows[0]);
    },

    async aiProvider(name: string): Promise<AiProviderRow | null> {
      const { rows } = await db.query('SELECT name, current_quota_usage, quota_limit FROM ai_providers WHERE name = $1', [name]);
      return rows[0] === undefined ? null : aiProviderRowSchema.parse(rows[0]);
    },
  };
}

export type Queries = ReturnType<typeof createQueries>;
