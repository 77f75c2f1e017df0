/**
 * The concierge chat. Each user message runs brief capture (the LLM stand-in): it fills the brief
 * of the mission still collecting details, or starts a new mission; a complete brief gets its plan
 * composed at once and the assistant announces it ("Open Plan").
 */
import type pg from 'pg';
import { briefQuestion, captureBrief, type Brief, type PartialBrief } from '../../rules/brief-capture';
import type { Plan } from '../../rules/composer';
import { ApiError, notFound } from '../http/errors';
import { inTransaction, type Db } from './db';
import { NO_VARIANTS, type Variants } from '../../lib/variants';
import type { Faults } from './faults';
import { composeMissionPlan, type MissionRow } from './missions';

export const AI_PROVIDER_NAME = 'pro_cloud';

export type MessageView = {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  metadata: Record<string, unknown>;
  created_at: string;
};

type MessageRow = Omit<MessageView, 'created_at'> & { created_at: Date };

function messageView(row: MessageRow): MessageView {
  return { ...row, created_at: row.created_at.toISOString() };
}

/** The account's open concierge conversation, created on first use. */
export async function conciergeConversation(pool: pg.Pool, accountId: string): Promise<{ id: string }> {
  return inTransaction(pool, async (client) => {
    // Serialises two first visits of the same account, which would otherwise open two conversations.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('concierge:' || $1::text))`, [accountId]);
    const existing = await client.query<{ id: string }>(
      `SELECT id FROM ai_conversations WHERE account_id = $1 AND kind = 'concierge' AND status = 'open' ORDER BY created_at LIMIT 1`,
      [accountId],
    );
    if (existing.rows[0]) return existing.rows[0];
    const created = await client.query<{ id: string }>(
      `INSERT INTO ai_conversations (account_id, kind, status) VALUES ($1, 'concierge', 'open') RETURNING id`,
      [accountId],
    );
    return created.rows[0]!;
  });
}

async function ownConversation(db: Db, accountId: string, conversationId: string, lock = false): Promise<void> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM ai_conversations WHERE id = $1 AND account_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [conversationId, accountId],
  );
  if (rowCount === 0) throw notFound('The conversation');
}

export async function listMessages(pool: pg.Pool, accountId: string, conversationId: string): Promise<MessageView[]> {
  await ownConversation(pool, accountId, conversationId);
  const { rows } = await pool.query<MessageRow>(
    `SELECT id, role, content, metadata, created_at FROM ai_messages WHERE conversation_id = $1 ORDER BY created_at, id`,
    [conversationId],
  );
  return rows.map(messageView);
}

/** One unit of AI provider quota per message; exhausted quota is RUNBOOK Troubleshooting's "Brief Card never populates". */
async function consumeAiQuota(db: Db): Promise<void> {
  const used = await db.query(
    `UPDATE ai_providers SET current_quota_usage = current_quota_usage + 1, updated_at = now()
      WHERE name = $1 AND current_quota_usage < quota_limit RETURNING id`,
    [AI_PROVIDER_NAME],
  );
  if (used.rowCount && used.rowCount > 0) return;
  const exists = await db.query(`SELECT 1 FROM ai_providers WHERE name = $1`, [AI_PROVIDER_NAME]);
  if (exists.rowCount === 0) throw new ApiError(503, 'ai_provider_missing', `The AI provider "${AI_PROVIDER_NAME}" is not configured`);
  throw new ApiError(429, 'ai_quota_exhausted', 'AI provider quota exhausted');
}

async function insertMessage(db: Db, conversationId: string, accountId: string, role: string, content: string, metadata: object): Promise<MessageView> {
  // clock_timestamp, not now(): both messages of one exchange share a transaction and must still sort.
  const { rows } = await db.query<MessageRow>(
    `INSERT INTO ai_messages (conversation_id, account_id, role, content, metadata, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, clock_timestamp(), clock_timestamp())
     RETURNING id, role, content, metadata, created_at`,
    [conversationId, accountId, role, content, JSON.stringify(metadata)],
  );
  return messageView(rows[0]!);
}

function money(usd: number): string {
  return Number.isInteger(usd) ? `$${usd}` : `$${usd.toFixed(2)}`;
}

function planAnnouncement(brief: Brief, plan: Plan): string {
  const steps = `${plan.dag.step_count} step${plan.dag.step_count === 1 ? '' : 's'}`;
  const lines = plan.cost_estimate.lines.map((l) => `${l.count}× ${l.name}`).join(', ');
  const collapse = plan.step_collapse
    ? ` I merged ${plan.step_collapse.original_step_count} redundant steps into ${plan.step_collapse.collapsed_step_count}.`
    : '';
  return (
    `Got it: ${brief.intent} — ${brief.use_case}, in ${brief.regions.join(', ')}, budget ${money(brief.budget_cap_usd_monthly)}/mo. ` +
    `Your plan is ready: ${steps}, ${lines || 'no instances'}, ${money(plan.cost_estimate.monthly_usd)}/mo, ${plan.risk.severity} risk.${collapse} ` +
    `Open Plan to review and approve it.`
  );
}

export type PostedMessages = { user_message: MessageView; assistant_message: MessageView };

export async function postMessage(
  pool: pg.Pool,
  faults: Faults,
  accountId: string,
  conversationId: string,
  content: string,
  variants: Variants = NO_VARIANTS,
): Promise<PostedMessages> {
  return inTransaction(pool, async (client) => {
    // The lock keeps one conversation's messages (and its collecting mission) strictly in order.
    await ownConversation(client, accountId, conversationId, true);
    await consumeAiQuota(client);
    const userMessage = await insertMessage(client, conversationId, accountId, 'user', content, {});

    const latest = await client.query<MissionRow>(
      `SELECT id, account_id, conversation_id, phase, status, brief, plan, error_code, error_message
         FROM ai_missions WHERE conversation_id = $1 ORDER BY created_at DESC LIMIT 1`,
      [conversationId],
    );
    const last = latest.rows[0];
    const collecting = last?.status === 'collecting' ? last : undefined;
    const previous = await client.query<{ brief: PartialBrief }>(
      `SELECT brief FROM ai_missions WHERE conversation_id = $1 AND status <> 'collecting' ORDER BY created_at DESC LIMIT 1`,
      [conversationId],
    );
    const capture = captureBrief(
      content,
      { collecting: collecting?.brief ?? null, previous: previous.rows[0]?.brief ?? null },
      { regionWrong: faults('brief_region_wrong'), botAsServer: faults('brief_use_case_not_bot') },
    );

    let mission: MissionRow;
    if (collecting) {
      await client.query(`UPDATE ai_missions SET brief = $2, updated_at = now() WHERE id = $1`, [collecting.id, JSON.stringify(capture.brief)]);
      mission = { ...collecting, brief: capture.brief };
    } else {
      const created = await client.query<MissionRow>(
        `INSERT INTO ai_missions (account_id, conversation_id, phase, status, brief) VALUES ($1, $2, 'brief', 'collecting', $3)
         RETURNING id, account_id, conversation_id, phase, status, brief, plan, error_code, error_message`,
        [accountId, conversationId, JSON.stringify(capture.brief)],
      );
      mission = created.rows[0]!;
    }

    let assistant: { content: string; metadata: Record<string, unknown> };
    if (capture.complete) {
      const plan = await composeMissionPlan(client, mission, faults, variants);
      assistant = {
        content: planAnnouncement(capture.brief, plan),
        metadata: { mission_id: mission.id, mission_phase: 'plan_review', brief: capture.brief, plan_ready: { mission_id: mission.id } },
      };
    } else {
      assistant = {
        content: briefQuestion(capture),
        metadata: { mission_id: mission.id, mission_phase: 'brief', brief: capture.brief, missing: capture.missing },
      };
    }
    const assistantMessage = await insertMessage(client, conversationId, accountId, 'assistant', assistant.content, assistant.metadata);
    return { user_message: userMessage, assistant_message: assistantMessage };
  });
}
