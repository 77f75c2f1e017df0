/**
 * Missions and plans as the API answers them, read into the shapes the page works with. The
 * runbook's shapes (CONTRACT 4) pass through; public Powernode's (the mission_api_core variant:
 * `{mission:{current_phase, configuration:{brief, plan:{plan_id}}, ...}}`, plans without
 * step_count and with `source`/`target` edges) are translated.
 */
import type { Brief, Mission, MissionPlan, MissionStatus, PlanNode } from './types';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `data` of `GET /ai/missions/:id`. A core mission carries only its plan's id: `plan` is then null. */
export function readMission(data: unknown): Mission {
  const body = isRecord(data) ? data : {};
  if (!isRecord(body.mission)) return body as unknown as Mission;
  const core = body.mission;
  const configuration = isRecord(core.configuration) ? core.configuration : {};
  return {
    id: String(core.id),
    phase: String(core.current_phase ?? ''),
    status: core.status as MissionStatus,
    brief: isRecord(configuration.brief) ? (configuration.brief as Brief) : null,
    plan: null,
    error_code: null,
  };
}

/** The `data.plan` of `POST /ai/missions/:id/compose_plan`. */
export function readPlan(plan: unknown): MissionPlan {
  const shaped = (isRecord(plan) ? plan : {}) as unknown as MissionPlan & { dag: { edges?: unknown[] } };
  const edges = (shaped.dag?.edges ?? []).map((edge) => {
    const e: Record<string, unknown> = isRecord(edge) ? edge : {};
    return { from: String(e.from ?? e.source), to: String(e.to ?? e.target) };
  });
  const nodes: PlanNode[] = shaped.dag?.nodes ?? [];
  return { ...shaped, dag: { ...shaped.dag, step_count: shaped.dag?.step_count ?? nodes.length, nodes, edges } };
}
