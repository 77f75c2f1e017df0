// A local emulator of the part of the Vultr API v2 the stack and the suite use (CONTRACT 7).
// Plain node:http keeps it quick to start; every error is Vultr's {"error","status"} JSON.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, HttpError, listen, matchRoute, originOf, readJson, sendJson, sendReply, type Reply } from '../http-kit';
import { DEFAULT_JOURNAL_LIMIT, RequestJournal, type JournalNote } from '../journal';
import { accountsFor, type EmulatedAccount } from './accounts';
import { findRegion, OPERATING_SYSTEMS, PLANS, REGIONS } from './catalog';
import { InvalidRequest, parseCreateRequest } from './create-request';
import { InstanceStore } from './instance-store';
import { matchesFilter, newDefaultPassword, renderInstance, type InstanceFilter, type Lifecycle, type PowerStatus } from './instances';
import { paginate } from './pagination';
import { RateLimiter } from './rate-limit';

export interface VultrFaults {
  /** Instances stay `pending` forever, for the "instance never reaches running" self-test. */
  neverRunning?: boolean;
  /**
   * Every /v2 request answers 429: another client behind the same source IP already spends the
   * IP's budget (Vultr limits per IP, not per key), for the "Vultr rate limited" self-test.
   */
  rateLimited?: boolean;
}

export interface VultrEmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** One Vultr account per key (accounts.ts): a key sees only its own account's instances. */
  apiKeys: string[];
  /** Time from create to `active` with a main_ip. */
  bootDelayMs?: number;
  /** Time from `active` to server_status `ok`. */
  okDelayMs?: number;
  /** JSON persistence; memory only when omitted. */
  stateFile?: string;
  rateLimitPerSecond?: number;
  journalLimit?: number;
  faults?: VultrFaults;
}

export interface VultrEmulator {
  /** API base including `/v2`, ready to use as the client's baseUrl. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_BOOT_DELAY_MS = 2_000;
export const DEFAULT_RATE_LIMIT_PER_SECOND = 30;
const MAX_BODY_BYTES = 1_000_000;
const INSTANCE_NOT_FOUND = 'instance not found';

interface RequestContext {
  params: string[];
  query: URLSearchParams;
  body: unknown;
  /** The key's account; set on every route that needs a key. */
  account: EmulatedAccount | undefined;
}

/** The tags a create request asks for, read before validation so a refused create is attributed too. */
function requestedTags(body: unknown): string[] {
  const { tags, tag } = (body ?? {}) as { tags?: unknown; tag?: unknown };
  const list = Array.isArray(tags) ? tags : [];
  return [...list, tag].filter((t): t is string => typeof t === 'string');
}

interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  handle(ctx: RequestContext): Reply;
  /** What the journal keeps of the request body, even when the call is refused (429, 401, 400). */
  note?(body: unknown): JournalNote;
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message, status });
}

function positiveOrZero(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  return value;
}

function queryFilter(query: URLSearchParams): InstanceFilter {
  const filter: InstanceFilter = {};
  for (const key of ['label', 'tag', 'region', 'main_ip', 'firewall_group_id'] as const) {
    const value = query.get(key);
    if (value !== null && value !== '') filter[key] = value;
  }
  return filter;
}

export async function startVultrEmulator(options: VultrEmulatorOptions): Promise<VultrEmulator> {
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65_535) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${options.port}`);
  }
  const accounts = accountsFor(options.apiKeys);
  const firstAccount = accounts.values().next().value;
  if (!firstAccount) throw new RangeError('apiKeys must hold at least one non-empty key');
  const bootDelayMs = positiveOrZero('bootDelayMs', options.bootDelayMs ?? DEFAULT_BOOT_DELAY_MS);
  const lifecycle: Lifecycle = {
    bootDelayMs,
    okDelayMs: positiveOrZero('okDelayMs', options.okDelayMs ?? bootDelayMs * 2),
    neverRunning: options.faults?.neverRunning === true,
  };
  const rateLimit = options.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND;
  if (!Number.isInteger(rateLimit) || rateLimit < 1) throw new RangeError(`rateLimitPerSecond must be an integer >= 1, got ${rateLimit}`);
  const journalLimit = options.journalLimit ?? DEFAULT_JOURNAL_LIMIT;
  if (!Number.isInteger(journalLimit) || journalLimit < 1) throw new RangeError(`journalLimit must be an integer >= 1, got ${journalLimit}`);

  const store = await InstanceStore.open(options.stateFile, firstAccount.id);
  const limiter = new RateLimiter(rateLimit);
  const journal = new RequestJournal(journalLimit);

  /** The key's account; the routes that call this need a key, so auth has already found one. */
  function keyAccount(ctx: RequestContext): EmulatedAccount {
    if (!ctx.account) throw new HttpError(401, 'Invalid API token.');
    return ctx.account;
  }

  const ownerOf = (ctx: RequestContext) => keyAccount(ctx).id;

  // Another account's instance answers exactly as an unknown id does, as at Vultr.
  function findInstance(id: string, ctx: RequestContext) {
    const record = store.get(id);
    if (!record || record.owner !== ownerOf(ctx)) throw new HttpError(404, INSTANCE_NOT_FOUND);
    return record;
  }

  function setPower(ctx: RequestContext, power: PowerStatus): Reply {
    const { id } = findInstance(ctx.params[0] ?? '', ctx);
    store.setPower(id, power);
    return { status: 204 };
  }

  // Bulk actions are all-or-nothing: an unknown id fails the call before any instance changes.
  function setPowerMany(ctx: RequestContext, power: PowerStatus): Reply {
    const ids = (ctx.body as { instance_ids?: unknown } | null)?.instance_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw new InvalidRequest('Invalid instance_ids: expected a non-empty array of instance ids.');
    }
    for (const id of ids) findInstance(id, ctx);
    for (const id of ids) store.setPower(id, power);
    return { status: 204 };
  }

  const routes: Route[] = [
    { method: 'GET', pattern: /^\/v2\/account$/, auth: true, handle: (ctx) => ({ status: 200, body: { account: keyAccount(ctx).profile } }) },
    {
      method: 'GET',
      pattern: /^\/v2\/plans$/,
      auth: false,
      handle: ({ query }) => {
        const type = query.get('type');
        const plans = type && type !== 'all' ? PLANS.filter((p) => p.type === type) : PLANS;
        const { page, meta } = paginate(plans, query);
        return { status: 200, body: { plans: page, meta } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/regions$/,
      auth: false,
      handle: ({ query }) => {
        const { page, meta } = paginate(REGIONS, query);
        return { status: 200, body: { regions: page, meta } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/regions\/([^/]+)\/availability$/,
      auth: false,
      handle: ({ params, query }) => {
        const region = findRegion(params[0] ?? '');
        if (!region) throw new HttpError(404, 'region not found');
        const type = query.get('type');
        const available = PLANS.filter((p) => p.locations.includes(region.id) && (!type || type === 'all' || p.type === type));
        return { status: 200, body: { available_plans: available.map((p) => p.id) } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/os$/,
      auth: false,
      handle: ({ query }) => {
        const { page, meta } = paginate(OPERATING_SYSTEMS, query);
        return { status: 200, body: { os: page, meta } };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/instances$/,
      auth: true,
      handle: (ctx) => {
        const now = Date.now();
        const filter = queryFilter(ctx.query);
        const views = store
          .ownedBy(ownerOf(ctx))
          .map((record) => renderInstance(record, now, lifecycle))
          .filter((view) => matchesFilter(view, filter));
        const { page, meta } = paginate(views, ctx.query);
        return { status: 200, body: { instances: page, meta } };
      },
    },
    {
      method: 'POST',
      pattern: /^\/v2\/instances$/,
      auth: true,
      // Tags name an instance's owner (the stack tags account:<id>): the journal keeps them so a
      // test can tell which account a creation was for. They are not secret; keys never are kept.
      note: (body) => ({ tags: requestedTags(body) }),
      handle: (ctx) => {
        const spec = parseCreateRequest(ctx.body);
        const now = Date.now();
        const record = store.create(spec, now, ownerOf(ctx));
        // Vultr shows the root password once, in the create response.
        const instance = { ...renderInstance(record, now, lifecycle), default_password: newDefaultPassword() };
        return { status: 202, body: { instance } };
      },
    },
    { method: 'POST', pattern: /^\/v2\/instances\/start$/, auth: true, handle: (ctx) => setPowerMany(ctx, 'running') },
    { method: 'POST', pattern: /^\/v2\/instances\/reboot$/, auth: true, handle: (ctx) => setPowerMany(ctx, 'running') },
    { method: 'POST', pattern: /^\/v2\/instances\/halt$/, auth: true, handle: (ctx) => setPowerMany(ctx, 'stopped') },
    {
      method: 'GET',
      pattern: /^\/v2\/instances\/([^/]+)$/,
      auth: true,
      handle: (ctx) => ({ status: 200, body: { instance: renderInstance(findInstance(ctx.params[0] ?? '', ctx), Date.now(), lifecycle) } }),
    },
    {
      method: 'DELETE',
      pattern: /^\/v2\/instances\/([^/]+)$/,
      auth: true,
      handle: (ctx) => {
        store.delete(findInstance(ctx.params[0] ?? '', ctx).id);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/instances\/([^/]+)\/user-data$/,
      auth: true,
      handle: (ctx) => ({ status: 200, body: { user_data: { data: findInstance(ctx.params[0] ?? '', ctx).spec.user_data } } }),
    },
    { method: 'POST', pattern: /^\/v2\/instances\/([^/]+)\/start$/, auth: true, handle: (ctx) => setPower(ctx, 'running') },
    { method: 'POST', pattern: /^\/v2\/instances\/([^/]+)\/reboot$/, auth: true, handle: (ctx) => setPower(ctx, 'running') },
    { method: 'POST', pattern: /^\/v2\/instances\/([^/]+)\/halt$/, auth: true, handle: (ctx) => setPower(ctx, 'stopped') },
  ];

  /** The account of the request's bearer key, or undefined for a missing or unknown key. */
  function accountOf(req: IncomingMessage): EmulatedAccount | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    return match ? accounts.get(match[1] ?? '') : undefined;
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, note: JournalNote): Promise<void> {
    const limited = options.faults?.rateLimited === true || !limiter.allow(req.socket.remoteAddress ?? 'unknown', Date.now());
    const method = req.method ?? 'GET';
    const found = matchRoute(routes, method, path);
    if (!found.route) {
      if (limited) sendError(res, 429, 'Rate limit exceeded.');
      else if (found.pathMatched) sendError(res, 405, 'Method not allowed.');
      else sendError(res, 404, 'Not found.');
      return;
    }
    const { route, params } = found;
    // Read and parsed before the rate limit and auth checks so the journal notes a refused call
    // too; a bad body is only reported once those checks have passed.
    let body: unknown;
    let bodyError: unknown;
    if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
      try {
        body = await readJson(req, MAX_BODY_BYTES);
      } catch (error) {
        bodyError = error;
      }
    }
    if (route.note) Object.assign(note, route.note(bodyError === undefined ? body : undefined));
    if (limited) {
      sendError(res, 429, 'Rate limit exceeded.');
      return;
    }
    const account = route.auth ? accountOf(req) : undefined;
    if (route.auth && !account) {
      sendError(res, 401, 'Invalid API token.');
      return;
    }
    // Which account a noted call (a create) acted for: its e-mail, as GET /account shows it.
    if (route.note && account) note.account = account.profile.email;
    if (bodyError !== undefined) throw bodyError;
    sendReply(res, route.handle({ params, query, body, account }));
  }

  function handleEmulator(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    if (path === '/__emulator/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/__emulator/requests' && req.method === 'GET') {
      sendJson(res, 200, { requests: journal.query(query) });
    } else if (path === '/__emulator/requests' && req.method === 'DELETE') {
      journal.clear();
      res.writeHead(204).end();
    } else {
      sendError(res, 404, 'Not found.');
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const path = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));

    if (path.startsWith('/__emulator/')) {
      handleEmulator(req, res, path, query);
      return;
    }
    await handleApi(req, res, path, query, journal.track(req, res));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) sendError(res, error.status, error.message);
      else {
        process.stderr.write(`vultr emulator: ${req.method} ${req.url} failed: ${(error as Error).stack ?? String(error)}\n`);
        sendError(res, 500, 'Internal emulator error.');
      }
    });
  });

  const port = await listen(server, options.port, host);

  let closing: Promise<void> | undefined;
  return {
    url: `${originOf(host, port)}/v2`,
    port,
    close() {
      closing ??= (async () => {
        await closeServer(server);
        await store.flush();
      })();
      return closing;
    },
  };
}
