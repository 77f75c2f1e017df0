import { describe, expect, it } from 'vitest';
import { layoutPlan } from './topology';

describe('layoutPlan', () => {
  it('puts a single step alone', () => {
    const layout = layoutPlan([{ id: 's1', skill: 'provision_full_stack' }], []);
    expect(layout).toMatchObject({ columns: 1, rows: 1, edges: [] });
    expect(layout.nodes[0]).toMatchObject({ id: 's1', column: 0, row: 0, label: 'provision_full_stack' });
  });

  it('places each node after the longest chain before it, merging depends_on and edges', () => {
    const layout = layoutPlan(
      [
        { id: 'net', skill: 'provision_network' },
        { id: 'db', skill: 'provision_database', depends_on: ['net'] },
        { id: 'app', skill: 'provision_compute', depends_on: ['net'] },
      ],
      [
        { from: 'net', to: 'db' },
        { from: 'db', to: 'app' },
      ],
    );
    const column = Object.fromEntries(layout.nodes.map((n) => [n.id, n.column]));
    expect(column).toEqual({ net: 0, db: 1, app: 2 });
    expect(layout.edges).toHaveLength(3);
    expect(layout.columns).toBe(3);
  });

  it('stacks independent steps in one column and ignores edges to unknown nodes', () => {
    const layout = layoutPlan(
      [
        { id: 'a', skill: 'provision_compute' },
        { id: 'b', skill: 'provision_database' },
      ],
      [{ from: 'ghost', to: 'a' }],
    );
    expect(layout.nodes.map((n) => [n.column, n.row])).toEqual([
      [0, 0],
      [0, 1],
    ]);
    expect(layout.edges).toEqual([]);
  });

  it('survives a cycle', () => {
    const layout = layoutPlan(
      [
        { id: 'a', skill: 'x', depends_on: ['b'] },
        { id: 'b', skill: 'y', depends_on: ['a'] },
      ],
      [],
    );
    expect(layout.nodes).toHaveLength(2);
  });
});
