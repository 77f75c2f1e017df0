/**
 * How missions, plans and step statuses leave the API: the runbook's shapes (CONTRACT 4), or
 * public Powernode's where a variant says so (CONTRACT 9 `mission_api_core`, `step_executing`).
 * The rows and the stored plan are the same either way; only these serializers differ.
 */
import type { MissionEvent } from '../../lib/events';
import type { Variants } from '../../lib/variants';
import { missingFields } from '../../rules/brief-capture';
import type { Plan } from '../../rules/composer';
import type { MissionRow, MissionSnapshot } from './missions';
import { missionView } from './missions';

/** Public Powernode's mission (`GET /ai/missions/:id` → `data.mission`). */
export type CoreMission = {
  id: string;
  status: string;
  current_phase: string;
  configuration: { brief: MissionRow['brief']; brief_missing_fields: string[]; plan: { plan_id: string } | null };
  error_message: string | null;
  conversation_id: string;
};

/** Public Powernode's plan (`POST /ai/missions/:id/compose_plan` → `data.plan`): no step_count, edges source/target. */
export type CorePlan = {
  plan_id: string;
  mission_id: string;
  dag: { nodes: Plan['dag']['nodes']; edges: { source: string; target: string }[] };
  cost_estimate: Plan['cost_estimate'];
  topology_preview: { nodes: { id: string; skill: string; label: string }[]; edges: { source: string; target: string }[] };
  risk: Plan['risk'];
  /** CONTRACT 9 is silent on it; kept so the collapse can still be seen (RUNBOOK step 3). */
  step_collapse?: Plan['step_collapse'];
};

export function coreMission(row: MissionRow): CoreMission {
  return {
    id: row.id,
    status: row.status,
    current_phase: row.phase,
    configuration: {
      brief: row.brief,
      brief_missing_fields: missingFields(row.brief),
      plan: row.plan ? { plan_id: row.plan.plan_id } : null,
    },
    error_message: row.error_message,
    conversation_id: row.conversation_id,
  };
}

export function corePlan(plan: Plan, missionId: string): CorePlan {
  const edges = plan.dag.edges.map((edge) => ({ source: edge.from, target: edge.to }));
  const shaped: CorePlan = {
    plan_id: plan.plan_id,
    mission_id: missionId,
    dag: { nodes: plan.dag.nodes, edges },
    cost_estimate: plan.cost_estimate,
    topology_preview: { nodes: plan.dag.nodes.map((node) => ({ id: node.id, skill: node.skill, label: node.label ?? node.skill })), edges },
    risk: plan.risk,
  };
  if (plan.step_collapse) shaped.step_collapse = plan.step_collapse;
  return shaped;
}

/** The `data` of `GET /ai/missions/:id`. */
export function missionBody(row: MissionRow, variants: Variants): object {
  return variants('mission_api_core') ? { mission: coreMission(row) } : missionView(row);
}

/** The `data.mission` that approve answers with under `paywall_in_chat`. */
export function missionObject(row: MissionRow, variants: Variants): object {
  return variants('mission_api_core') ? coreMission(row) : missionView(row);
}

/** The `data.plan` of `POST /ai/missions/:id/compose_plan`. */
export function planBody(plan: Plan, missionId: string, variants: Variants): Plan | CorePlan {
  return variants('mission_api_core') ? corePlan(plan, missionId) : plan;
}

/** A step's status as the event stream tells it: public Powernode calls `running` `executing`. */
export function stepStatusOut(status: string, variants: Variants): string {
  return status === 'running' && variants('step_executing') ? 'executing' : status;
}

export function snapshotOut(snapshot: MissionSnapshot, variants: Variants): MissionSnapshot {
  if (!variants('step_executing')) return snapshot;
  return { ...snapshot, steps: snapshot.steps.map((step) => ({ ...step, status: stepStatusOut(step.status, variants) })) };
}

export function eventOut(event: MissionEvent, variants: Variants): object {
  return event.type === 'step' ? { ...event, status: stepStatusOut(event.status, variants) } : event;
}
