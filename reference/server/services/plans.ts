/** Plans and the account's current subscription (no active subscription → the free plan). */
import { ApiError } from '../http/errors';
import type { Db } from './db';

export type PlanRow = {
  id: string;
  slug: string;
  name: string;
  price_cents: number;
  stripe_price_lookup_key: string;
  limits: Record<string, unknown>;
};

export const FREE_PLAN_SLUG = 'free';

export async function listPlans(db: Db): Promise<PlanRow[]> {
  const { rows } = await db.query<PlanRow>(
    `SELECT id, slug, name, price_cents, stripe_price_lookup_key, limits FROM saas_plans ORDER BY price_cents, slug`,
  );
  return rows;
}

export async function planBySlug(db: Db, slug: string): Promise<PlanRow | null> {
  const { rows } = await db.query<PlanRow>(
    `SELECT id, slug, name, price_cents, stripe_price_lookup_key, limits FROM saas_plans WHERE slug = $1`,
    [slug],
  );
  return rows[0] ?? null;
}

export type CurrentPlan = { plan: PlanRow; status: string };

export async function currentPlan(db: Db, accountId: string): Promise<CurrentPlan> {
  const { rows } = await db.query<PlanRow & { status: string }>(
    `SELECT p.id, p.slug, p.name, p.price_cents, p.stripe_price_lookup_key, p.limits, s.status
       FROM subscriptions s JOIN saas_plans p ON p.id = s.saas_plan_id
      WHERE s.account_id = $1 AND s.status = 'active'
      ORDER BY s.updated_at DESC LIMIT 1`,
    [accountId],
  );
  const active = rows[0];
  if (active) {
    const { status, ...plan } = active;
    return { plan, status };
  }
  const free = await planBySlug(db, FREE_PLAN_SLUG);
  if (!free) throw new ApiError(503, 'plans_missing', 'The plan catalogue is not seeded (no "free" plan)');
  return { plan: free, status: 'none' };
}
