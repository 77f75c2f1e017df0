/**
 * Secrets a run makes up as it goes (the passwords of its throwaway users). Workers record them
 * here so the secret scanner, which runs in the main process at the end, can look for them too.
 * Kept outside every artifact folder, readable only by us, removed after the scan.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function fileFor(runId: string): string {
  return join(tmpdir(), 'm1-run-secrets', `${runId}.tsv`);
}

export function recordRunSecret(runId: string, name: string, value: string): void {
  const file = fileFor(runId);
  mkdirSync(join(tmpdir(), 'm1-run-secrets'), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${name.replace(/\s/g, '_')}\t${value}\n`, { mode: 0o600 });
}

export function readRunSecrets(runId: string): { name: string; value: string }[] {
  const file = fileFor(runId);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = 'generated', value = ''] = line.split('\t');
      return { name, value };
    });
}

export function forgetRunSecrets(runId: string): void {
  rmSync(fileFor(runId), { force: true });
}
