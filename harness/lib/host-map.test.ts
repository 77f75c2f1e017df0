import { execFile } from 'node:child_process';
import dns from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installHostMap, parseHostMap } from './host-map.mjs';

const PRELOAD = fileURLToPath(new URL('./host-map.mjs', import.meta.url));

let server: Server;
let port: number;

beforeAll(async () => {
  // Answers with the Host header it was asked for, so a test sees which name reached it.
  server = createServer((req, res) => res.end(`host ${req.headers.host}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('parseHostMap', () => {
  it('reads name=address pairs, lower-casing names and dropping a trailing dot', () => {
    const map = parseHostMap(' Dev.Powernode.test=127.0.0.1 , db.powernode.test.=::1,');
    expect([...map]).toEqual([
      ['dev.powernode.test', { address: '127.0.0.1', family: 4 }],
      ['db.powernode.test', { address: '::1', family: 6 }],
    ]);
  });

  it('is empty when unset or blank', () => {
    expect(parseHostMap(undefined).size).toBe(0);
    expect(parseHostMap('').size).toBe(0);
  });

  it('refuses a name that could exist somewhere, a non-IP address and a malformed entry, naming each', () => {
    expect(() => parseHostMap('api.vultr.com=127.0.0.1,a.test=localhost,b.test,c.test=1.2.3.4,c.test=1.2.3.5')).toThrow(
      /^E2E_HOST_MAP: "api\.vultr\.com" is not a reserved name.*; "localhost" \(for a\.test\) is not an IP address; "b\.test" is not name=address; "c\.test" is mapped twice$/,
    );
  });
});

describe('installHostMap', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  it('sends fetch, undici and dns.promises to the mapped address by the name, and leaves other names alone', async () => {
    const before = dns.lookup;
    restore = installHostMap(parseHostMap('dev.powernode.test=127.0.0.1'));

    const viaFetch = await fetch(`http://dev.powernode.test:${port}/`);
    expect(await viaFetch.text()).toBe(`host dev.powernode.test:${port}`);
    const viaUndici = await request(`http://dev.powernode.test:${port}/`);
    expect(await viaUndici.body.text()).toBe(`host dev.powernode.test:${port}`);

    expect(await dns.promises.lookup('dev.powernode.test')).toEqual({ address: '127.0.0.1', family: 4 });
    expect(await dns.promises.lookup('DEV.powernode.test', { all: true })).toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(dns.promises.lookup('dev.powernode.test', { family: 6 })).rejects.toMatchObject({ code: 'ENOTFOUND' });
    // An unmapped name still reaches the system resolver.
    expect((await dns.promises.lookup('localhost', { family: 4 })).address).toBe('127.0.0.1');

    restore();
    restore = undefined;
    expect(dns.lookup).toBe(before);
  });

  it('answers the callback forms of dns.lookup that net.connect and agents use', async () => {
    restore = installHostMap(parseHostMap('dev.powernode.test=127.0.0.1'));
    const one = await new Promise<[string, number]>((resolve, reject) =>
      dns.lookup('dev.powernode.test', (error, address, family) => (error ? reject(error) : resolve([address, family]))),
    );
    expect(one).toEqual(['127.0.0.1', 4]);
    const byFamily = await new Promise<[string, number]>((resolve, reject) =>
      dns.lookup('dev.powernode.test', 4, (error, address, family) => (error ? reject(error) : resolve([address, family]))),
    );
    expect(byFamily).toEqual(['127.0.0.1', 4]);
    const all = await new Promise<dns.LookupAddress[]>((resolve, reject) =>
      dns.lookup('dev.powernode.test', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
    );
    expect(all).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });
});

describe('as a preload through NODE_OPTIONS', () => {
  // Asynchronous: the child fetches from this process's server, which must keep answering.
  const run = (hostMap: string, script: string) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
      const env = { ...process.env, NODE_OPTIONS: `--import ${pathToFileURL(PRELOAD).href}`, E2E_HOST_MAP: hostMap };
      execFile(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000, env }, (error, stdout, stderr) =>
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('maps the names in a Node process that knows nothing of it', async () => {
    const result = await run('dev.powernode.test=127.0.0.1', `const r = await fetch('http://dev.powernode.test:${port}/'); console.log(await r.text());`);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`host dev.powernode.test:${port}`);
  });

  it('stops the process before it runs anything when the map is bad', async () => {
    const result = await run('dev.powernode.com=127.0.0.1', "console.log('ran')");
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain('ran');
    expect(result.stderr).toContain('E2E_HOST_MAP: "dev.powernode.com" is not a reserved name');
  });
});
