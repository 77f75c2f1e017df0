/**
 * Brief capture (CONTRACT 6.4): the reference stack's deterministic stand-in for the LLM that turns
 * a chat message into a structured provisioning brief. It reads the workload, the components it
 * needs, size, count, region and budget from plain English, and says which fields it could not
 * infer so the assistant can ask for them.
 */
import { BOOTSTRAP_CATALOG, type InstanceTypeSpec } from './bootstrap';

export type Component = 'compute' | 'database' | 'network';
export type GrowthProfile = 'flat' | 'linear' | 'spiky';
export type Scale = { initial: number; target: number; growth_profile: GrowthProfile };

export type Brief = {
  intent: string;
  use_case: string;
  scale: Scale;
  regions: string[];
  budget_cap_usd_monthly: number;
  preferred_provider: 'pro_cloud';
  components: Component[];
  /** Size of the compute instances when the user named one (vCPU / RAM / "medium"). */
  instance_type?: string;
  /** Node template for the compute instances. */
  template?: string;
  /** Engine of the database component, when there is one. */
  database_engine?: string;
};

export type PartialBrief = Partial<Brief>;
export type BriefField = 'intent' | 'use_case' | 'components';

/** Without a workload there is nothing to plan; every other field has a sensible default. */
export const REQUIRED_FIELDS: readonly BriefField[] = ['intent', 'use_case', 'components'];

export const DEFAULT_REGION = 'us-east-1';
export const WRONG_DEFAULT_REGION = 'us-west-1';
/** Default caps when no amount is named: the free plan's provisioning cap, more when there is a database. */
export const DEFAULT_BUDGET_COMPUTE_USD = 20;
export const DEFAULT_BUDGET_MULTI_COMPONENT_USD = 50;

export type CaptureOptions = {
  /** Self-test fault `brief_region_wrong`: an unnamed region defaults to us-west-1. */
  regionWrong?: boolean;
  /** Self-test fault `brief_use_case_not_bot`: a bot's use case is recorded as a server. */
  botAsServer?: boolean;
  instanceTypes?: readonly InstanceTypeSpec[];
};

export type CaptureContext = {
  /** The brief of the mission still collecting details in this conversation, merged into. */
  collecting?: PartialBrief | null;
  /** The conversation's last complete brief, the referent of "another one like the first". */
  previous?: PartialBrief | null;
};

export type CaptureResult =
  | { complete: true; brief: Brief; missing: [] }
  | { complete: false; brief: PartialBrief; missing: BriefField[] };

type Workload = {
  intent: string;
  use_case: string;
  components: Component[];
  template?: string;
  /** A named platform or product (a "Discord bot"), as opposed to a bare "bot" or "server". */
  specific: boolean;
};

const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  single: 1,
  two: 2,
  pair: 2,
  couple: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
};

const BOT_PLATFORMS: Record<string, string> = {
  discord: 'Discord',
  slack: 'Slack',
  telegram: 'Telegram',
  twitch: 'Twitch',
  irc: 'IRC',
  matrix: 'Matrix',
  whatsapp: 'WhatsApp',
  reddit: 'Reddit',
  twitter: 'Twitter',
  mastodon: 'Mastodon',
  teams: 'Teams',
};

const NOT_A_BOT_PURPOSE = new Set([
  'a',
  'an',
  'the',
  'my',
  'our',
  'this',
  'that',
  'small',
  'simple',
  'little',
  'new',
  'another',
  'second',
  'first',
  'same',
  'chat',
  ...Object.keys(BOT_PLATFORMS),
]);

function words(text: string): string {
  return text.toLowerCase().replace(/[’']/g, "'");
}

function has(text: string, pattern: RegExp): boolean {
  return pattern.test(text);
}

function projectQualifier(t: string): string {
  if (has(t, /\bside[- ]project\b/)) return ' (side project)';
  if (has(t, /\bhobby\b/)) return ' (hobby project)';
  if (has(t, /\b(for fun|personal project|just for me)\b/)) return ' (personal project)';
  if (has(t, /\b(production|customers|business|company|startup)\b/)) return ' (production)';
  return '';
}

function detectDatabase(t: string): string | undefined {
  if (has(t, /\b(postgres|postgresql|psql|pg database)\b/)) return 'Postgres';
  if (has(t, /\b(mysql|mariadb)\b/)) return 'MySQL';
  if (has(t, /\b(mongo|mongodb)\b/)) return 'MongoDB';
  if (has(t, /\bredis\b/)) return 'Redis';
  if (has(t, /\b(database|databases|db|sql)\b/)) return 'Postgres';
  return undefined;
}

function detectPrivateNetwork(t: string): boolean {
  return has(t, /\b(private|internal|isolated)\s+(network|networking|subnet|lan|link|vlan)\b|\bvpc\b|\bprivate network between\b/);
}

function detectBot(t: string): Workload | undefined {
  if (!has(t, /\bbots?\b/)) return undefined;
  const platformKey = Object.keys(BOT_PLATFORMS).find((key) => new RegExp(`\\b${key}\\b`).test(t));
  const platform = platformKey ? BOT_PLATFORMS[platformKey] : undefined;
  const purposeMatch = /\b([a-z][a-z-]{2,})\s+bots?\b/.exec(t);
  const purpose = purposeMatch && !NOT_A_BOT_PURPOSE.has(purposeMatch[1]!) ? purposeMatch[1] : undefined;
  const name = platform ? `${platform} bot` : 'bot';
  const useCase = `${platform ? `${platform} bot` : 'Bot host'}${purpose ? ` for ${purpose}` : ''}${projectQualifier(t)}`;
  return {
    intent: `Run my ${name} 24/7`,
    use_case: useCase,
    components: ['compute'],
    template: 'base',
    specific: Boolean(platform),
  };
}

function detectWeb(t: string): Workload | undefined {
  const kinds: [RegExp, string, string][] = [
    [/\b(wordpress)\b/, 'Host my WordPress site', 'WordPress site'],
    [/\b(blog)\b/, 'Host my blog', 'Blog'],
    [/\b(web ?apps?|webapps?|web applications?|saas)\b/, 'Host my web app', 'Web app'],
    [/\b(websites?|web ?sites?|landing pages?|homepage)\b/, 'Host my website', 'Website'],
    [/\b(web ?servers?|webservers?|nginx|apache|http server)\b/, 'Run my web server', 'Web server'],
    [/\b(rest api|graphql|api server|api|backend|back-end)\b/, 'Host my API backend', 'API backend'],
    [/\b(django|rails|flask|express|next\.?js|node\.?js app|laravel)\b/, 'Host my web app', 'Web app'],
  ];
  const hit = kinds.find(([pattern]) => pattern.test(t));
  if (!hit) return undefined;
  return {
    intent: hit[1],
    use_case: hit[2],
    components: ['compute'],
    template: has(t, /\bapache\b/) ? 'web-apache' : 'web-nginx',
    specific: true,
  };
}

function detectOtherWorkload(t: string): Workload | undefined {
  const game = /\b(minecraft|valheim|terraria|factorio|palworld)\b/.exec(t);
  if (game || has(t, /\bgame ?servers?\b/)) {
    const title = game ? game[1]!.charAt(0).toUpperCase() + game[1]!.slice(1) : undefined;
    return {
      intent: `Host my ${title ? `${title} ` : 'game '}server`,
      use_case: `${title ? `${title} game` : 'Game'} server${projectQualifier(t)}`,
      components: ['compute'],
      template: 'base',
      specific: true,
    };
  }
  if (has(t, /\b(vpn|wireguard|openvpn)\b/)) {
    return { intent: 'Run my VPN server', use_case: `VPN server${projectQualifier(t)}`, components: ['compute'], template: 'hardened', specific: true };
  }
  const job = /\b(scrapers?|crawlers?|cron jobs?|cron|scheduled jobs?|background workers?|queue workers?|workers?|ci runners?|build runners?)\b/.exec(t);
  if (job) {
    const label = job[1]!.replace(/s$/, '');
    return {
      intent: `Run my ${label} 24/7`,
      use_case: `${label.charAt(0).toUpperCase()}${label.slice(1)}${projectQualifier(t)}`,
      components: ['compute'],
      template: 'base',
      specific: true,
    };
  }
  return undefined;
}

function detectGenericCompute(t: string): Workload | undefined {
  if (!has(t, /\b(vms?|virtual machines?|vps|servers?|instances?|box|boxes|machines?|compute)\b/)) return undefined;
  return {
    intent: 'Run a general-purpose VM',
    use_case: `General-purpose VM${projectQualifier(t)}`,
    components: ['compute'],
    template: 'base',
    specific: false,
  };
}

/** The workload named by the text, with the components it needs. */
function detectWorkload(t: string): Workload | undefined {
  const database = detectDatabase(t);
  const network = detectPrivateNetwork(t);
  const base = detectBot(t) ?? detectWeb(t) ?? detectOtherWorkload(t) ?? (database ? undefined : detectGenericCompute(t));
  if (!base && !database) return undefined;

  const components: Component[] = [];
  if (base) components.push('compute');
  if (database) components.push('database');
  if (network) components.push('network');

  if (!base) {
    return {
      intent: `Run a ${database} database`,
      use_case: `${database} database${network ? ' on a private network' : ''}${projectQualifier(t)}`,
      components,
      specific: true,
    };
  }
  const extras = [database ? `with a ${database} database` : '', network ? 'on a private network' : ''].filter(Boolean).join(' ');
  return {
    ...base,
    use_case: extras ? `${base.use_case} ${extras}` : base.use_case,
    components,
    specific: base.specific || Boolean(database) || network,
  };
}

function regionsIn(text: string, t: string): string[] {
  const found: { code: string; at: number }[] = [];
  const west = /\b(us-west(?:-1)?|west coast|west|los angeles|california|seattle|san francisco|silicon valley|oregon|portland|lax)\b/.exec(t);
  const la = /\bLA\b/.exec(text);
  const westAt = Math.min(west?.index ?? Infinity, la?.index ?? Infinity);
  if (westAt !== Infinity) found.push({ code: 'us-west-1', at: westAt });
  const east = /\b(us-east(?:-1)?|east coast|east|new york|nyc|new jersey|virginia|boston|atlanta|miami|ewr)\b/.exec(t);
  if (east) found.push({ code: 'us-east-1', at: east.index });
  return found.sort((a, b) => a.at - b.at).map((r) => r.code);
}

const CAP_WORDS = /\b(budget|cap|capped|max|maximum|at most|up to|no more than|not more than|under|below|less than|limit|within|spend(?:ing)?|have|afford|got)\b[\w\s:]{0,12}$/;

function parseAmount(raw: string): number {
  return Number(raw.replace(/,/g, ''));
}

/** Monthly budget cap: a stated budget is the cap; a stated price gets 2× headroom. */
function budgetIn(t: string): number | undefined {
  const money = /\$\s?(\d[\d,]*(?:\.\d{1,2})?)|(\d[\d,]*(?:\.\d{1,2})?)\s?(?:usd|dollars?|bucks)\b/.exec(t);
  if (!money) return undefined;
  const amount = parseAmount(money[1] ?? money[2]!);
  if (!Number.isFinite(amount) || amount <= 0) return undefined;
  const after = t.slice(money.index + money[0].length, money.index + money[0].length + 24);
  let monthly = amount;
  if (/^\s*(?:\/|per|a|an|each|every)?\s*(?:yr|year|annum|annually)\b|^\s*yearly\b/.test(after)) monthly = amount / 12;
  else if (/^\s*(?:\/|per|a|an|each|every)?\s*(?:day|daily)\b/.test(after)) monthly = amount * 30;
  const before = t.slice(Math.max(0, money.index - 40), money.index);
  const cap = CAP_WORDS.test(before) ? monthly : monthly * 2;
  return Math.round(cap * 100) / 100;
}

function numberAt(token: string): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  return NUMBER_WORDS[token];
}

const UNIT_WORDS = /^(v?cpus?|vcores?|cores?|gb|gib|mb|mib|tb|ram|memory|hours?|days?|months?|mo|gigs?)$/;

/** How many instances the text asks for, if it says. */
function countIn(t: string): number | undefined {
  const pattern =
    /\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|single|(?:a )?couple(?: of)?|(?:a )?pair(?: of)?)\s+(?:more\s+)?(?:([a-z-]+)\s+)?(bots?|instances?|vms?|servers?|hosts?|boxes|box|machines?|nodes?|replicas?|copies)\b/g;
  for (const match of t.matchAll(pattern)) {
    if (match[2] && UNIT_WORDS.test(match[2])) continue;
    const lead = match[1]!.replace(/^a /, '').replace(/ of$/, '');
    const n = numberAt(lead);
    if (n !== undefined && n >= 1 && n <= 100) return n;
  }
  return undefined;
}

function growthIn(t: string): { target?: number; profile?: GrowthProfile } {
  const grow = /\b(?:grow|scale|scaling|growing|expand)\s+(?:up\s+)?to\s+(\d+|two|three|four|five|six|seven|eight|nine|ten)\b/.exec(t);
  if (grow) return { target: numberAt(grow[1]!), profile: 'linear' };
  if (has(t, /\b(spiky|bursty|spikes?|bursts?|peaks?)\b/)) return { profile: 'spiky' };
  return {};
}

/** Smallest catalog type meeting the named vCPU / RAM, or the size word used. */
function instanceTypeIn(t: string, types: readonly InstanceTypeSpec[]): string | undefined {
  const cpu = /(\d+)\s*(?:x\s*)?(?:v?cpus?|vcores?|cores?)\b/.exec(t);
  const mem = /(\d+(?:\.\d+)?)\s*(gb|gib|gigs?|g|mb|mib)\b/.exec(t);
  const vcpus = cpu ? Number(cpu[1]) : undefined;
  const memoryMb = mem ? Number(mem[1]) * (/^m/.test(mem[2]!) ? 1 : 1024) : undefined;
  const sorted = [...types].sort((a, b) => a.hourly_price - b.hourly_price);
  if (vcpus !== undefined || memoryMb !== undefined) {
    const fit = sorted.find((type) => type.vcpus >= (vcpus ?? 1) && type.memory_mb >= (memoryMb ?? 0));
    return (fit ?? sorted[sorted.length - 1])?.instance_type_code;
  }
  if (has(t, /\b(medium|large|big|beefy|powerful)\b/)) {
    return (sorted.find((type) => type.name === 'medium') ?? sorted[sorted.length - 1])?.instance_type_code;
  }
  if (has(t, /\b(tiny|smallest|cheapest|minimal|small|little|cheap)\b/)) return sorted[0]?.instance_type_code;
  return undefined;
}

function refersToPrevious(t: string): boolean {
  return has(t, /\b(another|one more|second|additional|alongside|extra|same again|like the first|as before|clone|duplicate)\b/);
}

/** The fields this one message states, with "another one" resolved against the previous brief. */
export function extractBrief(text: string, context: { previous?: PartialBrief | null } = {}, options: CaptureOptions = {}): PartialBrief {
  const t = words(text);
  const types = options.instanceTypes ?? BOOTSTRAP_CATALOG.instanceTypes;
  const extracted: PartialBrief = {};

  const previous = context.previous;
  const workload = detectWorkload(t);
  const again = refersToPrevious(t) && previous && previous.intent;
  if (again && (!workload || !workload.specific)) {
    for (const key of ['intent', 'use_case', 'components', 'regions', 'budget_cap_usd_monthly', 'instance_type', 'template', 'database_engine'] as const) {
      if (previous[key] !== undefined) (extracted as Record<string, unknown>)[key] = structuredClone(previous[key]);
    }
    extracted.scale = { initial: 1, target: 1, growth_profile: 'flat' };
  } else if (workload) {
    extracted.intent = workload.intent;
    extracted.use_case = workload.use_case;
    extracted.components = workload.components;
    if (workload.template) extracted.template = workload.template;
    const engine = detectDatabase(t);
    if (engine && workload.components.includes('database')) extracted.database_engine = engine;
  }

  if (has(t, /\b(hardened|secure|locked[- ]down|cis)\b/) && (extracted.components ?? []).includes('compute')) extracted.template = 'hardened';

  const regions = regionsIn(text, t);
  if (regions.length > 0) extracted.regions = regions;

  const budget = budgetIn(t);
  if (budget !== undefined) extracted.budget_cap_usd_monthly = budget;

  const size = instanceTypeIn(t, types);
  if (size) extracted.instance_type = size;

  const count = countIn(t);
  const growth = growthIn(t);
  if (count !== undefined || growth.target !== undefined || growth.profile) {
    const initial = count ?? extracted.scale?.initial ?? 1;
    const target = Math.max(initial, growth.target ?? initial);
    extracted.scale = { initial, target, growth_profile: growth.profile ?? (target > initial ? 'linear' : 'flat') };
  }

  if (has(t, /\b(pro ?cloud|vultr)\b/) || extracted.intent) extracted.preferred_provider = 'pro_cloud';
  return extracted;
}

export function mergeBrief(base: PartialBrief, update: PartialBrief): PartialBrief {
  const merged: PartialBrief = { ...base };
  for (const [key, value] of Object.entries(update)) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

export function missingFields(brief: PartialBrief): BriefField[] {
  return REQUIRED_FIELDS.filter((field) => {
    const value = brief[field];
    return value === undefined || (Array.isArray(value) && value.length === 0) || value === '';
  });
}

/** Fills the fields a workload makes obvious; reports what is still unknown. */
export function completeBrief(partial: PartialBrief, options: CaptureOptions = {}): CaptureResult {
  const missing = missingFields(partial);
  if (missing.length > 0) return { complete: false, brief: partial, missing };
  const components = partial.components!;
  const multi = components.some((c) => c !== 'compute');
  const brief: Brief = {
    intent: partial.intent!,
    use_case: options.botAsServer ? partial.use_case!.replace(/\bbots?\b/gi, 'server') : partial.use_case!,
    scale: partial.scale ?? { initial: 1, target: 1, growth_profile: 'flat' },
    regions: partial.regions && partial.regions.length > 0 ? partial.regions : [options.regionWrong ? WRONG_DEFAULT_REGION : DEFAULT_REGION],
    budget_cap_usd_monthly: partial.budget_cap_usd_monthly ?? (multi ? DEFAULT_BUDGET_MULTI_COMPONENT_USD : DEFAULT_BUDGET_COMPUTE_USD),
    preferred_provider: 'pro_cloud',
    components,
  };
  if (partial.instance_type) brief.instance_type = partial.instance_type;
  if (partial.template) brief.template = partial.template;
  if (partial.database_engine) brief.database_engine = partial.database_engine;
  return { complete: true, brief, missing: [] };
}

/** One chat message → the mission's brief: merged into the collecting one, or a fresh one. */
export function captureBrief(text: string, context: CaptureContext = {}, options: CaptureOptions = {}): CaptureResult {
  const extracted = extractBrief(text, { previous: context.previous }, options);
  const merged = context.collecting ? mergeBrief(context.collecting, extracted) : extracted;
  return completeBrief(merged, options);
}

/** The assistant's follow-up question when the workload is still unknown. */
export function briefQuestion(result: CaptureResult): string {
  if (result.complete) return '';
  const known: string[] = [];
  if (result.brief.regions?.length) known.push(`region ${result.brief.regions.join(', ')}`);
  if (result.brief.budget_cap_usd_monthly !== undefined) known.push(`budget $${result.brief.budget_cap_usd_monthly}/mo`);
  if (result.brief.instance_type) known.push(`instance size ${result.brief.instance_type}`);
  const noted = known.length > 0 ? `Noted: ${known.join(', ')}. ` : '';
  return (
    `${noted}What would you like to run? Tell me the workload — for example "a Discord bot 24/7", ` +
    `"a web app with a Postgres database" — and, if you like, a region and a monthly budget.`
  );
}
