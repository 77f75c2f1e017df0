#!/usr/bin/env node
// `npm test`: every check CI runs, in order, continuing past a failure so one run shows them all.
// Writes test-results/stages.json for .ci/ci-summary.mjs; exits non-zero if any stage failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

const stages = [
  { name: 'lint', cmd: ['npx', 'eslint', '.'] },
  { name: 'typecheck', cmd: ['npm', 'run', '--silent', 'typecheck'] },
  { name: 'unit', cmd: ['npx', 'vitest', 'run'], results: 'test-results/unit.json' },
  { name: 'e2e', cmd: ['npx', 'playwright', 'test'], results: 'test-results/results.json' },
  // The same suite with TARGET_PROFILE=powernode-core against a stack with all twelve public Powernode
  // variants on (own ports 4911-4914, 54911; own STACK_DIR and STACK_PG_HOME in a temporary folder).
  { name: 'powernode-core', cmd: ['npx', 'tsx', 'harness/powernode-core.ts'], results: 'test-results/powernode-core.json' },
  // A clone in a 0700 folder (root's home, mktemp -d) starts the stack and a throwaway database (ports 4601-4604, 54601).
  { name: 'fresh-clone', cmd: ['npx', 'tsx', 'harness/fresh-clone.ts'], countsAsOneTest: true },
  // The reference stack presented as a remote, shared target (ports 4801-4804, 54801): without consent
  // nothing is created; with it the suite passes and leaves nothing, the shared pool untouched unless allowed.
  { name: 'remote-drill', cmd: ['npx', 'tsx', 'harness/remote-drill.ts'], countsAsOneTest: true },
  // Ctrl+C and kill -9 mid-provisioning, and kill -9 while the platform pool is off, then rollback: nothing may be left, the pool on (own stack, ports 4221-4225).
  { name: 'interrupted', cmd: ['npx', 'tsx', 'harness/interrupted-run.ts'], countsAsOneTest: true },
  // A fixed third of the fault matrix (npm run selftest runs it all): each fault must be caught.
  { name: 'selftest', cmd: ['npx', 'tsx', 'harness/selftest.ts', '--subset=ci'], countsAsOneTest: true },
];

const only = process.argv.slice(2);
const unknown = only.filter((n) => !stages.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(`test-all: unknown stage(s) ${unknown.join(', ')}; stages: ${stages.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

mkdirSync('test-results', { recursive: true });
const outcome = [];
for (const stage of stages) {
  if (only.length > 0 && !only.includes(stage.name)) continue;
  const started = Date.now();
  console.log(`\n── ${stage.name}: ${stage.cmd.join(' ')}`);
  const run = spawnSync(stage.cmd[0], stage.cmd.slice(1), { stdio: 'inherit' });
  const ok = run.status === 0;
  outcome.push({
    name: stage.name,
    ok,
    exitCode: run.status,
    seconds: (Date.now() - started) / 1000,
    results: stage.results,
    countsAsOneTest: stage.countsAsOneTest ?? false,
  });
  console.log(`── ${stage.name}: ${ok ? 'ok' : `FAILED (exit ${run.status ?? run.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
writeFileSync('test-results/stages.json', JSON.stringify(outcome, null, 2));
const failed = outcome.filter((s) => !s.ok);
console.log(`\ntest-all: ${outcome.length - failed.length}/${outcome.length} stages ok${failed.length ? `; failed: ${failed.map((s) => s.name).join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);
