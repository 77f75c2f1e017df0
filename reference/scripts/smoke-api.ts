/**
 * API smoke of a running reference stack, no browser: the runbook's happy path and negative paths
 * through the REST API, with the database and the Vultr emulator as evidence. Each step prints
 * ✓/✗ with its time; the API latencies' p95 is printed at the end. Everything it creates (its
 * accounts and their Vultr instances) is removed at the end, pass or fail.
 *
 *   npm run smoke:api                               (addresses from the environment / .env, like the stack)
 *   npm run smoke:api -- --variants=a,b|all         (a stack started with these variants; default STACK_VARIANTS)
 *
 * With variants it reads the stack as public Powernode would answer (CONTRACT 9): mission and
 * plan shapes, flat errors, the paywall in the chat, the Vultr id in config, worker state from the
 * operator command and the backend log as journald lines.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import pg from 'pg';
import { cloudIdSql, type CloudIdSql } from '../db/node-instances';
import type { StackConfig } from '../lib/config';
import { parseVariants, VARIANTS, variantsOf, type VariantName, type Variants } from '../lib/variants';
import { fromRepoRoot, REFERENCE_DIR } from '../stack/paths';
import { loadStackConfig } from '../stack/stack-config';

// The reference's own prompts, by design: the reference must not import the suite (it is the
// suite's target, not part of it). They are the ones its brief-capture rules are tested with
// (reference/rules/brief-capture.test.ts), not copies of the suite's runbook data.
const DISCORD_PROMPT =
  "I want to run my Discord moderation bot 24/7 on a small VM. It's a side project, I don't need anything fancy — just $5/mo on a 1 vCPU box.";
const SECOND_PROMPT = 'Spin up another bot host alongside the first one.';
const THREE_COMPONENT_PROMPT = 'I need a web app with a Postgres database and a private network between them.';
const PASSWORD = 'Smoke-test-passw0rd!';
const PROVISION_WAIT_MS = 60_000;

class SmokeFailure extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SmokeFailure(message);
}

/** JSON with object keys sorted: jsonb hands objects back in its own key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

function same(actual: unknown, expected: unknown, what: string): void {
  check(canonical(actual) === canonical(expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function near(actual: unknown, expected: number, what: string): void {
  check(Math.abs(Number(actual) - expected) < 0.005, `${what}: expected ${expected}, got ${JSON.stringify(actual)}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Answer = { status: number; body: Json };

class Api {
  readonly latencies: number[] = [];
  constructor(private readonly baseUrl: string) {}

  async call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
    const started = performance.now();
    const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    this.latencies.push(performance.now() - started);
    let body: Json;
    try {
      body = text === '' ? {} : (JSON.parse(text) as Json);
    } catch {
      throw new SmokeFailure(`${method} ${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 120)}`);
    }
    return { status: response.status, body };
  }

  /** The `data` of a success envelope, after checking the status. */
  async data(method: string, path: string, expectedStatus: number, options: { token?: string; body?: unknown } = {}): Promise<Json> {
    const answer = await this.call(method, path, options);
    check(
      answer.status === expectedStatus && answer.body.success === true,
      `${method} ${path}: expected ${expectedStatus} success, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
    );
    return answer.body.data as Json;
  }
}

type Identity = { token: string; accountId: string; email: string };

class Smoke {
  readonly api: Api;
  readonly db: pg.Pool;
  readonly runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly accounts: string[] = [];
  readonly cloudId: CloudIdSql;
  private failures = 0;

  constructor(
    readonly config: StackConfig,
    readonly variants: Variants,
  ) {
    this.cloudId = cloudIdSql(variants);
    this.api = new Api(config.baseUrl);
    this.db = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
    this.db.on('error', () => undefined);
  }

  get vultrOrigin(): string {
    return new URL(this.config.vultrApiUrl).origin;
  }

  async step<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      console.log(`✓ ${name} (${Math.round(performance.now() - started)} ms)`);
      return result;
    } catch (error) {
      this.failures += 1;
      console.log(`✗ ${name} (${Math.round(performance.now() - started)} ms)\n    ${(error as Error).message}`);
      throw error;
    }
  }

  async vultr(method: string, path: string): Promise<Answer> {
    const response = await fetch(`${this.config.vultrApiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.config.vultrApiKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Json) : {} };
  }

  async instancePostsSince(since: string): Promise<number> {
    const query = new URLSearchParams({ method: 'POST', path_prefix: '/v2/instances', since });
    const response = await fetch(`${this.vultrOrigin}/__emulator/requests?${query}`, { signal: AbortSignal.timeout(5_000) });
    check(response.ok, `the Vultr emulator journal answered ${response.status}`);
    const body = (await response.json()) as { requests: { path: string }[] };
    // POST /v2/instances/start etc. are actions, not creates.
    return body.requests.filter((r) => r.path.split('?')[0] === '/v2/instances').length;
  }

  async register(slug: string): Promise<Identity> {
    const email = `smoke+${this.runId}-${slug}@example.com`;
    const data = await this.api.data('POST', '/auth/register', 201, { body: { email, password: PASSWORD, name: `Smoke ${slug}` } });
    check(typeof data.access_token === 'string', 'register: no access_token');
    const accountId = (data.account?.id ?? data.user?.account_id) as string;
    check(typeof accountId === 'string', 'register: no account id');
    this.accounts.push(accountId);
    return { token: data.access_token as string, accountId, email };
  }

  async conversation(identity: Identity): Promise<string> {
    // 201 when it creates the conversation, 200 when it reuses the open one.
    const answer = await this.api.call('POST', '/ai/conversations/concierge', { token: identity.token });
    check(
      (answer.status === 200 || answer.status === 201) && answer.body.success === true,
      `concierge: expected 200/201 success, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
    );
    const id = answer.body.data?.conversation?.id as string;
    check(typeof id === 'string', 'concierge: no conversation id');
    return id;
  }

  /** Sends a prompt; returns the mission the assistant's answer names and the brief it captured. */
  async prompt(identity: Identity, conversationId: string, content: string): Promise<{ missionId: string; brief: Json; metadata: Json }> {
    const data = await this.api.data('POST', `/ai/conversations/${conversationId}/messages`, 201, {
      token: identity.token,
      body: { message: { content } },
    });
    const metadata = (data.assistant_message?.metadata ?? {}) as Json;
    const missionId = (metadata.plan_ready?.mission_id ?? metadata.mission_id) as string;
    check(typeof missionId === 'string', `the assistant's answer names no mission: ${JSON.stringify(metadata).slice(0, 300)}`);
    return { missionId, brief: (metadata.brief ?? {}) as Json, metadata };
  }

  async compose(identity: Identity, missionId: string): Promise<Json> {
    const data = await this.api.data('POST', `/ai/missions/${missionId}/compose_plan`, 200, { token: identity.token });
    check(data.plan, 'compose_plan: no plan');
    return data.plan as Json;
  }

  /** The plan's step count: `dag.step_count`, or (mission_api_core) the number of its nodes, which must then be all there is. */
  stepCount(plan: Json): number {
    if (!this.variants('mission_api_core')) return plan.dag?.step_count as number;
    check(plan.dag?.step_count === undefined, `mission_api_core: the plan carries step_count ${JSON.stringify(plan.dag?.step_count)}`);
    return (plan.dag?.nodes as unknown[]).length;
  }

  /** The error code of a failed mission; public Powernode's mission carries only its message, so the row is asked. */
  async missionErrorCode(missionId: string, mission: Json): Promise<string | null> {
    if (!this.variants('mission_api_core')) return (mission.error_code ?? null) as string | null;
    const row = await this.db.query<{ error_code: string | null }>('SELECT error_code FROM ai_missions WHERE id = $1', [missionId]);
    return row.rows[0]?.error_code ?? null;
  }

  /** `{code, message, details}` of an error body, in either envelope. */
  errorOf(answer: Answer): { code: string; message: string; details: Json | undefined } {
    const b = answer.body;
    if (this.variants('errors_flat')) {
      check(typeof b.error === 'string' && typeof b.code === 'string', `errors_flat: expected {error:"…", code:"…"}, got ${JSON.stringify(b).slice(0, 200)}`);
      check(b.code === b.code.toUpperCase(), `errors_flat: expected an upper-case code, got ${b.code}`);
      return { code: (b.code as string).toLowerCase(), message: b.error as string, details: b.details as Json | undefined };
    }
    check(typeof b.error?.code === 'string', `expected {error:{code, message}}, got ${JSON.stringify(b).slice(0, 200)}`);
    return { code: b.error.code as string, message: b.error.message as string, details: b.error.details as Json | undefined };
  }

  /** Approve as the stack answers it: 202 {mission_id, status}, or (paywall_in_chat) 200 {mission}. */
  async approve(identity: Identity, missionId: string): Promise<void> {
    if (this.variants('paywall_in_chat')) {
      const data = await this.api.data('POST', `/ai/missions/${missionId}/approve`, 200, { token: identity.token });
      same([data.mission?.id, data.mission?.status], [missionId, 'approved'], 'approve: data.mission id and status');
      return;
    }
    const data = await this.api.data('POST', `/ai/missions/${missionId}/approve`, 202, { token: identity.token });
    same(data.status, 'approved', 'approve status');
  }

  /** Worker state from its health URL, or (worker_command) from the operator command. */
  async workerRunning(): Promise<void> {
    if (!this.variants('worker_command')) {
      const response = await fetch(this.config.workerHealthUrl, { signal: AbortSignal.timeout(3_000) });
      check(response.ok, `${this.config.workerHealthUrl} answered ${response.status}`);
      return;
    }
    const hidden = await fetch(this.config.workerHealthUrl, { signal: AbortSignal.timeout(3_000) });
    same(hidden.status, 404, `worker_command: ${this.config.workerHealthUrl} (no health URL)`);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REFERENCE_DIR, 'scripts', 'worker-state.ts')], {
      cwd: REFERENCE_DIR,
      timeout: 20_000,
    });
    same(JSON.parse(stdout), { running: true, failed: { BillingProvisioningMeterJob: 0 } }, 'worker-state command');
  }

  /** Polls the mission until it ends; fails at once when it ends the other way. */
  async waitForMission(identity: Identity, missionId: string, expected: 'completed' | 'failed'): Promise<Json> {
    const deadline = Date.now() + PROVISION_WAIT_MS;
    for (;;) {
      const mission = await this.api.data('GET', `/ai/missions/${missionId}`, 200, { token: identity.token });
      const status = (mission.mission ?? mission).status as string;
      if (status === expected) return mission.mission ?? mission;
      if (status === 'completed' || status === 'failed') {
        const m = mission.mission ?? mission;
        const code = await this.missionErrorCode(missionId, m);
        throw new SmokeFailure(`mission ended ${status} (${code ?? 'no error code'}: ${m.error_message ?? ''}), expected ${expected}`);
      }
      check(Date.now() < deadline, `mission still ${status} after ${PROVISION_WAIT_MS} ms`);
      await sleep(200);
    }
  }

  async cleanup(): Promise<void> {
    if (this.accounts.length === 0) return;
    const instances = await this.db.query<{ provider_instance_id: string }>(
      `SELECT ${this.cloudId.read} AS provider_instance_id FROM system_node_instances WHERE account_id = ANY($1::uuid[]) AND ${this.cloudId.read} IS NOT NULL`,
      [this.accounts],
    );
    let deleted = 0;
    for (const { provider_instance_id: id } of instances.rows) {
      const answer = await this.vultr('DELETE', `/instances/${encodeURIComponent(id)}`);
      if (answer.status === 204) deleted += 1;
      else if (answer.status !== 404) console.log(`  cleanup: DELETE /v2/instances/${id} answered ${answer.status}`);
    }
    // Every table the run wrote hangs off its accounts with ON DELETE CASCADE.
    const accounts = await this.db.query('DELETE FROM accounts WHERE id = ANY($1::uuid[])', [this.accounts]);
    console.log(`  cleanup: deleted ${deleted} Vultr instance(s) and ${accounts.rowCount} account(s) with their rows`);
  }

  summary(): boolean {
    const sorted = [...this.api.latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
    console.log(`API latency: ${sorted.length} calls, p95 ${p95.toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`);
    return this.failures === 0;
  }
}

async function run(smoke: Smoke): Promise<void> {
  const { config, api, db, variants } = smoke;
  const monthly = variants('cost_730h') ? 5.11 : 5.04;
  const started = new Date();

  await smoke.step(`stack is up: /up, worker ${variants('worker_command') ? 'state command' : 'health'}, emulators`, async () => {
    await smoke.workerRunning();
    for (const url of [
      `${config.baseUrl}/up`,
      `${smoke.vultrOrigin}/__emulator/health`,
      `${config.stripeApiBase}/__emulator/health`,
    ]) {
      const response = await fetch(url, { signal: AbortSignal.timeout(3_000) }).catch((error: Error) => {
        throw new SmokeFailure(`${url}: ${error.message}`);
      });
      check(response.ok, `${url} answered ${response.status}`);
    }
  });

  const owner = await smoke.step('register a fresh account', () => smoke.register('owner'));

  await smoke.step('bootstrap wrote providers=1 regions=2 types=3 templates=7', async () => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const counts = await db.query<{ providers: number; regions: number; types: number; templates: number }>(
        `SELECT (SELECT count(*)::int FROM system_providers WHERE account_id = $1) AS providers,
                (SELECT count(*)::int FROM system_provider_regions WHERE account_id = $1) AS regions,
                (SELECT count(*)::int FROM system_provider_instance_types WHERE account_id = $1) AS types,
                (SELECT count(*)::int FROM system_node_templates WHERE account_id = $1) AS templates`,
        [owner.accountId],
      );
      const c = counts.rows[0]!;
      if (c.providers === 1 && c.regions === 2 && c.types === 3 && c.templates === 7) return;
      // Bootstrap runs after the account row commits: give it a moment before judging.
      if (Date.now() > deadline) same([c.providers, c.regions, c.types, c.templates], [1, 2, 3, 7], 'bootstrap counts');
      await sleep(100);
    }
  });

  const conversationId = await smoke.step('open the concierge conversation', () => smoke.conversation(owner));

  const first = await smoke.step('Discord prompt → brief captured', async () => {
    const answer = await smoke.prompt(owner, conversationId, DISCORD_PROMPT);
    const { brief } = answer;
    check(/discord bot/i.test(String(brief.intent)) && /24\/7/.test(String(brief.intent)), `brief.intent: ${JSON.stringify(brief.intent)}`);
    check(/discord bot/i.test(String(brief.use_case)), `brief.use_case: ${JSON.stringify(brief.use_case)}`);
    same(brief.scale?.initial, 1, 'brief.scale.initial');
    same(brief.regions, ['us-east-1'], 'brief.regions');
    near(brief.budget_cap_usd_monthly, 10, 'brief.budget_cap_usd_monthly');
    return answer;
  });

  await smoke.step(`compose → 1 step (3→1 collapse), $${monthly}/mo, low risk`, async () => {
    const plan = await smoke.compose(owner, first.missionId);
    same(smoke.stepCount(plan), 1, 'step count');
    same(plan.dag?.nodes?.length, 1, 'dag.nodes.length');
    same(plan.dag?.nodes?.[0]?.skill, 'provision_full_stack', 'the step skill');
    same(
      [plan.step_collapse?.original_step_count, plan.step_collapse?.collapsed_step_count],
      [3, 1],
      'step_collapse original → collapsed',
    );
    near(plan.cost_estimate?.monthly_usd, monthly, 'cost_estimate.monthly_usd');
    same(
      (plan.cost_estimate?.lines as Json[]).map((l) => l.name),
      [variants('cost_730h') ? 'us-east-1 tiny' : 'us-east-1 vc2-1c-1gb'],
      'cost line names',
    );
    same(plan.risk?.severity, 'low', 'risk.severity');
    const mission = await api.data('GET', `/ai/missions/${first.missionId}`, 200, { token: owner.token });
    if (variants('mission_api_core')) {
      same(Object.keys(mission), ['mission'], 'GET mission: data keys');
      same(mission.mission.configuration?.plan, { plan_id: plan.plan_id }, 'GET mission: configuration.plan');
      same(mission.mission.current_phase, 'plan_review', 'GET mission: current_phase');
      same(plan.mission_id, first.missionId, 'plan.mission_id');
    } else {
      same(mission.plan?.dag?.step_count, 1, 'GET mission: plan.dag.step_count');
    }
  });

  const approvedAt = new Date().toISOString();
  await smoke.step(`approve → ${variants('paywall_in_chat') ? '200 with the mission' : '202'}`, () => smoke.approve(owner, first.missionId));

  const instance = await smoke.step('NodeInstance running on Vultr (ewr, vc2-1c-1gb)', async () => {
    await smoke.waitForMission(owner, first.missionId, 'completed');
    const rows = await db.query<{ id: string; status: string; provider_instance_id: string | null }>(
      `SELECT id, status, ${smoke.cloudId.read} AS provider_instance_id FROM system_node_instances WHERE mission_id = $1`,
      [first.missionId],
    );
    same(rows.rows.length, 1, 'NodeInstances of the mission');
    const row = rows.rows[0]!;
    same(row.status, 'running', 'NodeInstance status');
    check(row.provider_instance_id, 'NodeInstance has no provider_instance_id');
    const onVultr = await smoke.vultr('GET', `/instances/${row.provider_instance_id}`);
    same(onVultr.status, 200, `GET /v2/instances/${row.provider_instance_id}`);
    same([onVultr.body.instance.region, onVultr.body.instance.plan], ['ewr', 'vc2-1c-1gb'], 'Vultr region and plan');
    check((onVultr.body.instance.tags as string[]).includes(`account:${owner.accountId}`), 'the Vultr instance lacks the account tag');
    return row;
  });

  await smoke.step('one usage record: running / pending', async () => {
    const usage = await db.query('SELECT event, status FROM billing_provisioning_usage_records WHERE node_instance_id = $1', [instance.id]);
    same(usage.rows, [{ event: 'running', status: 'pending' }], 'usage records');
  });

  await smoke.step(`live spend run-rate $${monthly}/mo from usage records`, async () => {
    const spend = await api.data('GET', '/billing/spend', 200, { token: owner.token });
    near(spend.monthly_run_rate_usd, monthly, 'monthly_run_rate_usd');
    same(spend.source, 'usage_records', 'spend source');
  });

  const paywall = variants('paywall_in_chat') ? 'approve 200, the worker posts the paywall in the chat' : '402 upgrade_required';
  await smoke.step(`second bot host → ${paywall}, no Vultr call`, async () => {
    const second = await smoke.prompt(owner, conversationId, SECOND_PROMPT);
    check(second.missionId !== first.missionId, 'the second prompt reused the first mission');
    await smoke.compose(owner, second.missionId);
    const since = new Date().toISOString();
    if (variants('paywall_in_chat')) {
      await smoke.approve(owner, second.missionId);
      await smoke.waitForMission(owner, second.missionId, 'failed');
      same(await smoke.missionErrorCode(second.missionId, {}), 'upgrade_required', 'mission error_code (database)');
      const { messages } = await api.data('GET', `/ai/conversations/${conversationId}/messages`, 200, { token: owner.token });
      const last = (messages as Json[]).at(-1)!;
      same(last.role, 'assistant', 'the last chat message’s role');
      same(
        last.metadata?.upgrade_required,
        { requires_upgrade: true, reason: 'max_active_instances_exceeded', cap: 1, upgrade_url: '/checkout?plan=pro_cloud' },
        'metadata.upgrade_required',
      );
    } else {
      const answer = await api.call('POST', `/ai/missions/${second.missionId}/approve`, { token: owner.token });
      same(answer.status, 402, 'approve status');
      const error = smoke.errorOf(answer);
      same(error.code, 'upgrade_required', 'error code');
      same(error.details?.reason, 'max_node_instances', 'details.reason');
      same(error.details?.plan_slug, 'free', 'details.plan_slug');
      same(error.details?.limits, { max_node_instances: 1, max_monthly_provisioning_usd: 20 }, 'details.limits');
      same(error.details?.current_usage?.node_instance_count, 1, 'details.current_usage.node_instance_count');
      near(error.details?.current_usage?.monthly_provisioning_usd, monthly, 'details.current_usage.monthly_provisioning_usd');
    }
    const instances = await db.query('SELECT 1 FROM system_node_instances WHERE mission_id = $1', [second.missionId]);
    same(instances.rowCount, 0, 'NodeInstances of the refused mission');
    same(await smoke.instancePostsSince(since), 0, 'POST /v2/instances since the refused approve');
    same(await smoke.instancePostsSince(approvedAt), 1, 'POST /v2/instances since the first approve');
  });

  await smoke.step('compute + database + network prompt → 3 steps, no collapse', async () => {
    const third = await smoke.prompt(owner, conversationId, THREE_COMPONENT_PROMPT);
    const plan = await smoke.compose(owner, third.missionId);
    same(smoke.stepCount(plan), 3, 'step count');
    if (variants('mission_api_core')) {
      same(plan.dag?.edges, [{ source: 'step-1', target: 'step-2' }, { source: 'step-2', target: 'step-3' }], 'dag.edges (source/target)');
    }
    same(
      (plan.dag?.nodes as Json[]).map((n) => n.skill).sort(),
      ['provision_compute', 'provision_database', 'provision_network'],
      'step skills',
    );
    check(!plan.step_collapse, `step_collapse should be absent, got ${JSON.stringify(plan.step_collapse)}`);
  });

  const other = await smoke.step('second account with an invalid account-scoped Vultr key', async () => {
    const identity = await smoke.register('badkey');
    const key = `vk_smoke_invalid_${randomBytes(6).toString('hex')}`;
    const data = await api.data('POST', '/system/provider_credentials', 201, {
      token: identity.token,
      body: { provider_type: 'pro_cloud', api_key: key },
    });
    const credential = (data.credential ?? data) as Json;
    check(!JSON.stringify(data).includes(key), 'the API echoed the key back');
    return { identity, credentialId: credential.id as string };
  });

  await smoke.step('approve with the invalid key → fails closed (credentials_invalid, no usage record)', async () => {
    const conversation = await smoke.conversation(other.identity);
    const mission = await smoke.prompt(other.identity, conversation, DISCORD_PROMPT);
    await smoke.compose(other.identity, mission.missionId);
    await smoke.approve(other.identity, mission.missionId);
    const failed = await smoke.waitForMission(other.identity, mission.missionId, 'failed');
    same(await smoke.missionErrorCode(mission.missionId, failed), 'credentials_invalid', 'mission error_code');
    const usage = await db.query('SELECT 1 FROM billing_provisioning_usage_records WHERE account_id = $1', [other.identity.accountId]);
    same(usage.rowCount, 0, 'usage records of the failed account');
    const instances = await db.query<{ status: string; provider_instance_id: string | null }>(
      `SELECT status, ${smoke.cloudId.read} AS provider_instance_id FROM system_node_instances WHERE account_id = $1`,
      [other.identity.accountId],
    );
    same(instances.rows, [{ status: 'error', provider_instance_id: null }], 'NodeInstances of the failed account');
    const credential = await db.query<{ consecutive_failures: number }>(
      'SELECT consecutive_failures FROM system_provider_credentials WHERE account_id = $1 AND scope = 0',
      [other.identity.accountId],
    );
    same(credential.rows.map((r) => r.consecutive_failures), [1], 'consecutive_failures of the invalid key');
  });

  await smoke.step(`an unknown mission → 404 in the ${variants('errors_flat') ? 'flat' : 'nested'} error envelope`, async () => {
    const answer = await api.call('GET', `/ai/missions/00000000-0000-4000-8000-000000000000`, { token: owner.token });
    same(answer.status, 404, 'status');
    same(smoke.errorOf(answer).code, 'not_found', 'error code');
  });

  const logs = join(fromRepoRoot(config.stackDir), 'logs');
  const journal = variants('log_journald');
  await smoke.step(`backend log: ${journal ? 'journald lines in backend.journal, no backend.log' : 'JSON lines in backend.log'}, no 5xx`, async () => {
    const file = join(logs, journal ? 'backend.journal' : 'backend.log');
    check(existsSync(file), `${file} does not exist`);
    check(!existsSync(join(logs, journal ? 'backend.log' : 'backend.journal')), `${journal ? 'backend.log' : 'backend.journal'} was written too`);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const since = started.getTime() - 1_000;
    const statuses: number[] = [];
    for (const line of lines) {
      if (journal) {
        const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\+0000 \S+ puma\[\d+\]: (.*)$/.exec(line);
        check(m, `not a journald short-iso line: ${line.slice(0, 160)}`);
        const completed = /^Completed (\d{3}) /.exec(m[2]!);
        if (completed && Date.parse(`${m[1]}Z`) >= since - 1_000) statuses.push(Number(completed[1]));
      } else {
        const entry = JSON.parse(line) as { time?: number; statusCode?: number };
        if (entry.statusCode !== undefined && (entry.time ?? 0) >= since) statuses.push(entry.statusCode);
      }
    }
    check(statuses.length > 10, `only ${statuses.length} answered requests logged since the smoke started`);
    same(statuses.filter((s) => s >= 500), [], '5xx answers since the smoke started');
  });
}

function variantsFrom(argv: string[], config: StackConfig): VariantName[] {
  const flag = argv.find((arg) => arg.startsWith('--variants='));
  const list = flag === undefined ? config.variants : flag.slice('--variants='.length);
  return list === 'all' ? (Object.keys(VARIANTS) as VariantName[]) : parseVariants(list);
}

async function main(): Promise<number> {
  let config: StackConfig;
  let variants: VariantName[];
  try {
    config = loadStackConfig();
    variants = variantsFrom(process.argv.slice(2), config);
  } catch (error) {
    console.error(`smoke: ${(error as Error).message}`);
    return 2;
  }
  console.log(`API smoke against ${config.baseUrl}${variants.length > 0 ? ` (variants: ${variants.join(', ')})` : ''}`);
  const smoke = new Smoke(config, variantsOf(variants));
  const started = performance.now();
  let ok = true;
  try {
    await run(smoke);
  } catch (error) {
    ok = false;
    if (!(error instanceof SmokeFailure)) console.log(`    (unexpected: ${(error as Error).stack ?? String(error)})`);
  } finally {
    await smoke.cleanup().catch((error: unknown) => {
      ok = false;
      console.log(`✗ cleanup: ${(error as Error).message}`);
    });
    ok = smoke.summary() && ok;
    await smoke.db.end();
  }
  console.log(ok ? `smoke passed in ${Math.round(performance.now() - started)} ms` : 'smoke FAILED');
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code));
