/**
 * Running the suite against a reference stack with CONTRACT 9's variants on: which settings
 * accept which variant, and what the reference stack needs on top of the powernode-core profile.
 * A real Powernode's log and worker commands are per deployment (profiles/powernode-core.env has
 * them to fill in); the reference stack's are these.
 */
import { join } from 'node:path';
import { VARIANTS, type VariantName } from '@m1/reference/variants';
import { PROFILES } from '../../helpers/config';
import { ROOT } from './playwright-run';

export const ALL_VARIANTS = Object.keys(VARIANTS) as VariantName[];

/** A word for the shell, whatever it holds (a checkout path may have blanks). */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The reference stack's answers to the two settings no profile can hold: its backend journal
 * (log_journald) and its worker-state command (worker_command), both read from the suite's own
 * environment (the stack's addresses and database).
 */
export function referenceCommands(stackDir: string): { BACKEND_LOG_COMMAND: string; WORKER_STATE_COMMAND: string } {
  return {
    BACKEND_LOG_COMMAND: `cat ${shellQuote(join(stackDir, 'logs', 'backend.journal'))}`,
    WORKER_STATE_COMMAND: `${shellQuote(process.execPath)} --import tsx ${shellQuote(join(ROOT, 'reference', 'scripts', 'worker-state.ts'))}`,
  };
}

/** Which variables of the powernode-core profile accept each variant, and which reference command it needs. */
export const VARIANT_SETTINGS: Record<VariantName, { profile: string[]; reference?: 'BACKEND_LOG_COMMAND' | 'WORKER_STATE_COMMAND' }> = {
  route_core: { profile: ['PROVISIONING_ROUTE'] },
  cost_730h: { profile: ['EXPECTED_MONTHLY_COST_USD', 'EXPECTED_COST_LINE'] },
  cloud_id_in_config: { profile: ['NODE_INSTANCE_PROVIDER_ID_SQL', 'NODE_INSTANCE_INSERT'] },
  step_executing: { profile: ['STEP_RUNNING_STATUS'] },
  mission_api_core: { profile: ['MISSION_API'] },
  errors_flat: { profile: ['ERROR_ENVELOPE'] },
  paywall_in_chat: { profile: ['PAYWALL_SOURCE', 'UPGRADE_REASON_INSTANCES'] },
  login_ids_core: { profile: ['LOGIN_IDS'] },
  step_stream_core: { profile: ['STEP_STATUS_SOURCE'] },
  brief_core: { profile: ['BRIEF_CARD_FORMAT'] },
  worker_command: { profile: ['METER_JOB_NAME'], reference: 'WORKER_STATE_COMMAND' },
  log_journald: { profile: ['BACKEND_LOG_FORMAT'], reference: 'BACKEND_LOG_COMMAND' },
};

/** The suite's settings that accept one variant of the reference stack, and nothing else. */
export function variantSettings(variant: VariantName, stackDir: string): Record<string, string> {
  const { profile, reference } = VARIANT_SETTINGS[variant];
  const core = PROFILES['powernode-core'];
  const settings = Object.fromEntries(profile.map((name) => [name, core[name] ?? '']));
  return reference ? { ...settings, [reference]: referenceCommands(stackDir)[reference] } : settings;
}

/** Settings as a report shows them: the same on every machine (the stack's folder, the checkout and node by name). */
export function displaySettings(settings: Record<string, string>, stackDir: string): Record<string, string> {
  const shown = (value: string) =>
    value.replaceAll(shellQuote(process.execPath), 'node').replaceAll(stackDir, '<STACK_DIR>').replaceAll(`${ROOT}/`, '');
  return Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, shown(value)]));
}

/** The suite's settings for the stack with every variant on: the powernode-core profile and the reference's commands. */
export function allVariantsSettings(stackDir: string): Record<string, string> {
  return { TARGET_PROFILE: 'powernode-core', ...referenceCommands(stackDir) };
}
