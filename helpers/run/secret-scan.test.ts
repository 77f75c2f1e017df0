import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { maskInZips, scanArtifacts } from './secret-scan';
import { readZip, writeZip } from './zip';

/** Writes a real zip (deflated entries) the way Playwright's trace writer does. */
function makeZip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(entries)) {
    const data = deflateRawSync(Buffer.from(text));
    const nameBuf = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(text.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(text.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(entries).length, 8);
  eocd.writeUInt16LE(Object.keys(entries).length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

const SECRET = { name: 'VULTR_API_KEY', value: 'vk_planted_secret_4711' };

describe('secret scan', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function tree(files: Record<string, string | Buffer>): string {
    dir = mkdtempSync(join(tmpdir(), 'scan-'));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  }

  it('reads back the zips it is given', () => {
    expect(readZip(makeZip({ 'a.txt': 'hello', 'b/c.json': '{}' })).map((e) => [e.name, e.data.toString()])).toEqual([
      ['a.txt', 'hello'],
      ['b/c.json', '{}'],
    ]);
  });

  it('finds nothing in clean artifacts', () => {
    const root = tree({ 'report/index.html': '<html>ok</html>', 'results/trace.zip': makeZip({ 'trace.network': 'nothing' }) });
    expect(scanArtifacts([root], [SECRET], root)).toEqual([]);
  });

  it('catches a secret planted in a plain attachment, naming the variable and the file', () => {
    const root = tree({ 'results/evidence.json': `{"key":"${SECRET.value}"}` });
    expect(scanArtifacts([root], [SECRET], root)).toEqual([{ secret: 'VULTR_API_KEY', file: 'results/evidence.json', encoding: 'plain' }]);
  });

  it('catches a secret inside a deflated trace zip', () => {
    const root = tree({ 'results/t/trace.zip': makeZip({ 'trace.network': `Authorization: Bearer ${SECRET.value}` }) });
    expect(scanArtifacts([root], [SECRET], root)).toEqual([
      { secret: 'VULTR_API_KEY', file: 'results/t/trace.zip!/trace.network', encoding: 'plain' },
    ]);
  });

  it('catches a secret inside the report data the HTML report embeds as base64', () => {
    const embedded = makeZip({ 'report.json': `{"attachment":"${SECRET.value}"}` }).toString('base64');
    const root = tree({ 'report/index.html': `<template id="playwrightReportBase64">data:application/zip;base64,${embedded}</template>` });
    const findings = scanArtifacts([root], [SECRET], root);
    expect(findings.map((f) => f.file)).toContain('report/index.html!/(embedded report data)!/report.json');
  });

  it('catches URL-encoded and base64 spellings', () => {
    const secret = { name: 'STRIPE_WEBHOOK_SECRET', value: 'whsec_a/b+c=d_e' };
    const root = tree({
      'a.txt': `q=${encodeURIComponent(secret.value)}`,
      'b.txt': Buffer.from(secret.value).toString('base64'),
    });
    expect(scanArtifacts([root], [secret], root).map((f) => `${f.file}:${f.encoding}`).sort()).toEqual(['a.txt:url-encoded', 'b.txt:base64']);
  });

  it('ignores values too short to be meaningful', () => {
    const root = tree({ 'a.txt': 'abc' });
    expect(scanArtifacts([root], [{ name: 'X', value: 'abc' }], root)).toEqual([]);
  });

  it('writes zips it can read back', () => {
    const entries = [
      { name: 'trace.network', data: Buffer.from('x'.repeat(1000)) },
      { name: 'resources/a.json', data: Buffer.from('{"a":1}') },
    ];
    expect(readZip(writeZip(entries))).toEqual(entries);
  });

  it('masks generated credentials inside trace zips, keeping their length, and leaves other files alone', () => {
    const password = 'E2e-generated-pass!';
    const root = tree({
      'results/t/trace.zip': makeZip({ 'resources/body.json': `{"password":"${password}"}`, 'trace.trace': 'clean' }),
      'results/evidence.json': `{"password":"${password}"}`,
    });
    expect(maskInZips([root], [password])).toBe(1);
    const secret = { name: 'generated', value: password };
    expect(scanArtifacts([root], [secret], root).map((f) => f.file)).toEqual(['results/evidence.json']);
    const body = readZip(readFileSync(join(root, 'results/t/trace.zip'))).find((e) => e.name === 'resources/body.json');
    expect(body?.data.toString()).toBe(`{"password":"${'*'.repeat(password.length)}"}`);
  });

  it('masks session tokens the suite never saw, by shape: bearer headers and access_token fields', () => {
    const token = 'm1at_Zk3vQ9xLr2TsY8wPb4';
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const network = `{"headers":[{"name":"authorization","value":"Bearer ${token}"},{"name":"x","value":"Bearer ${jwt}"}]}`;
    const root = tree({
      'results/t/trace.zip': makeZip({ 'trace.network': network, 'resources/signup.json': `{"access_token":"${token}","user":{}}`, 'trace.trace': 'Bearer' }),
    });
    expect(maskInZips([root], [])).toBe(3);
    const entries = readZip(readFileSync(join(root, 'results/t/trace.zip')));
    const text = (name: string) => entries.find((e) => e.name === name)?.data.toString();
    expect(text('trace.network')).toBe(network.replace(token, '*'.repeat(token.length)).replace(jwt, '*'.repeat(jwt.length)));
    expect(text('resources/signup.json')).toBe(`{"access_token":"${'*'.repeat(token.length)}","user":{}}`);
    expect(text('trace.trace')).toBe('Bearer');
    expect(JSON.parse(text('trace.network')!)).toBeTruthy();
    // Masked once: a second pass finds nothing left to mask.
    expect(maskInZips([root], [])).toBe(0);
  });

  it('masks refresh tokens and cookies (a target whose session is a cookie) by shape', () => {
    const cookie = 'session=s%3AQk9vZ1lNd3RrUQ.abcdef0123';
    const refresh = 'rt_9f8e7d6c5b4a3921';
    const network = `{"cookies":[{"name":"session","value":"s%3AQk9vZ1lNd3RrUQ"}],"headers":[{"name":"Cookie","value":"${cookie}"},{"name":"set-cookie","value":"${cookie}; Path=/; HttpOnly"}]}`;
    const raw = `HTTP/1.1 200 OK\r\nSet-Cookie: ${cookie}; Path=/\r\ncookie: ${cookie}\r\n`;
    const root = tree({ 'results/t/trace.zip': makeZip({ 'trace.network': network, 'resources/raw.txt': raw, 'resources/auth.json': `{"refresh_token":"${refresh}"}` }) });
    expect(maskInZips([root], [])).toBe(6);
    const entries = readZip(readFileSync(join(root, 'results/t/trace.zip')));
    const all = entries.map((e) => e.data.toString()).join('\n');
    expect(all).not.toContain('Qk9vZ1lNd3RrUQ');
    expect(all).not.toContain(refresh);
    expect(JSON.parse(entries.find((e) => e.name === 'trace.network')!.data.toString())).toBeTruthy();
  });

  it('masks inside a zip inside a zip: the trace zips a blob report holds', () => {
    const token = 'm1at_NestedTokenValue77';
    const trace = makeZip({ 'trace.network': `{"name":"authorization","value":"Bearer ${token}"}` });
    dir = mkdtempSync(join(tmpdir(), 'scan-'));
    mkdirSync(join(dir, 'blob-report'), { recursive: true });
    writeFileSync(join(dir, 'blob-report/report-1.zip'), writeZip([{ name: 'report.jsonl', data: Buffer.from('{}') }, { name: 'resources/abc.zip', data: trace }]));
    expect(maskInZips([dir], [])).toBe(1);
    const outer = readZip(readFileSync(join(dir, 'blob-report/report-1.zip')));
    const inner = readZip(outer.find((e) => e.name === 'resources/abc.zip')!.data);
    expect(inner[0]?.data.toString()).toBe(`{"name":"authorization","value":"Bearer ${'*'.repeat(token.length)}"}`);
  });
});
