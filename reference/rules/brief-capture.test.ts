import { describe, expect, it } from 'vitest';
import { briefQuestion, captureBrief, completeBrief, extractBrief, mergeBrief, type Brief } from './brief-capture';

const DISCORD =
  "I want to run my Discord moderation bot 24/7 on a small VM. It's a side project, I don't need anything fancy — just $5/mo on a 1 vCPU box.";

function complete(text: string, context = {}, options = {}): Brief {
  const result = captureBrief(text, context, options);
  if (!result.complete) throw new Error(`expected a complete brief for "${text}", missing ${result.missing.join(', ')}`);
  return result.brief;
}

describe('brief capture: the runbook prompts', () => {
  it('reads the Discord prompt as the runbook expects', () => {
    const brief = complete(DISCORD);
    expect(brief).toMatchObject({
      intent: 'Run my Discord bot 24/7',
      scale: { initial: 1, target: 1, growth_profile: 'flat' },
      regions: ['us-east-1'],
      budget_cap_usd_monthly: 10,
      preferred_provider: 'pro_cloud',
      components: ['compute'],
      instance_type: 'vc2-1c-1gb',
    });
    expect(brief.use_case).toMatch(/Discord bot/);
    expect(brief.use_case).toMatch(/moderation/);
    expect(brief.use_case).toMatch(/side project/);
  });

  it('puts the Discord bot in us-west-1 under the brief_region_wrong fault', () => {
    expect(complete(DISCORD, {}, { regionWrong: true }).regions).toEqual(['us-west-1']);
  });

  it('reads "another bot host alongside the first one" as one more of the previous brief', () => {
    const first = complete(DISCORD);
    const second = complete('Spin up another bot host alongside the first one.', { previous: first });
    expect(second).toEqual({ ...first, scale: { initial: 1, target: 1, growth_profile: 'flat' } });
  });

  it('still finds a workload in "another bot host" without a previous brief', () => {
    const brief = complete('Spin up another bot host alongside the first one.');
    expect(brief.intent).toBe('Run my bot 24/7');
    expect(brief.components).toEqual(['compute']);
  });

  it('reads a web app + Postgres + private network as three components', () => {
    const brief = complete('I need a web app with a Postgres database and a private network between them.');
    expect(brief.components).toEqual(['compute', 'database', 'network']);
    expect(brief.intent).toBe('Host my web app');
    expect(brief.use_case).toMatch(/Postgres/);
    expect(brief.database_engine).toBe('Postgres');
    expect(brief.budget_cap_usd_monthly).toBe(50);
    expect(brief.regions).toEqual(['us-east-1']);
  });
});

describe('brief capture: paraphrases', () => {
  it.each([
    ['Host my Slack bot, always on, $10 a month', 'Slack', 20],
    ['I need a telegram bot running around the clock with a budget of 20 dollars', 'Telegram', 20],
    ['run a twitch chat bot for my stream, max $8/month', 'Twitch', 8],
    ['Can you keep my discord music bot online? I can spend up to $15 per month', 'Discord', 15],
  ])('%s', (text, platform, budget) => {
    const brief = complete(text);
    expect(brief.intent).toBe(`Run my ${platform} bot 24/7`);
    expect(brief.use_case).toContain(`${platform} bot`);
    expect(brief.budget_cap_usd_monthly).toBe(budget);
    expect(brief.components).toEqual(['compute']);
  });

  it.each([
    ['a web server in Los Angeles', ['us-west-1']],
    ['deploy my website on the west coast', ['us-west-1']],
    ['my blog, hosted in LA please', ['us-west-1']],
    ['a web app in California', ['us-west-1']],
    ['an API backend in New York', ['us-east-1']],
    ['a discord bot in us-east-1 and another copy on the west coast', ['us-east-1', 'us-west-1']],
    ['a wordpress site', ['us-east-1']],
  ])('region of "%s"', (text, regions) => {
    expect(complete(text).regions).toEqual(regions);
  });

  it.each([
    ['a discord bot on a 1 vCPU box', 'vc2-1c-1gb'],
    ['a discord bot with 2 GB of RAM', 'vc2-1c-2gb'],
    ['a web server with 2 vCPUs', 'vc2-2c-4gb'],
    ['a web server with 4 GB RAM', 'vc2-2c-4gb'],
    ['a beefy game server for minecraft', 'vc2-2c-4gb'],
    ['a tiny VM for my scraper', 'vc2-1c-1gb'],
    ['a server with 64 GB', 'vc2-2c-4gb'],
  ])('instance size of "%s"', (text, type) => {
    expect(complete(text).instance_type).toBe(type);
  });

  it.each([
    ['just $5/mo', 10],
    ['$10 a month', 20],
    ['budget of 20 dollars', 20],
    ['around 12 usd monthly', 24],
    ['no more than $30', 30],
    ['$60 per year', 10],
    ['under $7.50 a month', 7.5],
    ['I have $25', 25],
  ])('budget of "a discord bot, %s"', (phrase, cap) => {
    expect(complete(`a discord bot, ${phrase}`).budget_cap_usd_monthly).toBe(cap);
  });

  it.each([
    ['three discord bots', { initial: 3, target: 3, growth_profile: 'flat' }],
    ['2 instances of my web app', { initial: 2, target: 2, growth_profile: 'flat' }],
    ['a couple of servers for my scraper', { initial: 2, target: 2, growth_profile: 'flat' }],
    ['a web app, start with 1 server and scale to 4', { initial: 1, target: 4, growth_profile: 'linear' }],
    ['a web app with traffic spikes', { initial: 1, target: 1, growth_profile: 'spiky' }],
    ['a discord bot on a 2 vcpu box', { initial: 1, target: 1, growth_profile: 'flat' }],
  ])('scale of "%s"', (text, scale) => {
    expect(complete(text).scale).toEqual(scale);
  });

  it('uses the hardened template when asked for a locked-down box', () => {
    expect(complete('a hardened VM for my discord bot').template).toBe('hardened');
    expect(complete('a discord bot').template).toBe('base');
    expect(complete('an apache web server').template).toBe('web-apache');
  });

  it('reads a database alone as a database workload', () => {
    const brief = complete('I need a MySQL database');
    expect(brief.components).toEqual(['database']);
    expect(brief.database_engine).toBe('MySQL');
  });

  it('reads a generic VM request as a general-purpose workload', () => {
    expect(complete('give me a VPS with 1 vCPU').intent).toBe('Run a general-purpose VM');
  });
});

describe('brief capture: what it cannot infer', () => {
  it.each(['hello', 'run something', 'what can you do?', '', '   ', '$5 a month'])('"%s" asks for the workload', (text) => {
    const result = captureBrief(text);
    expect(result.complete).toBe(false);
    expect(result.missing).toEqual(['intent', 'use_case', 'components']);
    expect(briefQuestion(result)).toMatch(/What would you like to run\?/);
  });

  it('remembers what was said while collecting and completes on the next message', () => {
    const first = captureBrief('I can spend $12 a month, in LA');
    expect(first.complete).toBe(false);
    expect(first.brief).toMatchObject({ budget_cap_usd_monthly: 12, regions: ['us-west-1'] });
    expect(briefQuestion(first)).toContain('budget $12/mo');
    const second = captureBrief('a discord bot', { collecting: first.brief });
    expect(second.complete).toBe(true);
    expect(second.brief).toMatchObject({ intent: 'Run my Discord bot 24/7', budget_cap_usd_monthly: 12, regions: ['us-west-1'] });
  });

  it('copes with very long and odd input without throwing', () => {
    expect(() => captureBrief('$'.repeat(4000))).not.toThrow();
    expect(() => captureBrief('bot '.repeat(1000))).not.toThrow();
    expect(captureBrief('🤖 discord bot 🤖').complete).toBe(true);
  });
});

describe('brief helpers', () => {
  it('merges later fields over earlier ones and ignores undefined', () => {
    expect(mergeBrief({ regions: ['us-east-1'], budget_cap_usd_monthly: 5 }, { regions: ['us-west-1'], intent: undefined })).toEqual({
      regions: ['us-west-1'],
      budget_cap_usd_monthly: 5,
    });
  });

  it('defaults the budget to 20 for compute and 50 with a database', () => {
    const compute = completeBrief({ intent: 'x', use_case: 'y', components: ['compute'] });
    const multi = completeBrief({ intent: 'x', use_case: 'y', components: ['compute', 'database'] });
    expect(compute.complete && compute.brief.budget_cap_usd_monthly).toBe(20);
    expect(multi.complete && multi.brief.budget_cap_usd_monthly).toBe(50);
  });

  it('extracts nothing from small talk', () => {
    expect(extractBrief('thanks!')).toEqual({});
  });
});
