/**
 * Plan composer (CONTRACT 6.5): a complete brief → a DAG of provisioning steps, its cost and its
 * risk. A compute-only brief is composed as the three stages of one full-stack provision
 * (allocate → configure → boot) per region, which the collapse pass then merges; a brief with a
 * database or a private network gets one step per component, chained network → database → compute
 * so each step depends only on the one before it.
 */
import { BOOTSTRAP_CATALOG, type Catalog, type InstanceTypeSpec } from './bootstrap';
import type { Brief } from './brief-capture';
import { HOURS_PER_MONTH, estimateCost, type CostEstimate, type CostLineName, type CostResource } from './cost';
import { assessRisk, type Risk } from './risk';
import { collapseSteps, type CollapseMode, type PlanNode, type StepCollapse, type StepSkill } from './step-collapse';

export type PlanEdge = { from: string; to: string };
export type Plan = {
  plan_id: string;
  dag: { step_count: number; nodes: PlanNode[]; edges: PlanEdge[] };
  cost_estimate: CostEstimate;
  risk: Risk;
  step_collapse?: StepCollapse;
};

export type ComposeOptions = {
  planId: string;
  catalog?: Catalog;
  collapse?: CollapseMode;
  hoursPerMonth?: number;
  /** Self-test fault `cost_lines_do_not_add_up` (rules/cost.ts). */
  costLineHoursPerMonth?: number;
  riskWrong?: boolean;
  costLineName?: CostLineName;
};

/** Skills that put virtual machines on the provider (a network step does not). */
export const INSTANCE_SKILLS: readonly StepSkill[] = ['provision_full_stack', 'provision_compute', 'provision_database'];

/** True for the steps the worker creates `params.count` instances for: whole actions and first stages. */
export function createsInstances(node: PlanNode): boolean {
  return INSTANCE_SKILLS.includes(node.skill) && node.params.instance_type !== null && (node.stage === 'full' || node.stage === 'allocate');
}

function cheapest(types: InstanceTypeSpec[]): InstanceTypeSpec {
  const sorted = [...types].sort((a, b) => a.hourly_price - b.hourly_price);
  if (!sorted[0]) throw new Error('composer: the catalog has no instance types');
  return sorted[0];
}

function instanceType(catalog: Catalog, code: string | undefined, minMemoryMb = 0): InstanceTypeSpec {
  const types = catalog.instanceTypes.length > 0 ? catalog.instanceTypes : BOOTSTRAP_CATALOG.instanceTypes;
  const named = code ? types.find((t) => t.instance_type_code === code) : undefined;
  if (named) return named;
  const fitting = types.filter((t) => t.memory_mb >= minMemoryMb);
  return cheapest(fitting.length > 0 ? fitting : types);
}

function publicExposure(brief: Brief): boolean {
  return (brief.template ?? '').startsWith('web-') || /\b(web|site|blog|api|server|wordpress)\b/i.test(brief.use_case);
}

type Composition = { nodes: PlanNode[]; resources: CostResource[] };

function composeComputeOnly(brief: Brief, catalog: Catalog): Composition {
  const type = instanceType(catalog, brief.instance_type);
  const template = brief.template ?? 'base';
  const count = brief.scale.initial;
  const nodes: PlanNode[] = [];
  const resources: CostResource[] = [];
  for (const region of brief.regions) {
    const params = { region, instance_type: type.instance_type_code, template, count };
    const stages = [
      { stage: 'allocate' as const, label: `Allocate ${count}× ${type.instance_type_code} in ${region}` },
      { stage: 'configure' as const, label: `Apply the ${template} template` },
      { stage: 'boot' as const, label: `Boot and wait until running` },
    ];
    let previous: string | undefined;
    for (const { stage, label } of stages) {
      const id = `step-${nodes.length + 1}`;
      nodes.push({ id, skill: 'provision_full_stack', label, stage, depends_on: previous ? [previous] : [], params: { ...params } });
      previous = id;
    }
    resources.push({ region_code: region, instance_type_code: type.instance_type_code, instance_type_name: type.name, hourly_price: type.hourly_price, count });
  }
  return { nodes, resources };
}

function composeComponents(brief: Brief, catalog: Catalog): Composition {
  const nodes: PlanNode[] = [];
  const resources: CostResource[] = [];
  const compute = instanceType(catalog, brief.instance_type);
  // A database wants at least 2 GB of memory whatever size the app itself runs on.
  const database = instanceType(catalog, undefined, 2048);
  const engine = brief.database_engine ?? 'Postgres';
  for (const region of brief.regions) {
    let previous: string | undefined;
    const add = (skill: StepSkill, label: string, params: PlanNode['params']) => {
      const id = `step-${nodes.length + 1}`;
      nodes.push({ id, skill, label, stage: 'full', depends_on: previous ? [previous] : [], params });
      previous = id;
    };
    if (brief.components.includes('network')) {
      add('provision_network', `Create a private network in ${region}`, { region, instance_type: null, template: null, count: 1 });
    }
    if (brief.components.includes('database')) {
      add('provision_database', `Provision a ${engine} database (${database.instance_type_code}) in ${region}`, {
        region,
        instance_type: database.instance_type_code,
        template: 'hardened',
        count: 1,
        engine,
      });
      resources.push({
        region_code: region,
        instance_type_code: database.instance_type_code,
        instance_type_name: database.name,
        hourly_price: database.hourly_price,
        count: 1,
      });
    }
    if (brief.components.includes('compute')) {
      const count = brief.scale.initial;
      const template = brief.template ?? 'base';
      add('provision_compute', `Provision ${count}× ${compute.instance_type_code} for the app in ${region}`, {
        region,
        instance_type: compute.instance_type_code,
        template,
        count,
      });
      resources.push({ region_code: region, instance_type_code: compute.instance_type_code, instance_type_name: compute.name, hourly_price: compute.hourly_price, count });
    }
  }
  return { nodes, resources };
}

export function composePlan(brief: Brief, options: ComposeOptions): Plan {
  const catalog = options.catalog ?? BOOTSTRAP_CATALOG;
  const computeOnly = brief.components.length === 1 && brief.components[0] === 'compute';
  const composed = computeOnly ? composeComputeOnly(brief, catalog) : composeComponents(brief, catalog);
  const { nodes, step_collapse } = collapseSteps(composed.nodes, options.collapse ?? 'normal');
  const cost = estimateCost(composed.resources, {
    hoursPerMonth: options.hoursPerMonth ?? HOURS_PER_MONTH,
    lineName: options.costLineName,
    lineHoursPerMonth: options.costLineHoursPerMonth,
  });
  const risk = assessRisk(
    {
      publicExposure: brief.components.includes('compute') && publicExposure(brief),
      hasDatabase: brief.components.includes('database'),
      hasPrivateNetwork: brief.components.includes('network'),
      monthlyUsd: cost.monthly_usd,
      budgetUsd: brief.budget_cap_usd_monthly,
      instanceCount: composed.resources.reduce((sum, r) => sum + r.count, 0),
      regionCount: brief.regions.length,
    },
    { wrong: options.riskWrong },
  );
  const edges = nodes.flatMap((node) => node.depends_on.map((from) => ({ from, to: node.id })));
  const plan: Plan = {
    plan_id: options.planId,
    dag: { step_count: nodes.length, nodes, edges },
    cost_estimate: cost,
    risk,
  };
  if (step_collapse) plan.step_collapse = step_collapse;
  return plan;
}

/** How many instances approving this plan would create (QuotaGuard's "+1"). */
export function plannedInstanceCount(plan: Plan): number {
  return plan.cost_estimate.lines.reduce((sum, line) => sum + line.count, 0);
}
