/**
 * The run's secrets, in one place: the configured ones (keys and tokens from .env), which evidence
 * redacts and the end-of-run scan must never find in an artifact, and the ones a run makes up as it
 * goes (its throwaway users' passwords and tokens). Workers record those in a file so the secret
 * scanner, which runs in the main process at the end, can look for them too; the file is kept
 * outside every artifact folder, readable only by us, and removed after the scan.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config';

export type Secret = { name: string; value: string };

/** The configured secrets, named by their variable (a finding names the variable, never the value). */
export function configuredSecrets(
  config: Pick<Config, 'VULTR_API_KEY' | 'STRIPE_SECRET_KEY' | 'STRIPE_WEBHOOK_SECRET' | 'INTERNAL_API_TOKEN'> &
    Partial<Pick<Config, 'DATABASE_URL' | 'VULTR_ISOLATION_API_KEY'>>,
): Secret[] {
  const secrets = [
    { name: 'VULTR_API_KEY', value: config.VULTR_API_KEY },
    { name: 'STRIPE_SECRET_KEY', value: config.STRIPE_SECRET_KEY },
    { name: 'STRIPE_WEBHOOK_SECRET', value: config.STRIPE_WEBHOOK_SECRET },
    { name: 'INTERNAL_API_TOKEN', value: config.INTERNAL_API_TOKEN },
  ];
  // The account-isolation test registers it through the API, so it must never reach an artifact either.
  if (config.VULTR_ISOLATION_API_KEY) secrets.push({ name: 'VULTR_ISOLATION_API_KEY', value: config.VULTR_ISOLATION_API_KEY });
  const databasePassword = config.DATABASE_URL ? decodeURIComponent(new URL(config.DATABASE_URL).password) : '';
  // The reference's 'm1' is too short to tell from ordinary text; the scanner ignores such values anyway.
  if (databasePassword.length >= 8) secrets.push({ name: 'DATABASE_URL (its password)', value: databasePassword });
  return secrets;
}

/** The variables whose values configuredSecrets checks for: CI must give every job that scans the same ones. */
export const SECRET_VARIABLES = ['VULTR_API_KEY', 'VULTR_ISOLATION_API_KEY', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'INTERNAL_API_TOKEN', 'DATABASE_URL'] as const;

/** The configured secret values long enough to redact without cutting ordinary words out of text. */
export function secretValues(config: Parameters<typeof configuredSecrets>[0]): string[] {
  return configuredSecrets(config)
    .map((s) => s.value)
    .filter((value) => value.length >= 8);
}

function fileFor(runId: string): string {
  return join(tmpdir(), 'm1-run-secrets', `${runId}.tsv`);
}

export function recordRunSecret(runId: string, name: string, value: string): void {
  const file = fileFor(runId);
  mkdirSync(join(tmpdir(), 'm1-run-secrets'), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${name.replace(/\s/g, '_')}\t${value}\n`, { mode: 0o600 });
}

export function readRunSecrets(runId: string): Secret[] {
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
