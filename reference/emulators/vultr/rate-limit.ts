// Vultr limits each source IP to 30 requests per second. A fixed window that opens on a client's
// first request is enough to reproduce the 429 and costs one map lookup per request.
const PRUNE_ABOVE = 1_000;
const WINDOW_MS = 1_000;

interface Window {
  startedAt: number;
  count: number;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly perSecond: number) {}

  allow(client: string, now: number): boolean {
    let window = this.windows.get(client);
    if (!window || now - window.startedAt >= WINDOW_MS) {
      if (this.windows.size >= PRUNE_ABOVE) this.prune(now);
      window = { startedAt: now, count: 0 };
      this.windows.set(client, window);
    }
    window.count += 1;
    return window.count <= this.perSecond;
  }

  private prune(now: number): void {
    for (const [client, window] of this.windows) {
      if (now - window.startedAt >= WINDOW_MS) this.windows.delete(client);
    }
  }
}
