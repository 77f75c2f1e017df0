import { describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import {
  costLineName,
  dailyShare,
  discordBriefProblems,
  formatMonthlyUsd,
  instanceLimitText,
  isCompleteBrief,
  planLimits,
  plausibleInvalidVultrKey,
  riskBadgeText,
  settledReads,
  stepProgressionProblems,
  stepsDoneText,
} from './runbook';

const config = parseConfig({});

describe('discordBriefProblems', () => {
  const reference = {
    intent: 'Run my Discord bot 24/7',
    use_case: 'Discord bot hosting (moderation)',
    scale: { initial: 1, target: 1, growth_profile: 'flat' },
    regions: ['us-east-1'],
    budget_cap_usd_monthly: 10,
  };

  it("accepts the reference stack's brief", () => {
    expect(discordBriefProblems(reference, config)).toEqual([]);
  });

  it('accepts other wording and a budget inside the band', () => {
    expect(
      discordBriefProblems(
        { ...reference, intent: 'Keep a discord bot online 24/7', use_case: 'a Discord Bot for moderation', budget_cap_usd_monthly: 11.5 },
        config,
      ),
    ).toEqual([]);
  });

  it('tolerates how a real model words it, and still rejects a reply about something else', () => {
    for (const [intent, useCase] of [
      ['Host my Discord moderation bot, always on', 'Discord moderation bot'],
      ['Keep a bot for Discord running around the clock', 'a bot for Discord'],
      ['Run my Discord bots 24x7', 'Discord bots for a community'],
    ]) {
      expect(discordBriefProblems({ ...reference, intent, use_case: useCase }, config), intent).toEqual([]);
    }
    for (const [intent, useCase] of [
      ['Run my Discord server 24/7', 'Discord community server'],
      ['Run my Telegram bot 24/7', 'a Telegram bot'],
      ['Run my Discord bot', 'Discord bot'],
    ]) {
      expect(discordBriefProblems({ ...reference, intent, use_case: useCase }, config).length, intent).toBeGreaterThan(0);
    }
  });

  it('reads the brief only once it is complete and two reads agree', async () => {
    const replies = [null, { ...reference, budget_cap_usd_monthly: undefined }, reference, { ...reference, regions: ['us-west-1'] }, { ...reference, regions: ['us-west-1'] }];
    let i = 0;
    const probe = settledReads(async () => replies[Math.min(i++, replies.length - 1)] ?? null, isCompleteBrief);
    const answers = [];
    for (let n = 0; n < 5; n++) answers.push(await probe());
    // The complete brief was read once, then rewritten: only the value two reads agree on counts.
    expect(answers).toEqual([null, null, null, null, { ...reference, regions: ['us-west-1'] }]);
  });

  it('names every mismatch', () => {
    const problems = discordBriefProblems({ intent: 'Run a web app', scale: { initial: 2 }, regions: ['us-west-1'], budget_cap_usd_monthly: 20 }, config);
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/intent/);
    expect(problems.join('\n')).toMatch(/use_case/);
    expect(problems.join('\n')).toMatch(/scale.initial/);
    expect(problems.join('\n')).toMatch(/regions/);
    expect(problems.join('\n')).toMatch(/budget/);
  });

  it('reads Brief Card values that came back as text', () => {
    expect(discordBriefProblems({ ...reference, budget_cap_usd_monthly: '10' }, config)).toEqual([]);
  });
});

describe('stepProgressionProblems', () => {
  const running = { running: 'running' };

  it('accepts pending → running → completed, and running → completed from a late first paint', () => {
    expect(stepProgressionProblems({ s1: ['pending', 'running', 'completed'] }, running)).toEqual([]);
    expect(stepProgressionProblems({ s1: ['running', 'completed'] }, running)).toEqual([]);
  });

  it('rejects a step that skipped running, failed, went backwards or never finished', () => {
    expect(stepProgressionProblems({ s1: ['pending', 'completed'] }, running)[0]).toMatch(/never shown as running/);
    expect(stepProgressionProblems({ s1: ['pending', 'running', 'failed'] }, running)[0]).toMatch(/unexpected failed/);
    expect(stepProgressionProblems({ s1: ['running', 'pending', 'running', 'completed'] }, running)[0]).toMatch(/backwards/);
    expect(stepProgressionProblems({ s1: ['pending', 'running'] }, running)[0]).toMatch(/never completed/);
    expect(stepProgressionProblems({}, running)).toEqual(['no execution step was seen on the page']);
  });

  it("uses the deployment's name for running", () => {
    expect(stepProgressionProblems({ s1: ['pending', 'executing', 'completed'] }, { running: 'executing' })).toEqual([]);
  });
});

describe('runbook figures', () => {
  it('prints money as the UI does', () => {
    expect(formatMonthlyUsd(5.04)).toBe('$5.04/mo');
    expect(formatMonthlyUsd(5.1)).toBe('$5.10/mo');
    expect(dailyShare(5.04)).toBeCloseTo(0.168, 6);
  });

  it('names the cost line and the paywall limit', () => {
    expect(costLineName(config)).toBe('us-east-1 vc2-1c-1gb');
    expect(costLineName({ ...config, EXPECTED_COST_LINE: 'us-east-1 tiny' }), 'a name apart from the Vultr plan').toBe('us-east-1 tiny');
    expect(instanceLimitText(1).test('Free plan limit reached: 1 instance')).toBe(true);
    expect(instanceLimitText(1).test('Free plan limit reached: 11 instances')).toBe(false);
  });

  it("reads the execution pill's count whatever words go before it", () => {
    expect(stepsDoneText(1, 1).test('Provisioning… 1 of 1 steps')).toBe(true);
    expect(stepsDoneText(1, 1).test('Provisioned · 1 of 1 steps')).toBe(true);
    expect(stepsDoneText(1, 1).test('Provisioned · 0 of 1 steps')).toBe(false);
    expect(stepsDoneText(1, 1).test('Provisioning… 11 of 11 steps')).toBe(false);
    expect(stepsDoneText(2, 2).test('2 of 2 step')).toBe(true);
  });

  it('makes Vultr-shaped keys that differ every time', () => {
    const a = plausibleInvalidVultrKey();
    expect(a).toMatch(/^[A-Z2-7]{36}$/);
    expect(plausibleInvalidVultrKey()).not.toBe(a);
  });
});

describe('riskBadgeText and planLimits', () => {
  it('writes the risk badge as the contract does', () => {
    expect(riskBadgeText('low', 12)).toBe('Low risk · 12');
    expect(riskBadgeText('med', 45)).toBe('Med risk · 45');
  });

  it('builds the plan limits from config, not literals', () => {
    expect(planLimits(config)).toEqual({
      free: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
      pro_cloud: { max_node_instances: 50, max_monthly_provisioning_usd: 500 },
    });
    expect(planLimits(parseConfig({ FREE_INSTANCE_LIMIT: '2', PRO_CLOUD_MONTHLY_PROVISIONING_USD: '900' }))).toEqual({
      free: { max_node_instances: 2, max_monthly_provisioning_usd: 20 },
      pro_cloud: { max_node_instances: 50, max_monthly_provisioning_usd: 900 },
    });
  });
});
