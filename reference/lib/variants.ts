/**
 * Variant switches: the twelve known ways public Powernode differs from the runbook (CONTRACT 9).
 * Each one changes only an edge of the stack (a serializer, a route, a test id, a column, the log
 * writer, a command), never a business rule, and is inert unless named in `--variants=` (passed to
 * each process of the stack as STACK_VARIANTS). All twelve at once give a stack that behaves like
 * public Powernode wherever its behaviour is known. This list is the only place variant names are
 * defined. Faults are a separate list: `cost_730h` is both a fault (730 h as a defect, with the
 * runbook's cost-line name) and a variant (730 h and the display-name cost line, as intended).
 */
export const VARIANTS = {
  route_core: 'the provisioning chat lives at /app/system/provision, where the checkout return lands; /new is not the chat',
  cost_730h: 'cost estimate and live spend use 730 h/month ($5.11 for tiny); the cost line is "us-east-1 tiny", the Vultr plan stays vc2-1c-1gb',
  cloud_id_in_config: "system_node_instances has no provider_instance_id: the Vultr id is config->>'cloud_instance_id', rows need node_id (new database only)",
  step_executing: 'a step moves pending → executing → completed, in the event stream and in data-status',
  mission_api_core: 'GET mission answers {mission:{id, status, current_phase, configuration:{brief, brief_missing_fields, plan:{plan_id}}, ...}}; plans have no step_count, edges source/target',
  errors_flat: 'error bodies are {success:false, error:"<human text>", code:"<CODE>", details?}',
  paywall_in_chat: 'approve answers 200; the worker runs the quota check, and a denial is an AI chat message carrying an inline UpgradeRequiredCard',
  login_ids_core: 'the login page uses email-input, password-input and login-submit-btn ("Sign in to Dashboard")',
  step_stream_core: 'the execution pill shows only "Provisioning… X of Y steps"; step statuses live in step-progress-stream (step-<id>)',
  brief_core: 'the Brief Card is headed "Project brief" and scale reads "1→1 users · flat"',
  worker_command: 'no worker health URL: worker state comes from `npm run --silent worker-state --workspace reference` (JSON); the meter job is BillingProvisioningMeterJob',
  log_journald: 'the backend log is journald short-iso Rails lines in <STACK_DIR>/logs/backend.journal; backend.log is not written',
} as const;

export type VariantName = keyof typeof VARIANTS;

/** The variants as the processes of the stack see them; injectable so tests can turn one on. */
export type Variants = (name: VariantName) => boolean;

export const NO_VARIANTS: Variants = () => false;

export function isVariantName(name: string): name is VariantName {
  return Object.prototype.hasOwnProperty.call(VARIANTS, name);
}

/** Parses a comma list, rejecting unknown names with one message listing the known ones. */
export function parseVariants(list: string | undefined): VariantName[] {
  const names = (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !isVariantName(n));
  if (unknown.length > 0) {
    throw new Error(`unknown variant(s): ${unknown.join(', ')}; known: ${Object.keys(VARIANTS).join(', ')}`);
  }
  return [...new Set(names)] as VariantName[];
}

export function variantsOf(names: readonly VariantName[]): Variants {
  const on = new Set(names);
  return (name) => on.has(name);
}

/** `name  description`, one variant a line, for `--list-variants`. */
export function variantList(): string {
  const width = Math.max(...Object.keys(VARIANTS).map((n) => n.length));
  return Object.entries(VARIANTS)
    .map(([name, what]) => `${name.padEnd(width)}  ${what}`)
    .join('\n');
}

/** Public Powernode core's route of the provisioning chat (`route_core`). */
export const CORE_CHAT_ROUTE = '/app/system/provision';

/** Where the provisioning chat lives, and so where the checkout return lands. */
export function chatRoute(variants: Variants): string {
  return variants('route_core') ? CORE_CHAT_ROUTE : '/new';
}

let active: Set<VariantName> | undefined;

/** True when the running process was started with this variant (STACK_VARIANTS). */
export function hasVariant(name: VariantName): boolean {
  active ??= new Set(parseVariants(process.env.STACK_VARIANTS));
  return active.has(name);
}
