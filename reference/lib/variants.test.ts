import { describe, expect, it } from 'vitest';
import { FAULTS } from './faults';
import { chatRoute, NO_VARIANTS, parseVariants, VARIANTS, variantList, variantsOf } from './variants';

describe('variants', () => {
  it('are the twelve differences of CONTRACT 9, in its order', () => {
    expect(Object.keys(VARIANTS)).toEqual([
      'route_core',
      'cost_730h',
      'cloud_id_in_config',
      'step_executing',
      'mission_api_core',
      'errors_flat',
      'paywall_in_chat',
      'login_ids_core',
      'step_stream_core',
      'brief_core',
      'worker_command',
      'log_journald',
    ]);
  });

  it('keep their own list beside the faults, where cost_730h is also a fault', () => {
    expect(Object.keys(FAULTS)).toContain('cost_730h');
    expect(VARIANTS.cost_730h).not.toBe(FAULTS.cost_730h);
  });

  it('parse a comma list and reject unknown names, listing the known ones', () => {
    expect(parseVariants(' route_core, errors_flat ,route_core')).toEqual(['route_core', 'errors_flat']);
    expect(parseVariants(undefined)).toEqual([]);
    expect(() => parseVariants('route_core,nope')).toThrow(/^unknown variant\(s\): nope; known: route_core, cost_730h, .*, log_journald$/);
  });

  it('list one a line: the name, then its description', () => {
    const lines = variantList().split('\n');
    expect(lines).toHaveLength(12);
    for (const [index, name] of Object.keys(VARIANTS).entries()) {
      expect(lines[index]).toMatch(new RegExp(`^${name} +\\S`));
      expect(lines[index]).toContain(VARIANTS[name as keyof typeof VARIANTS]);
    }
  });

  it('move the chat to /app/system/provision only under route_core', () => {
    expect(chatRoute(NO_VARIANTS)).toBe('/new');
    expect(chatRoute(variantsOf(['route_core']))).toBe('/app/system/provision');
  });
});
