import { describe, expect, it } from 'vitest';
import type { AuthContext } from './http/auth';
import { StreamTickets, TooManyTickets } from './stream-tickets';

const ADA: AuthContext = { userId: 'u1', accountId: 'a1', email: 'ada@example.com', name: 'Ada' };
const BOB: AuthContext = { userId: 'u2', accountId: 'a2', email: 'bob@example.com', name: 'Bob' };

function clocked(options: { maxTickets?: number; maxPerAccount?: number } = {}) {
  let now = 1_000_000;
  const tickets = new StreamTickets({ now: () => now, ttlMs: 60_000, ...options });
  return { tickets, advance: (ms: number) => (now += ms) };
}

describe('stream tickets', () => {
  it('opens one stream of one mission once, for the caller it was issued to', () => {
    const { tickets } = clocked();
    const { ticket, expiresIn } = tickets.issue(ADA, 'm1');
    expect(ticket).toMatch(/^m1st_[A-Za-z0-9_-]{43}$/);
    expect(expiresIn).toBe(60);
    expect(tickets.redeem(ticket, 'm1')).toEqual(ADA);
    expect(tickets.redeem(ticket, 'm1')).toBeNull();
  });

  it('is random: two tickets for the same caller and mission differ', () => {
    const { tickets } = clocked();
    expect(tickets.issue(ADA, 'm1').ticket).not.toBe(tickets.issue(ADA, 'm1').ticket);
  });

  it('is burned by a try on another mission', () => {
    const { tickets } = clocked();
    const { ticket } = tickets.issue(ADA, 'm1');
    expect(tickets.redeem(ticket, 'm2')).toBeNull();
    expect(tickets.redeem(ticket, 'm1')).toBeNull();
  });

  it('expires after its lifetime, and expired tickets are swept', () => {
    const { tickets, advance } = clocked();
    const early = tickets.issue(ADA, 'm1').ticket;
    advance(30_000);
    const late = tickets.issue(ADA, 'm1').ticket;
    advance(29_999);
    expect(tickets.redeem(early, 'm1')).toEqual(ADA);
    tickets.issue(BOB, 'm2');
    advance(30_001);
    expect(tickets.redeem(late, 'm1')).toBeNull();
    // The redeem swept the one that expired unused as well.
    expect(tickets.size()).toBe(1);
    advance(30_000);
    tickets.sweep();
    expect(tickets.size()).toBe(0);
  });

  it('rejects what is not a ticket', () => {
    const { tickets } = clocked();
    for (const value of [undefined, null, '', 'm1st_', 'x'.repeat(10_000), ['a', 'b'], 42]) expect(tickets.redeem(value, 'm1')).toBeNull();
  });

  it('caps the unused tickets of one account, and of the whole process', () => {
    const perAccount = clocked({ maxPerAccount: 2 });
    perAccount.tickets.issue(ADA, 'm1');
    const second = perAccount.tickets.issue(ADA, 'm1').ticket;
    expect(() => perAccount.tickets.issue(ADA, 'm1')).toThrow(TooManyTickets);
    expect(perAccount.tickets.issue(BOB, 'm2').ticket).toBeTruthy();
    perAccount.tickets.redeem(second, 'm1');
    expect(perAccount.tickets.issue(ADA, 'm1').ticket).toBeTruthy();
    perAccount.advance(60_000);
    perAccount.tickets.issue(ADA, 'm1');
    expect(perAccount.tickets.issue(ADA, 'm1').ticket).toBeTruthy();

    const global = clocked({ maxTickets: 3 });
    const oldest = global.tickets.issue(ADA, 'm1').ticket;
    for (let i = 0; i < 3; i += 1) global.tickets.issue(BOB, 'm2');
    expect(global.tickets.size()).toBe(3);
    expect(global.tickets.redeem(oldest, 'm1')).toBeNull();
  });
});
