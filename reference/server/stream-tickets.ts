/**
 * Stream tickets: how a browser opens a mission's event stream without putting its bearer token in
 * a URL (EventSource cannot send headers, and URLs end up in traces, logs and history). A ticket is
 * random, not derived from the token, lives about a minute, opens one stream of one mission of one
 * account, and is burned the first time anyone presents it. Tickets live in this process only:
 * the API server is one process, and a ticket that outlives a restart has no stream to open anyway.
 */
import { randomBytes } from 'node:crypto';
import type { AuthContext } from './http/auth';

export const STREAM_TICKET_TTL_MS = 60_000;
/** A page needs one per (re)connect; more outstanding than this is a loop or abuse, not a page. */
export const MAX_TICKETS_PER_ACCOUNT = 32;
/** Bounds memory whatever the number of accounts: the oldest ticket, closest to expiry, goes first. */
export const MAX_TICKETS = 10_000;

const TICKET_PREFIX = 'm1st_';
const TICKET_LENGTH = TICKET_PREFIX.length + 43; // 32 random bytes in base64url

type Entry = { missionId: string; auth: AuthContext; expiresAt: number };

export type IssuedTicket = { ticket: string; expiresIn: number };

export class TooManyTickets extends Error {
  constructor() {
    super('too many outstanding stream tickets for this account');
    this.name = 'TooManyTickets';
  }
}

export class StreamTickets {
  // Insertion order is issue order, and every ticket gets the same lifetime, so the first entries
  // are always the first to expire: sweeping stops at the first live one.
  private readonly tickets = new Map<string, Entry>();
  private readonly perAccount = new Map<string, number>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly maxTickets: number;
  private readonly maxPerAccount: number;

  constructor(options: { now?: () => number; ttlMs?: number; maxTickets?: number; maxPerAccount?: number } = {}) {
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? STREAM_TICKET_TTL_MS;
    this.maxTickets = options.maxTickets ?? MAX_TICKETS;
    this.maxPerAccount = options.maxPerAccount ?? MAX_TICKETS_PER_ACCOUNT;
  }

  /** Throws TooManyTickets when the account already holds its share of unused, unexpired tickets. */
  issue(auth: AuthContext, missionId: string): IssuedTicket {
    this.sweep();
    if ((this.perAccount.get(auth.accountId) ?? 0) >= this.maxPerAccount) throw new TooManyTickets();
    while (this.tickets.size >= this.maxTickets) {
      const oldest = this.tickets.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
    const ticket = TICKET_PREFIX + randomBytes(32).toString('base64url');
    this.tickets.set(ticket, { missionId, auth, expiresAt: this.now() + this.ttlMs });
    this.perAccount.set(auth.accountId, (this.perAccount.get(auth.accountId) ?? 0) + 1);
    return { ticket, expiresIn: Math.round(this.ttlMs / 1000) };
  }

  /**
   * The caller a ticket was issued to, if it is unexpired and for this mission; null otherwise.
   * Presenting a ticket burns it, even for the wrong mission, so a leaked one is good for nothing.
   */
  redeem(ticket: unknown, missionId: string): AuthContext | null {
    this.sweep();
    if (typeof ticket !== 'string' || ticket.length !== TICKET_LENGTH) return null;
    const entry = this.tickets.get(ticket);
    if (!entry) return null;
    this.remove(ticket);
    if (entry.expiresAt <= this.now() || entry.missionId !== missionId) return null;
    return entry.auth;
  }

  size(): number {
    return this.tickets.size;
  }

  /** Drops expired tickets; runs on every issue and redeem, so the map never outgrows a minute's traffic. */
  sweep(): void {
    const now = this.now();
    for (const [ticket, entry] of this.tickets) {
      if (entry.expiresAt > now) break;
      this.remove(ticket);
    }
  }

  private remove(ticket: string): void {
    const entry = this.tickets.get(ticket);
    if (!entry) return;
    this.tickets.delete(ticket);
    const count = (this.perAccount.get(entry.auth.accountId) ?? 1) - 1;
    if (count <= 0) this.perAccount.delete(entry.auth.accountId);
    else this.perAccount.set(entry.auth.accountId, count);
  }
}
