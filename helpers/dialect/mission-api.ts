/**
 * How missions and plans are read (CONTRACT 4, CONTRACT 9 `mission_api_core`). The runbook's
 * `GET /ai/missions/:id` carries the brief and the whole plan. Public Powernode's answers
 * `{mission:{…, current_phase, configuration:{brief, plan:{plan_id}}}}`, and the plan comes from
 * `POST …/compose_plan` (idempotent), with no `dag.step_count` (the nodes are counted) and edges
 * as `source`/`target`. Either way the suite sees one Mission; public Powernode's API carries no
 * error code, so a mission's outcome is read from the database (Backend.settledMission).
 */
import type { z } from 'zod';
import { coreMissionResponseSchema, corePlanResponseSchema, missionSchema, type Mission, type Plan } from '../schemas';

/** A result as the API client reads it; structurally ApiResult, without importing the client. */
type Read<T> = ({ ok: true; status: number; data: T } | { ok: false; status: number; error: { code: string; message: string } }) & { call?: string };

/** The API client's own call: method, path (under /api/v1), the schema of `data`. */
export type ApiCall = <S extends z.ZodType>(method: 'GET' | 'POST', path: string, schema: S) => Promise<Read<z.output<S>>>;

export type MissionApi = {
  read(call: ApiCall, missionId: string): Promise<Read<Mission>>;
};

const missionPath = (id: string) => `/ai/missions/${encodeURIComponent(id)}`;

/** Public Powernode's plan in the runbook's terms: the step count is the number of nodes. */
export function planFromCore(plan: z.output<typeof corePlanResponseSchema>['plan']): Plan {
  return { ...plan, dag: { ...plan.dag, step_count: plan.dag.nodes.length } };
}

export const MISSION_APIS = {
  runbook: {
    read: (call, missionId) => call('GET', missionPath(missionId), missionSchema),
  },
  core: {
    async read(call, missionId) {
      const answer = await call('GET', missionPath(missionId), coreMissionResponseSchema);
      if (!answer.ok) return answer;
      const { mission } = answer.data;
      let plan: Plan | null = null;
      if (mission.configuration.plan?.plan_id) {
        const composed = await call('POST', `${missionPath(missionId)}/compose_plan`, corePlanResponseSchema);
        if (!composed.ok) return composed;
        plan = planFromCore(composed.data.plan);
      }
      const data: Mission = { id: mission.id, phase: mission.current_phase, status: mission.status, brief: mission.configuration.brief ?? null, plan };
      return { ok: true, status: answer.status, data, call: answer.call };
    },
  },
} satisfies Record<string, MissionApi>;

export type MissionApiName = keyof typeof MISSION_APIS;
