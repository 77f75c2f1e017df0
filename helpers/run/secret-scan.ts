/**
 * Finds secret values in run artifacts: the HTML report (including the zip of report data it
 * embeds as base64), test-results (attachments, JSON/JUnit reports) and every trace zip inside
 * them, recursively. A finding names the secret by its variable and the file (and zip entry), never
 * by its value.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Secret } from './secrets';
import { isZip, readZip, writeZip } from './zip';

export type Finding = { secret: string; file: string; encoding: string };

const EMBEDDED_REPORT = /data:application\/zip;base64,([A-Za-z0-9+/=]+)/g;

/** The spellings a value takes in artifacts: as is, URL-encoded, base64 (as a whole). */
function needles(secret: Secret): { encoding: string; bytes: Buffer }[] {
  const forms = new Map<string, string>([['plain', secret.value]]);
  const urlEncoded = encodeURIComponent(secret.value);
  if (urlEncoded !== secret.value) forms.set('url-encoded', urlEncoded);
  forms.set('base64', Buffer.from(secret.value).toString('base64').replace(/=+$/, ''));
  return [...forms].map(([encoding, text]) => ({ encoding, bytes: Buffer.from(text) }));
}

function scanBuffer(buf: Buffer, where: string, secrets: Secret[], findings: Finding[], depth = 0): void {
  for (const secret of secrets) {
    for (const needle of needles(secret)) {
      if (buf.indexOf(needle.bytes) >= 0) findings.push({ secret: secret.name, file: where, encoding: needle.encoding });
    }
  }
  if (depth > 3) return;
  if (isZip(buf)) {
    let entries;
    try {
      entries = readZip(buf);
    } catch (error) {
      findings.push({ secret: '(unreadable archive)', file: where, encoding: (error as Error).message });
      return;
    }
    for (const entry of entries) scanBuffer(entry.data, `${where}!/${entry.name}`, secrets, findings, depth + 1);
    return;
  }
  if (where.endsWith('.html')) {
    for (const match of buf.toString('latin1').matchAll(EMBEDDED_REPORT)) {
      scanBuffer(Buffer.from(match[1]!, 'base64'), `${where}!/(embedded report data)`, secrets, findings, depth + 1);
    }
  }
}

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) yield* files(path);
    else if (stat.isFile()) yield path;
  }
}

export function scanArtifacts(roots: string[], secrets: Secret[], cwd = process.cwd()): Finding[] {
  const usable = secrets.filter((s) => s.value.length >= 8);
  const findings: Finding[] = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const file of files(root)) scanBuffer(readFileSync(file), relative(cwd, file), usable, findings);
  }
  return findings;
}

function replaceAll(buf: Buffer, needle: Buffer, mask: Buffer): { data: Buffer; count: number } {
  let count = 0;
  let at = buf.indexOf(needle);
  if (at < 0) return { data: buf, count };
  const out = Buffer.from(buf);
  while (at >= 0) {
    mask.copy(out, at);
    count++;
    at = out.indexOf(needle, at + needle.length);
  }
  return { data: out, count };
}

/**
 * Session material the browser carries for a throwaway user that the suite never sees (the funnel
 * identity signs up in the page), in a trace's network log: bearer headers, `access_token` and
 * `refresh_token` fields (the auth answers of CONTRACT 4), and cookies, for a target whose session
 * is a cookie (`Cookie` and `Set-Cookie` headers, as a trace records them: a {name, value} pair,
 * or a raw header line). Masked by shape, whatever the token format of the target.
 */
// Each shape has three groups: what comes before the token, the token, what comes after it.
export const SESSION_TOKEN_SHAPES = [
  /(Bearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)()/g,
  /("(?:access|refresh)_token"\s*:\s*")([^"\\]{8,})(")/g,
  /("name"\s*:\s*"(?:set-)?cookie"\s*,\s*"value"\s*:\s*")([^"\\]{8,})(")/gi,
  /((?:^|[\r\n])(?:set-)?cookie:[ \t]*)([^\r\n]{8,})()/gi,
];

/** A trace's HAR-style parsed cookies, request and response: `"cookies":[{"name":…,"value":…}]`. */
const COOKIE_LISTS = /"cookies"\s*:\s*\[[^\]]*\]/g;
const COOKIE_VALUE = /("value"\s*:\s*")([^"\\]+)(")/g;

function maskSessionTokens(data: Buffer): { data: Buffer; count: number } {
  // latin1 maps bytes 1:1, so lengths and every byte outside a match are kept.
  const text = data.toString('latin1');
  let count = 0;
  let masked = text.replace(COOKIE_LISTS, (list) =>
    list.replace(COOKIE_VALUE, (_match, before: string, value: string, after: string) => {
      if (/^\*+$/.test(value)) return `${before}${value}${after}`;
      count++;
      return `${before}${'*'.repeat(value.length)}${after}`;
    }),
  );
  for (const shape of SESSION_TOKEN_SHAPES) {
    masked = masked.replace(shape, (_match, before: string, token: string, after: string) => {
      if (/^\*+$/.test(token)) return `${before}${token}${after}`;
      count++;
      return `${before}${'*'.repeat(token.length)}${after}`;
    });
  }
  return count === 0 ? { data, count } : { data: Buffer.from(masked, 'latin1'), count };
}

/**
 * Masks values inside every zip under the roots (traces and their copies in the HTML report), in
 * place, keeping each value's length so JSON and offsets stay valid. For the credentials a run
 * makes up for its throwaway users: the browser really sends them (the signup request body), so the
 * trace's network log holds them; masking keeps traces shareable. Session tokens are masked by
 * shape too (SESSION_TOKEN_SHAPES). Returns how many were masked.
 */
export function maskInZips(roots: string[], values: string[]): number {
  const usable = values.filter((v) => v.length >= 8).map((v) => ({ needle: Buffer.from(v), mask: Buffer.from('*'.repeat(Buffer.byteLength(v))) }));
  let masked = 0;
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const file of files(root)) {
      if (!file.endsWith('.zip')) continue;
      const buf = readFileSync(file);
      if (!isZip(buf)) continue;
      const result = maskZip(buf, usable, 0);
      if (result.count > 0) {
        writeFileSync(file, result.data);
        masked += result.count;
      }
    }
  }
  return masked;
}

/**
 * One archive's entries, masked, and the archives inside it the same way: a blob report holds its
 * tests' trace zips as entries, and a trace may hold resources that are zips too.
 */
function maskZip(buf: Buffer, usable: { needle: Buffer; mask: Buffer }[], depth: number): { data: Buffer; count: number } {
  let changed = 0;
  const entries = readZip(buf).map((entry) => {
    if (depth < 3 && isZip(entry.data)) {
      const inner = maskZip(entry.data, usable, depth + 1);
      changed += inner.count;
      return { name: entry.name, data: inner.data };
    }
    let data = entry.data;
    for (const u of usable) {
      const r = replaceAll(data, u.needle, u.mask);
      data = r.data;
      changed += r.count;
    }
    const tokens = maskSessionTokens(data);
    changed += tokens.count;
    return { name: entry.name, data: tokens.data };
  });
  return changed > 0 ? { data: writeZip(entries), count: changed } : { data: buf, count: 0 };
}
