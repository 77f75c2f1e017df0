import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { describeCall, noAnswerCode, pollable, transientCode } from './http';
import { VultrApiError } from './vultr';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('pollable', () => {
  it('turns a transport blip into a value that does not match yet', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(await pollable(async () => Promise.reject(refused))).toBe('transient error: ECONNREFUSED');
    const wrapped = new Error('fetch failed', { cause: Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' }) });
    expect(transientCode(wrapped)).toBe('UND_ERR_SOCKET');
  });

  it('lets real failures through at once', async () => {
    await expect(pollable(async () => Promise.reject(new Error('NodeInstance is error')))).rejects.toThrow(/error/);
    expect(await pollable(async () => 'running')).toBe('running');
  });
});

describe('transientCode', () => {
  it('counts blips and a dropped pg connection, not a lasting network fault', () => {
    expect(transientCode(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe('57P01');
    expect(transientCode(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }))).toBeNull();
    expect(noAnswerCode(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBeNull();
  });
});

describe('describeCall', () => {
  it('names method and path only, never the query', () => {
    expect(describeCall('GET', 'http://127.0.0.1:3101/v2/instances?tag=account%3Aa1&per_page=100')).toBe('GET /v2/instances');
  });
});

describe('noAnswerCode', () => {
  it('finds a refused connection in a real undici error', async () => {
    const agent = new Agent();
    try {
      const error = await caught(request(`http://127.0.0.1:${await closedPort()}/v2/account`, { dispatcher: agent }));
      expect(noAnswerCode(error)).toBe('ECONNREFUSED');
    } finally {
      await agent.close();
    }
  });

  it('looks through cause, AggregateError and the stripe SDK detail; an answer that is an error is not "no answer"', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(noAnswerCode(new Error('fetch failed', { cause: refused }))).toBe('ECONNREFUSED');
    expect(noAnswerCode(new AggregateError([new Error('x'), Object.assign(new Error('t'), { code: 'ETIMEDOUT' })]))).toBe('ETIMEDOUT');
    expect(noAnswerCode({ type: 'StripeConnectionError', detail: { code: 'ENOTFOUND' } })).toBe('ENOTFOUND');
    expect(noAnswerCode(new VultrApiError('GET /v2/account', 500, 'boom'))).toBeNull();
    expect(noAnswerCode('a string')).toBeNull();
  });
});
