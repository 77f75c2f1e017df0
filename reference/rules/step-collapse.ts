/**
 * Step collapse (CONTRACT 6.5): consecutive steps with the same skill and the same fingerprint
 * (template, region, instance type), where the later one depends only on the earlier, are one
 * action split into stages; they merge into one step. Anything else is left as composed.
 */

export type StepSkill = 'provision_full_stack' | 'provision_compute' | 'provision_database' | 'provision_network';
/** `full` is a whole provisioning action; the others are the stages of one split into three. */
export type StepStage = 'allocate' | 'configure' | 'boot' | 'full';

export type StepParams = {
  region: string;
  instance_type: string | null;
  template: string | null;
  count: number;
  engine?: string;
};

export type PlanNode = {
  id: string;
  skill: StepSkill;
  label: string;
  stage: StepStage;
  depends_on: string[];
  params: StepParams;
};

export type StepCollapse = { original_step_count: number; collapsed_step_count: number; reason: string };

export type CollapseMode = 'normal' | 'disabled' | 'over_merge';

export function fingerprint(node: PlanNode): string {
  return [node.params.template ?? '', node.params.region, node.params.instance_type ?? ''].join('|');
}

function mergeable(earlier: PlanNode, later: PlanNode, mode: CollapseMode): boolean {
  const dependsOnlyOnEarlier = later.depends_on.length === 1 && later.depends_on[0] === earlier.id;
  // The over-merge fault drops the skill and fingerprint checks, which is exactly the defect.
  if (mode === 'over_merge') return dependsOnlyOnEarlier;
  return dependsOnlyOnEarlier && earlier.skill === later.skill && fingerprint(earlier) === fingerprint(later);
}

function mergedLabel(node: PlanNode): string {
  const { count, instance_type, region, template } = node.params;
  if (node.skill === 'provision_full_stack' && instance_type) {
    return `Provision ${count}× ${instance_type} in ${region}${template ? ` (${template} template)` : ''}`;
  }
  return node.label;
}

export function collapseSteps(nodes: PlanNode[], mode: CollapseMode = 'normal'): { nodes: PlanNode[]; step_collapse: StepCollapse | null } {
  if (mode === 'disabled') return { nodes: nodes.map((n) => structuredClone(n)), step_collapse: null };
  const alias = new Map<string, string>();
  const result: PlanNode[] = [];
  let reason: string | null = null;
  for (const original of nodes) {
    const node: PlanNode = { ...structuredClone(original), depends_on: [...new Set(original.depends_on.map((d) => alias.get(d) ?? d))] };
    const last = result[result.length - 1];
    if (last && mergeable(last, node, mode)) {
      reason ??= `redundant_sequential_${last.skill}`;
      alias.set(node.id, last.id);
      const merged: PlanNode = { ...last, stage: 'full' };
      merged.label = last.skill === node.skill ? mergedLabel(merged) : `${last.label} + ${node.label}`;
      result[result.length - 1] = merged;
      continue;
    }
    result.push(node);
  }
  if (result.length === nodes.length) return { nodes: result, step_collapse: null };
  return {
    nodes: result,
    step_collapse: { original_step_count: nodes.length, collapsed_step_count: result.length, reason: reason! },
  };
}
