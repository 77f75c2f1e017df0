/**
 * Lays a plan DAG out in columns: a node's column is the length of the longest dependency chain
 * before it, so every edge points rightwards. Cycles (which a valid plan never has) are cut.
 */
import type { PlanNode } from './types';

export type Edge = { from: string; to: string };
export type PlacedNode = { id: string; skill: string; label: string; column: number; row: number };
export type Layout = { nodes: PlacedNode[]; edges: Edge[]; columns: number; rows: number };

export function planEdges(nodes: PlanNode[], edges: Edge[] | undefined): Edge[] {
  const ids = new Set(nodes.map((n) => n.id));
  const seen = new Set<string>();
  const all: Edge[] = [];
  const add = (edge: Edge) => {
    const key = `${edge.from}→${edge.to}`;
    if (!ids.has(edge.from) || !ids.has(edge.to) || seen.has(key)) return;
    seen.add(key);
    all.push(edge);
  };
  for (const edge of edges ?? []) add(edge);
  for (const node of nodes) for (const dep of node.depends_on ?? []) add({ from: dep, to: node.id });
  return all;
}

export function layoutPlan(nodes: PlanNode[], edges: Edge[] | undefined): Layout {
  const allEdges = planEdges(nodes, edges);
  const parents = new Map<string, string[]>();
  for (const edge of allEdges) parents.set(edge.to, [...(parents.get(edge.to) ?? []), edge.from]);

  const column = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const value = Math.max(-1, ...(parents.get(id) ?? []).map(depth)) + 1;
    visiting.delete(id);
    column.set(id, value);
    return value;
  };

  const rowsUsed = new Map<number, number>();
  const placed = nodes.map((node) => {
    const col = depth(node.id);
    const row = rowsUsed.get(col) ?? 0;
    rowsUsed.set(col, row + 1);
    return { id: node.id, skill: node.skill, label: node.label || node.skill, column: col, row };
  });

  return {
    nodes: placed,
    edges: allEdges,
    columns: placed.length === 0 ? 0 : Math.max(...placed.map((n) => n.column)) + 1,
    rows: placed.length === 0 ? 0 : Math.max(...rowsUsed.values()),
  };
}
