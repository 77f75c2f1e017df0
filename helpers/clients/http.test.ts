import { describe, expect, it } from 'vitest';
import { describeCall, pollable, transientCode } from './http';

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

describe('describeCall', () => {
  it('names method and path only, never the query', () => {
    expect(describeCall('GET', 'http://127.0.0.1:3101/v2/instances?tag=account%3Aa1&per_page=100')).toBe('GET /v2/instances');
  });
});
