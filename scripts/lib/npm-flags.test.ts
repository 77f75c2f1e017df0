import { describe, expect, it } from 'vitest';
import { withNpmConfigFlags } from './npm-flags';

const FLAGS = ['run-id', 'older-than', 'dry-run', 'help'];

describe('withNpmConfigFlags', () => {
  it('leaves argv alone when the flags came after --', () => {
    expect(withNpmConfigFlags(['--older-than', '2h'], {}, FLAGS)).toEqual(['--older-than', '2h']);
  });

  it('recovers `npm run rollback --older-than=2h`', () => {
    expect(withNpmConfigFlags([], { npm_config_older_than: '2h' }, FLAGS)).toEqual(['--older-than=2h']);
  });

  it('recovers `npm run rollback --older-than 0m --dry-run`', () => {
    expect(withNpmConfigFlags(['0m'], { npm_config_older_than: 'true', npm_config_dry_run: 'true' }, FLAGS)).toEqual([
      '--dry-run',
      '--older-than=0m',
    ]);
  });

  it('leaves an ambiguous pairing for the parser to refuse', () => {
    const argv = withNpmConfigFlags(['0m', 'abc'], { npm_config_older_than: 'true', npm_config_run_id: 'true' }, FLAGS);
    expect(argv).toEqual(['0m', 'abc', '--run-id', '--older-than']);
  });
});
