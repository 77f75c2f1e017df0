/**
 * What the self-test expects of the suite for each of CONTRACT 9's variants of the reference stack
 * (reference/lib/variants.ts, the one list of variant names). With the default profile the suite
 * must fail where the variant first shows, and the diagnosis must carry that variant's hint, naming
 * the setting (helpers/diagnosis/variant-hints.ts). With that setting (harness/lib/variants.ts) the
 * whole suite must pass. Where to fail is built from the specs' own titles, as for the faults.
 */
import type { VariantName } from '@m1/reference/variants';
import { NEGATIVE, PREFLIGHT } from '../tests/steps';
import { FUNNEL_TEST, STEP_1, STEP_2, STEP_3, STEP_4, STEP_5, inTest, literal, theTest } from './selftest-faults';

export type VariantExpectation = {
  /** Tests to run with the default profile (Playwright --grep). Pre-flight and the teardown always run. */
  grep: RegExp;
  /** Where that run must fail. */
  step: RegExp;
  /** What its diagnosis must say: the variant's hint, naming the setting. */
  hint: RegExp;
  /** Shown under the variant table: how it is caught. */
  note?: string;
};

/** The diagnosis's line for a variant's hint, naming the setting that accepts it. */
const hint = (variant: VariantName, setting: string) => new RegExp(`Known variant \\(${variant}\\): .*this looks like public Powernode's .*; set ${literal(setting)}`);

export const VARIANT_EXPECTATIONS: Record<VariantName, VariantExpectation> = {
  route_core: { grep: FUNNEL_TEST, step: STEP_1, hint: hint('route_core', 'PROVISIONING_ROUTE=/app/system/provision') },
  cost_730h: { grep: FUNNEL_TEST, step: STEP_3, hint: hint('cost_730h', 'EXPECTED_MONTHLY_COST_USD=5.11 and EXPECTED_COST_LINE="us-east-1 tiny"') },
  cloud_id_in_config: {
    grep: FUNNEL_TEST,
    step: inTest(PREFLIGHT.schema),
    hint: hint('cloud_id_in_config', "NODE_INSTANCE_PROVIDER_ID_SQL=config->>'cloud_instance_id' and NODE_INSTANCE_INSERT=core"),
    note: 'the missing provider_instance_id column is the hint\'s to explain, not a "Pending migrations" row',
  },
  step_executing: { grep: FUNNEL_TEST, step: STEP_4, hint: hint('step_executing', 'STEP_RUNNING_STATUS=executing') },
  mission_api_core: { grep: FUNNEL_TEST, step: STEP_2, hint: hint('mission_api_core', 'MISSION_API=core') },
  errors_flat: { grep: FUNNEL_TEST, step: STEP_5, hint: hint('errors_flat', 'ERROR_ENVELOPE=flat') },
  paywall_in_chat: {
    grep: FUNNEL_TEST,
    step: STEP_4,
    hint: hint('paywall_in_chat', 'PAYWALL_SOURCE=chat'),
    note: 'the first approve already answers 200 with the mission where the runbook says 202',
  },
  login_ids_core: {
    grep: theTest(NEGATIVE.stepCollapse.test),
    step: inTest(NEGATIVE.stepCollapse.test),
    hint: hint('login_ids_core', 'LOGIN_IDS=core'),
    note: 'the funnel signs up and never logs in: a negative path, logged in through /login, shows it',
  },
  step_stream_core: { grep: FUNNEL_TEST, step: STEP_4, hint: hint('step_stream_core', 'STEP_STATUS_SOURCE=stream') },
  brief_core: { grep: FUNNEL_TEST, step: STEP_2, hint: hint('brief_core', 'BRIEF_CARD_FORMAT=core') },
  worker_command: {
    grep: FUNNEL_TEST,
    step: inTest(PREFLIGHT.worker),
    hint: hint('worker_command', 'WORKER_STATE_COMMAND'),
    note: 'a health URL answering 404 is the hint\'s to explain, not a "Worker not running" row',
  },
  log_journald: { grep: FUNNEL_TEST, step: inTest(PREFLIGHT.ownStack), hint: hint('log_journald', 'BACKEND_LOG_FORMAT=journald') },
};
