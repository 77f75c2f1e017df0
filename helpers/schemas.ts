/**
 * zod schemas for every body and row the suite reads: the REST API (CONTRACT 4), the
 * database (CONTRACT 5), Vultr and Stripe emulator extras (CONTRACT 7), the worker health endpoint (CONTRACT 6.9).
 * Objects are loose (unknown keys pass) because a real deployment may add fields; what the suite
 * asserts on is typed.
 */
import { z } from 'zod';

// ---------------------------------------------------------------- REST API

export const apiErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ApiErrorBody = z.output<typeof apiErrorSchema>;

export const successEnvelopeSchema = z.object({ success: z.literal(true), data: z.unknown() });
export const errorEnvelopeSchema = z.object({ success: z.literal(false), error: apiErrorSchema });

const userSchema = z.looseObject({ id: z.string(), email: z.string(), name: z.string(), account_id: z.string() });
const accountRefSchema = z.looseObject({ id: z.string(), name: z.string() });

export const registerResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  user: userSchema,
  account: accountRefSchema,
});

export const loginResponseSchema = z.looseObject({ access_token: z.string().min(1), user: userSchema });

export const appConfigSchema = z.looseObject({
  features: z.looseObject({ business: z.boolean(), system: z.boolean() }),
  plans: z.array(z.looseObject({ slug: z.string(), name: z.string(), price_cents: z.number() })),
});

export const checkoutSessionResponseSchema = z.looseObject({ session_id: z.string(), client_secret: z.string() });

export const spendResponseSchema = z.looseObject({
  monthly_run_rate_usd: z.number(),
  today_usd: z.number(),
  month_to_date_usd: z.number(),
  source: z.string(),
});

export const conversationResponseSchema = z.looseObject({ conversation: z.looseObject({ id: z.string() }) });

export const messageMetadataSchema = z.looseObject({
  mission_id: z.string().optional(),
  mission_phase: z.string().optional(),
  brief: z.record(z.string(), z.unknown()).optional(),
  plan_ready: z.looseObject({ mission_id: z.string() }).optional(),
});

const messageSchema = z.looseObject({
  id: z.string(),
  role: z.string(),
  content: z.string(),
  metadata: messageMetadataSchema.nullish(),
});

export const postMessageResponseSchema = z.looseObject({ user_message: messageSchema, assistant_message: messageSchema });

export const briefSchema = z.looseObject({
  intent: z.string().optional(),
  use_case: z.string().optional(),
  scale: z.looseObject({ initial: z.number(), target: z.number().optional(), growth_profile: z.string().optional() }).optional(),
  regions: z.array(z.string()).optional(),
  budget_cap_usd_monthly: z.number().optional(),
  preferred_provider: z.string().optional(),
});

export const planNodeSchema = z.looseObject({
  id: z.string(),
  skill: z.string(),
  label: z.string().optional(),
  depends_on: z.array(z.string()).default([]),
  params: z.record(z.string(), z.unknown()).optional(),
});

const costEstimateSchema = z.looseObject({
  monthly_usd: z.number(),
  hours_per_month: z.number().optional(),
  lines: z.array(z.looseObject({ name: z.string(), monthly_usd: z.number() })),
});
const riskSchema = z.looseObject({ score: z.number(), severity: z.enum(['low', 'med', 'high']) });
const stepCollapseSchema = z
  .looseObject({ original_step_count: z.number().int(), collapsed_step_count: z.number().int(), reason: z.string() })
  .nullish();

export const planSchema = z.looseObject({
  plan_id: z.string(),
  dag: z.looseObject({ step_count: z.number().int(), nodes: z.array(planNodeSchema), edges: z.array(z.unknown()) }),
  cost_estimate: costEstimateSchema,
  risk: riskSchema,
  step_collapse: stepCollapseSchema,
});
export type Plan = z.output<typeof planSchema>;

export const missionSchema = z.looseObject({
  id: z.string(),
  phase: z.string(),
  status: z.string(),
  brief: briefSchema.nullish(),
  plan: planSchema.nullish(),
  error_code: z.string().nullish(),
});
export type Mission = z.output<typeof missionSchema>;

/** Public Powernode's `GET /ai/missions/:id` data (CONTRACT 9 `mission_api_core`). */
export const coreMissionResponseSchema = z.looseObject({
  mission: z.looseObject({
    id: z.string(),
    status: z.string(),
    current_phase: z.string(),
    configuration: z.looseObject({
      brief: briefSchema.nullish(),
      brief_missing_fields: z.array(z.string()).optional(),
      plan: z.looseObject({ plan_id: z.string() }).nullish(),
    }),
    error_message: z.string().nullish(),
  }),
});

/** Public Powernode's `POST /ai/missions/:id/compose_plan` data: no step_count; step_collapse is not known there, so optional. */
export const corePlanResponseSchema = z.looseObject({
  plan: z.looseObject({
    plan_id: z.string(),
    mission_id: z.string().optional(),
    dag: z.looseObject({ nodes: z.array(planNodeSchema), edges: z.array(z.unknown()) }),
    cost_estimate: costEstimateSchema,
    risk: riskSchema,
    step_collapse: stepCollapseSchema,
  }),
});

export const providerCredentialSchema = z.looseObject({ id: z.string() });
export const providerCredentialResponseSchema = z.union([
  z.looseObject({ credential: providerCredentialSchema }),
  providerCredentialSchema,
]);

// ---------------------------------------------------------------- worker, emulators

export const workerHealthSchema = z.looseObject({
  status: z.string(),
  failed: z.record(z.string(), z.number()).default({}),
});

export const journalSchema = z.looseObject({
  requests: z.array(
    z.looseObject({
      method: z.string(),
      path: z.string(),
      status: z.number(),
      time: z.string(),
      duration_ms: z.number().optional(),
      tags: z.array(z.string()).optional(),
    }),
  ),
});
export type JournalEntry = z.output<typeof journalSchema>['requests'][number];

const webhookDeliverySchema = z.looseObject({
  event_id: z.string(),
  type: z.string(),
  delivered: z.boolean(),
  last_status: z.number().nullish(),
});

/** The Stripe emulator's webhook journal; the list is named `deliveries` or `webhooks`. */
export const stripeWebhookJournalSchema = z
  .looseObject({ deliveries: z.array(webhookDeliverySchema).optional(), webhooks: z.array(webhookDeliverySchema).optional() })
  .transform((body) => body.deliveries ?? body.webhooks ?? []);

// ---------------------------------------------------------------- Vultr v2

export const vultrInstanceSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  power_status: z.string(),
  server_status: z.string().optional(),
  region: z.string(),
  plan: z.string(),
  label: z.string().optional(),
  tags: z.array(z.string()).default([]),
  main_ip: z.string().optional(),
});
export type VultrInstance = z.output<typeof vultrInstanceSchema>;

export const vultrInstanceEnvelopeSchema = z.looseObject({ instance: vultrInstanceSchema });

export const vultrInstanceListSchema = z.looseObject({
  instances: z.array(vultrInstanceSchema),
  meta: z
    .looseObject({
      total: z.number().optional(),
      links: z.looseObject({ next: z.string().optional(), prev: z.string().optional() }).optional(),
    })
    .optional(),
});

export const vultrAccountSchema = z.looseObject({ account: z.looseObject({}) });

export const vultrErrorSchema = z.looseObject({ error: z.string(), status: z.number().optional() });

// ---------------------------------------------------------------- database rows

const uuid = z.string().min(1);
const timestamp = z.coerce.date();
/** pg returns numeric and bigint columns as strings. */
const numeric = z.coerce.number();

export const accountRowSchema = z.object({
  id: uuid,
  name: z.string(),
  status: z.string(),
  stripe_customer_id: z.string().nullable(),
  created_at: timestamp,
});
export type AccountRow = z.output<typeof accountRowSchema>;

export const runAccountRowSchema = z.object({ account_id: uuid, email: z.string(), created_at: timestamp });
export type RunAccountRow = z.output<typeof runAccountRowSchema>;

export const userRowSchema = z.object({ id: uuid, account_id: uuid, email: z.string(), name: z.string() });
export type UserRow = z.output<typeof userRowSchema>;

export const planRowSchema = z.object({
  slug: z.string(),
  name: z.string(),
  price_cents: numeric,
  limits: z.record(z.string(), z.unknown()).nullable(),
});
export type PlanRow = z.output<typeof planRowSchema>;

export const subscriptionRowSchema = z.object({
  id: uuid,
  account_id: uuid,
  plan_slug: z.string(),
  status: z.string(),
  stripe_subscription_id: z.string().nullable(),
  created_at: timestamp,
});
export type SubscriptionRow = z.output<typeof subscriptionRowSchema>;

export const bootstrapCountsRowSchema = z.object({
  providers: numeric,
  regions: numeric,
  types: numeric,
  templates: numeric,
});
export type BootstrapCounts = z.output<typeof bootstrapCountsRowSchema>;

export const NODE_INSTANCE_STATUSES = [
  'pending',
  'provisioning',
  'starting',
  'running',
  'stopping',
  'stopped',
  'terminated',
  'error',
] as const;

export const nodeInstanceRowSchema = z.object({
  id: uuid,
  account_id: uuid,
  mission_id: z.string().nullable(),
  name: z.string(),
  status: z.enum(NODE_INSTANCE_STATUSES),
  provider_instance_id: z.string().nullable(),
  public_ip_address: z.string().nullable(),
  created_at: timestamp,
  updated_at: timestamp.optional(),
});
export type NodeInstanceRow = z.output<typeof nodeInstanceRowSchema>;

export const usageRecordRowSchema = z.object({
  id: uuid,
  account_id: uuid,
  node_instance_id: uuid,
  event: z.string(),
  status: z.string(),
  hourly_price: numeric,
  // Nullable before coercion: a coerced null would read as the epoch.
  metered_at: timestamp.nullable(),
});
export type UsageRecordRow = z.output<typeof usageRecordRowSchema>;

/** Never includes the `credentials` column: the suite has no business reading keys back. */
export const credentialRowSchema = z.object({
  id: uuid,
  account_id: z.string().nullable(),
  provider_id: uuid,
  scope: numeric,
  is_active: z.boolean(),
  consecutive_failures: numeric,
  last_error: z.string().nullable(),
});
export type CredentialRow = z.output<typeof credentialRowSchema>;

export const missionRowSchema = z.object({
  id: uuid,
  account_id: uuid,
  conversation_id: uuid,
  phase: z.string(),
  status: z.string(),
  error_code: z.string().nullable(),
  created_at: timestamp,
});
export type MissionRow = z.output<typeof missionRowSchema>;

export const inFlightMissionRowSchema = missionRowSchema.pick({ id: true, status: true });

export const aiProviderRowSchema = z.object({
  name: z.string(),
  current_quota_usage: numeric,
  quota_limit: numeric,
});
export type AiProviderRow = z.output<typeof aiProviderRowSchema>;

export const schemaColumnRowSchema = z.object({ table_name: z.string(), column_name: z.string() });

export const countRowSchema = z.object({ count: numeric });
