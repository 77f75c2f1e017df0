/** Shapes of the `/api/v1` answers the UI reads (CONTRACT 4 and its additions). */

export type User = { id: string; email: string; name: string; account_id: string };
export type Account = { id: string; name: string };

export type AuthAnswer = { access_token: string; user: User; account?: Account };

export type Plan = { slug: string; name: string; price_cents: number };

export type AppConfig = {
  features: { business: boolean; system: boolean };
  plans: Plan[];
  stripe: { publishable_key: string; js_url: string };
};

export type CheckoutSession = { session_id: string; client_secret: string; publishable_key: string };

export type CheckoutSessionStatus = {
  status: 'open' | 'complete';
  subscription_status: string | null;
  redirect_to?: string;
};

export type PlanLimits = { max_node_instances?: number; max_monthly_provisioning_usd?: number };

export type Subscription = {
  plan_slug: string;
  plan_name?: string;
  status: string;
  limits: PlanLimits | null;
};

export type Spend = {
  monthly_run_rate_usd: number | string;
  today_usd: number | string;
  month_to_date_usd: number | string;
  source: string;
};

export type Brief = {
  intent?: string;
  use_case?: string;
  scale?: { initial?: number; target?: number; growth_profile?: string };
  regions?: string[];
  budget_cap_usd_monthly?: number;
  preferred_provider?: string;
  components?: string[];
};

export type MessageMetadata = {
  mission_id?: string;
  mission_phase?: string;
  brief?: Brief;
  missing?: string[];
  plan_ready?: { mission_id: string };
  /** Public Powernode's paywall, posted by the worker (the paywall_in_chat variant). */
  upgrade_required?: { requires_upgrade: boolean; reason?: string; cap?: number | null; upgrade_url?: string | null };
} | null;

export type ChatMessage = {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  metadata: MessageMetadata;
  created_at: string;
};

export type PlanNode = {
  id: string;
  skill: string;
  label?: string;
  depends_on?: string[];
  params?: { region?: string; instance_type?: string; template?: string; count?: number };
};

export type CostLine = { name: string; monthly_usd: number | string; hourly_price?: number | string; count?: number };

export type RiskSeverity = 'low' | 'med' | 'high';

export type MissionPlan = {
  plan_id: string;
  dag: { step_count?: number; nodes: PlanNode[]; edges?: { from: string; to: string }[] };
  cost_estimate: { monthly_usd: number | string; hours_per_month?: number; lines: CostLine[] };
  risk: { score: number; severity: RiskSeverity; factors?: unknown[] };
  step_collapse?: { original_step_count: number; collapsed_step_count: number; reason?: string } | null;
};

export type MissionStatus = 'collecting' | 'plan_ready' | 'approved' | 'running' | 'completed' | 'failed';
/** `executing` is public Powernode's name for `running` (the step_executing variant). */
export type StepStatus = 'pending' | 'running' | 'executing' | 'completed' | 'failed';

export type Mission = {
  id: string;
  phase: string;
  status: MissionStatus;
  brief: Brief | null;
  plan: MissionPlan | null;
  error_code?: string | null;
};

export type Credential = {
  id: string;
  scope: 'account' | 'platform_pool';
  provider_type: string;
  key_last4: string;
  is_active: boolean;
  consecutive_failures: number;
  last_error: string | null;
};

/** Events of `GET /ai/missions/:id/events`. */
export type SnapshotEvent = {
  mission: { id: string; phase: string; status: MissionStatus; error_code?: string | null; error_message?: string | null };
  steps: { step_id: string; skill: string; position: number; status: StepStatus }[];
};
export type StepEvent = { step_id: string; status: StepStatus };
export type MissionEvent = {
  phase: string;
  status: MissionStatus;
  error_code?: string | null;
  error_message?: string | null;
};
