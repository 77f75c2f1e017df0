/**
 * Last reporter of every run: after the HTML, JUnit and JSON reporters have written their files,
 * scan them and test-results/ (traces included) for secret values, and fail the run naming each
 * file that holds one.
 */
import type { FullResult, Reporter } from '@playwright/test/reporter';
import { loadConfig } from '../helpers/config';
import { maskInZips, scanArtifacts } from '../helpers/run/secret-scan';
import { configuredSecrets, forgetRunSecrets, readRunSecrets } from '../helpers/run/secrets';

export const ARTIFACT_ROOTS = ['playwright-report', 'test-results', 'blob-report'];

export default class SecretScanReporter implements Reporter {
  printsToStdio(): boolean {
    return false;
  }

  onEnd(_result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    // Playwright takes a changed run status only from a returned promise; the scan itself is synchronous.
    return Promise.resolve(this.scan());
  }

  /** Masks generated values in trace zips, then fails the run when any artifact still holds a secret. */
  private scan(): { status: FullResult['status'] } | undefined {
    const runId = process.env.E2E_RUN_ID ?? '';
    const generated = runId ? readRunSecrets(runId) : [];
    // The throwaway users' passwords travel in the browser's own signup request, so traces hold
    // them; mask them there. Configured keys are never masked: finding one is a real leak.
    const masked = maskInZips(ARTIFACT_ROOTS, generated.map((s) => s.value));
    if (masked > 0) console.log(`secret-scan: masked ${masked} generated password/token occurrence(s) in trace archives`);
    const secrets = [...configuredSecrets(loadConfig()), ...generated];
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
