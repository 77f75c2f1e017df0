import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLLUP_PATH, runMeterJob } from './meter';

const TOKEN = 'internal-test-token';

let server: Server;
let baseUrl: string;
const received: { path?: string; authorization?: string; body: string }[] = [];

beforeAll(async () => {
  // Stands in for the API server's rollup endpoint: 401 without the token, like the real one.
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url, authorization: req.headers.authorization, body });
      const ok = req.headers.authorization === `Bearer ${TOKEN}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          ok ? { success: true, data: { metered_count: 2, invoiced_count: 0 } } : { success: false, error: { code: 'unauthorized', message: 'no' } },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('runMeterJob', () => {
  it('posts {now} to the rollup endpoint with the internal token and returns its counts', async () => {
    const result = await runMeterJob({ baseUrl, internalApiToken: TOKEN }, { now: '2026-05-17T03:00:00.000Z' }, () => false);

    expect(result).toEqual({ metered_count: 2, invoiced_count: 0 });
    expect(received.at(-1)).toEqual({ path: ROLLUP_PATH, authorization: `Bearer ${TOKEN}`, body: '{"now":"2026-05-17T03:00:00.000Z"}' });
  });

  it('throws on a non-2xx answer so the job is recorded as failed', async () => {
    await expect(runMeterJob({ baseUrl, internalApiToken: 'wrong' }, {}, () => false)).rejects.toThrow(/meter rollup answered 401/);
  });

  it('meter_job_failing: the token is left off and the job fails', async () => {
    await expect(runMeterJob({ baseUrl, internalApiToken: TOKEN }, {}, (name) => name === 'meter_job_failing')).rejects.toThrow(/401/);
    expect(received.at(-1)?.authorization).toBeUndefined();
  });
});
