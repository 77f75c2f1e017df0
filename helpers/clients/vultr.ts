/**
 * The Vultr v2 API as the suite needs it (CONTRACT 7): prove a key, read an instance,
 * list an account's instances by tag, delete instances. Vultr rate-limits per source IP (>30 req/s
 * gives 429), so calls are paced (at most one per `minIntervalMs`, 20 a second by default, leaving
 * room for the backend when both share an IP) and back off on 429 with bounded exponential delays
 * and full jitter.
 * The local emulator's request journal lives beside it (it is outside /v2 and needs no key).
 */
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import { describeCall, httpJson, type HttpCall, type HttpResponse } from './http';
import {
  journalSchema,
  vultrAccountSchema,
  vultrErrorSchema,
  vultrInstanceEnvelopeSchema,
  vultrInstanceListSchema,
  type JournalEntry,
  type VultrInstance,
} from '../schemas';

export type Backoff = { attempts: number; baseMs: number; capMs: number };

export const DEFAULT_BACKOFF: Backoff = { attempts: 6, baseMs: 250, capMs: 8_000 };

/** Full jitter: a random delay in [0, min(cap, base·2^attempt)]. `attempt` counts from 0. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

export class VultrApiError extends Error {
  constructor(
    readonly call: string,
    readonly status: number,
    readonly vultrMessage: string,
  ) {
    super(`Vultr ${call} answered ${status}: ${vultrMessage}`);
    this.name = 'VultrApiError';
  }
}

export type VultrClientOptions = {
  baseUrl: string;
  apiKey: string;
  dispatcher: Dispatcher;
  backoff?: Backoff;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Least time between two calls' starts; a rollback of a long run lists one tag per account. */
  minIntervalMs?: number;
  /**
   * Shared by clients of several keys: Vultr limits requests per source IP, not per key, so the
   * clients of one process take their turns from one pace.
   */
  pace?: Pace;
  now?: () => number;
};

/** When the next call may start; reserved synchronously, so concurrent callers queue up. */
export type Pace = { nextSlot: number };

export const DEFAULT_MIN_INTERVAL_MS = 50;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class VultrClient {
  private readonly baseUrl: string;
  private readonly backoff: Backoff;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly pace: Pace;

  constructor(private readonly options: VultrClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.pace = options.pace ?? { nextSlot: 0 };
  }

  /** Waits for this call's turn: calls start at least `minIntervalMs` apart. */
  private async paced(): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.pace.nextSlot);
    this.pace.nextSlot = slot + (this.options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS);
    if (slot > now) await this.sleep(slot - now);
  }

  /** One call, retried only on 429; the last 429 is returned like any other answer. */
  private async call(path: string, call: HttpCall = {}): Promise<HttpResponse> {
    const url = `${this.baseUrl}${path}`;
    for (let attempt = 0; ; attempt++) {
      await this.paced();
      const response = await httpJson(this.options.dispatcher, url, {
        ...call,
        headers: { authorization: `Bearer ${this.options.apiKey}`, ...call.headers },
      });
      if (response.status !== 429 || attempt + 1 >= this.backoff.attempts) return response;
      await this.sleep(backoffDelay(attempt, this.backoff, this.random));
    }
  }

  private fail(method: string, path: string, response: HttpResponse): never {
    const parsed = vultrErrorSchema.safeParse(response.json);
    const message = parsed.success ? parsed.data.error : response.text.slice(0, 200);
    throw new VultrApiError(describeCall(method, `${this.baseUrl}${path}`), response.status, message);
  }

  /** `GET /account`: the only call that proves a key (plans and regions need none). */
  async account(): Promise<Record<string, unknown>> {
    const response = await this.call('/account');
    if (response.status !== 200) this.fail('GET', '/account', response);
    return vultrAccountSchema.parse(response.json).account;
  }

  /** The instance, or null when Vultr answers 404. */
  async instance(id: string): Promise<VultrInstance | null> {
    const path = `/instances/${encodeURIComponent(id)}`;
    const response = await this.call(path);
    if (response.status === 404) return null;
    if (response.status !== 200) this.fail('GET', path, response);
    return vultrInstanceEnvelopeSchema.parse(response.json).instance;
  }

  /** Every instance carrying a tag, following the cursor through all pages. */
  async instancesByTag(tag: string): Promise<VultrInstance[]> {
    // Vultr deprecated `tag` in favour of `tags`; filter here too in case a deployment ignores the query.
    return (await this.listInstances({ tag, per_page: '100' })).filter((i) => i.tags.includes(tag));
  }

  /** Every instance of the Vultr account, 500 a page: one listing instead of one per tag. */
  async allInstances(): Promise<VultrInstance[]> {
    return this.listInstances({ per_page: '500' });
  }

  private async listInstances(filter: Record<string, string>): Promise<VultrInstance[]> {
    const found: VultrInstance[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams(filter);
      if (cursor) query.set('cursor', cursor);
      const response = await this.call(`/instances?${query.toString()}`);
      if (response.status !== 200) this.fail('GET', '/instances', response);
      const body = vultrInstanceListSchema.parse(response.json);
      found.push(...body.instances);
      cursor = body.meta?.links?.next ?? '';
      if (!cursor) return found;
    }
    throw new Error(`Vultr GET /instances: more than 100 pages (${new URLSearchParams(filter).toString()})`);
  }

  /** 204 → deleted; 404 → it was already gone (so rollback can run twice). */
  async deleteInstance(id: string): Promise<'deleted' | 'already_gone'> {
    const path = `/instances/${encodeURIComponent(id)}`;
    const response = await this.call(path, { method: 'DELETE' });
    if (response.status === 404) return 'already_gone';
    if (response.status >= 200 && response.status < 300) return 'deleted';
    this.fail('DELETE', path, response);
  }
}

/** The variables that hold the suite's Vultr keys, one Vultr account each: what names an account in reports (never the key). */
export type VultrKeyName = 'VULTR_API_KEY' | 'VULTR_ISOLATION_API_KEY';

export type VultrAccountClient = { key: VultrKeyName; client: VultrClient };

/**
 * A client for every Vultr account the suite holds a key for: the platform pool's, and the
 * account-isolation test's when VULTR_ISOLATION_API_KEY is set (RUNBOOK pre-flight 3). A VM made
 * with an account's own key lives in that account only, so whatever must see every VM of the run
 * (rollback, the instance cap) asks each. They share one pace: Vultr limits per source IP.
 */
export function vultrAccounts(
  config: Pick<Config, 'VULTR_API_URL' | 'VULTR_API_KEY' | 'VULTR_ISOLATION_API_KEY'>,
  dispatcher: Dispatcher,
  timing: Pick<VultrClientOptions, 'now' | 'sleep'> = {},
): VultrAccountClient[] {
  const pace: Pace = { nextSlot: 0 };
  const client = (apiKey: string) => new VultrClient({ baseUrl: config.VULTR_API_URL, apiKey, dispatcher, pace, ...timing });
  const accounts: VultrAccountClient[] = [{ key: 'VULTR_API_KEY', client: client(config.VULTR_API_KEY) }];
  if (config.VULTR_ISOLATION_API_KEY) accounts.push({ key: 'VULTR_ISOLATION_API_KEY', client: client(config.VULTR_ISOLATION_API_KEY) });
  return accounts;
}

/**
 * Up to this many accounts, their instances are listed by tag; above it, the Vultr account's all at
 * once (Vultr allows 30 requests a second per IP). Rollback and the instance cap both list this way.
 */
export const TAG_LISTINGS_UP_TO = 3;

/** The tag the stack puts on every instance it creates for an account (CONTRACT 6.7). */
export function accountTag(accountId: string): string {
  return `account:${accountId}`;
}

export function isAccountTag(tag: string): boolean {
  return tag.startsWith('account:');
}

/** The emulator's origin: VULTR_API_URL without its /v2. */
export function emulatorOrigin(vultrApiUrl: string): string {
  const url = new URL(vultrApiUrl);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/v2\/?$/, '').replace(/\/+$/, '')}`;
}

const INSTANCE_CREATE_PATH = /^\/v2\/instances\/?(\?.*)?$/;

/** The local Vultr emulator's request journal (method, path, status, time; never headers). */
export class VultrJournal {
  constructor(
    private readonly origin: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  async requests(filter: { method: string; pathPrefix: string; since: Date }): Promise<JournalEntry[]> {
    const query = new URLSearchParams({ method: filter.method, path_prefix: filter.pathPrefix, since: filter.since.toISOString() });
    const url = `${this.origin}/__emulator/requests?${query.toString()}`;
    const response = await httpJson(this.dispatcher, url);
    if (response.status !== 200) throw new Error(`Vultr emulator ${describeCall('GET', url)} answered ${response.status}`);
    return journalSchema.parse(response.json).requests;
  }

  /**
   * `POST /v2/instances` calls (instance creations) since a moment. With a tag, the ones that may be
   * for its owner: those asking for the tag, and those that cannot be attributed (no account tag
   * asked for, or a journal that does not keep tags), so a creation is never missed because the
   * stack forgot to tag it.
   */
  async instanceCreations(since: Date, tag?: string): Promise<JournalEntry[]> {
    const entries = await this.requests({ method: 'POST', pathPrefix: '/v2/instances', since });
    return entries.filter(
      (e) =>
        e.method === 'POST' &&
        INSTANCE_CREATE_PATH.test(e.path) &&
        new Date(e.time) >= since &&
        (tag === undefined || !e.tags || !e.tags.some(isAccountTag) || e.tags.includes(tag)),
    );
  }
}
