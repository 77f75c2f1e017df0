/**
 * Last reporter of every run: after the HTML, JUnit and JSON reporters have written their files,
 * scan them and test-results/ (traces included) for secret values, and fail the run naming each
 * file that holds one.
 */
import type { FullResult, Reporter } from '@playwright/test/reporter';
import { loadConfig } from '../helpers/config';
import { forgetRunSecrets, readRunSecrets } from '../helpers/run/secrets';
import { maskInZips, scanArtifacts, type Secret } from '../helpers/run/secret-scan';

export const ARTIFACT_ROOTS = ['playwright-report', 'test-results', 'blob-report'];

export function configuredSecrets(): Secret[] {
  const config = loadConfig();
  return [
    { name: 'VULTR_API_KEY', value: config.VULTR_API_KEY },
    { name: 'STRIPE_SECRET_KEY', value: config.STRIPE_SECRET_KEY },
    { name: 'STRIPE_WEBHOOK_SECRET', value: config.STRIPE_WEBHOOK_SECRET },
    { name: 'INTERNAL_API_TOKEN', value: config.INTERNAL_API_TOKEN },
  ];
}

export default class SecretScanReporter implements Reporter {
  printsToStdio(): boolean {
    return false;
  }

  async onEnd(_result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const runId = process.env.E2E_RUN_ID ?? '';
    const generated = runId ? readRunSecrets(runId) : [];
    // The throwaway users' passwords travel in the browser's own signup request, so traces hold
    // them; mask them there. Configured keys are never masked: finding one is a real leak.
    const masked = maskInZips(ARTIFACT_ROOTS, generated.map((s) => s.value));
    if (masked > 0) console.log(`secret-scan: masked ${masked} generated password/token occurrence(s) in trace archives`);
    const secrets = [...configuredSecrets(), ...generated];
    const findings = scanArtifacts(ARTIFACT_ROOTS, secrets);
    if (runId) forgetRunSecrets(runId);
    if (findings.length === 0) {
      console.log(`secret-scan: no secret value in ${ARTIFACT_ROOTS.join(', ')} (${secrets.length} secrets checked)`);
      return undefined;
    }
    for (const f of findings) console.error(`secret-scan: ${f.secret} (${f.encoding}) found in ${f.file}`);
    console.error('secret-scan: the run is failed: artifacts above leak a secret; delete them before sharing');
    return { status: 'failed' };
  }
}
