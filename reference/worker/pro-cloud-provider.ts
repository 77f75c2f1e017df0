/**
 * ProCloudProvider: the Vultr v2 adapter. Only the calls provisioning needs, with Vultr's error
 * body (`{"error","status"}`) turned into typed errors. The API key is sent as a bearer token and
 * never appears in an error message or a log line.
 */

/** CONTRACT 6.7: the plan's AWS-style region codes → Vultr region ids. */
export const VULTR_REGIONS: Readonly<Record<string, string>> = {
  'us-east-1': 'ewr',
  'us-west-1': 'lax',
};

/** Ubuntu 24.04 x64. */
export const DEFAULT_OS_ID = 2284;

export type VultrInstance = {
  id: string;
  status: string;
  power_status: string;
  server_status: string;
  main_ip: string;
  region: string;
  plan: string;
  label: string;
  hostname: string;
  tags: string[];
};

export type CreateInstanceRequest = {
  region: string;
  plan: string;
  os_id: number;
  label: string;
  hostname: string;
  tags: string[];
};

/** 401/403: the key is missing, wrong or not allowed. Never retried. */
export class VultrAuthError extends Error {
  constructor(
    readonly status: number,
    readonly vultrError: string,
  ) {
    super(`Vultr rejected the API key (${status}: ${vultrError})`);
    this.name = 'VultrAuthError';
  }
}

/** Any other non-2xx answer, after the retries allowed for it. */
export class VultrApiError extends Error {
  constructor(
    readonly status: number,
    readonly vultrError: string,
  ) {
    super(`Vultr answered ${status}: ${vultrError}`);
    this.name = 'VultrApiError';
  }
}

/** No HTTP answer at all (connection refused, reset, timeout). */
export class VultrUnreachableError extends Error {
  constructor(cause: string) {
    super(`Vultr API unreachable: ${cause}`);
    this.name = 'VultrUnreachableError';
  }
}

export type ProCloudProviderOptions = {
  /** API base including `/v2`. */
  baseUrl: string;
  apiKey: string;
  /** Retries after the first attempt for a retryable answer. */
  maxRetries?: number;
  /** First backoff; doubled on each retry, with jitter. */
  retryBaseMs?: number;
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
};

function isRetryable(method: string, status: number): boolean {
  if (status === 429) return true;
  // A 5xx on create may still have created the VM; retrying could buy a second one. Reads and
  // deletes are idempotent, so they are retried.
  return status >= 500 && method !== 'POST';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string' && body.error !== '') return body.error;
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): fall through to the raw text.
  }
  return text.trim().slice(0, 200) || response.statusText || 'no error text';
}

export class ProCloudProvider {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly requestTimeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ProCloudProviderOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async createInstance(request: CreateInstanceRequest): Promise<VultrInstance> {
    const body = await this.request<{ instance: VultrInstance }>('POST', '/instances', request);
    return body.instance;
  }

  async getInstance(id: string): Promise<VultrInstance> {
    const body = await this.request<{ instance: VultrInstance }>('GET', `/instances/${encodeURIComponent(id)}`);
    return body.instance;
  }

  async deleteInstance(id: string): Promise<void> {
    await this.request('DELETE', `/instances/${encodeURIComponent(id)}`);
  }

  /** The only call that proves a key (plans and regions need none). */
  async getAccount(): Promise<Record<string, unknown>> {
    const body = await this.request<{ account: Record<string, unknown> }>('GET', '/account');
    return body.account;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(`${this.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
      } catch (error) {
        // Only reads are retried: a create whose answer was lost may have happened.
        if (method !== 'POST' && attempt < this.maxRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        const cause = error as Error & { cause?: { code?: string } };
        throw new VultrUnreachableError(cause.cause?.code ?? cause.message);
      }
      if (response.ok) {
        if (response.status === 204) return undefined as T;
        return (await response.json()) as T;
      }
      const text = await errorText(response);
      if (response.status === 401 || response.status === 403) throw new VultrAuthError(response.status, text);
      if (isRetryable(method, response.status) && attempt < this.maxRetries) {
        await sleep(this.backoff(attempt));
        continue;
      }
      throw new VultrApiError(response.status, text);
    }
  }

  private backoff(attempt: number): number {
    const base = this.retryBaseMs * 2 ** attempt;
    return base / 2 + Math.random() * (base / 2);
  }
}
