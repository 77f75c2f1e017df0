/**
 * Preload (`node --import <this file>`, usually through NODE_OPTIONS so that every Node process a
 * run starts inherits it): the host names listed in E2E_HOST_MAP resolve to the addresses given
 * there, without /etc/hosts. Every other name goes to the system resolver untouched.
 *
 *   E2E_HOST_MAP="dev.powernode.test=127.0.0.1,db.powernode.test=127.0.0.1"
 *
 * The remote drill uses it to present the reference stack, which listens on 127.0.0.1 only, under
 * names the suite does not take for this machine. Node's sockets (net.connect, hence undici, the
 * built-in fetch, pg and the Stripe SDK's http agent) resolve through `dns.lookup`, read at call
 * time, so replacing it on the module is enough. Only reserved names (RFC 2606 / RFC 6761) may be
 * mapped: a drill must never shadow a host that exists somewhere.
 *
 * Plain JavaScript on purpose: Node 20 loads it with no TypeScript loader in front.
 */
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

export const HOST_MAP_VARIABLE = 'E2E_HOST_MAP';

const RESERVED_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+(test|example|invalid)$/;

/**
 * `name=address,name=address` → Map of lower-case name → { address, family }. Throws one Error
 * naming every bad entry; an empty or unset value is an empty map.
 * @param {string | undefined} text
 * @returns {Map<string, { address: string, family: 4 | 6 }>}
 */
export function parseHostMap(text) {
  const map = new Map();
  const problems = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = normalise(eq < 0 ? entry : entry.slice(0, eq));
    const address = eq < 0 ? '' : entry.slice(eq + 1).trim();
    const family = isIP(address);
    if (eq < 0 || name === '' || address === '') problems.push(`"${entry}" is not name=address`);
    else if (!RESERVED_NAME.test(name)) problems.push(`"${name}" is not a reserved name (.test, .example, .invalid); a drill must not shadow a real host`);
    else if (family !== 4 && family !== 6) problems.push(`"${address}" (for ${name}) is not an IP address`);
    else if (map.has(name) && map.get(name).address !== address) problems.push(`"${name}" is mapped twice`);
    else map.set(name, { address, family });
  }
  if (problems.length > 0) throw new Error(`${HOST_MAP_VARIABLE}: ${problems.join('; ')}`);
  return map;
}

/** @param {string} name */
function normalise(name) {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** What the system resolver says for a name with no address of the asked family. */
function notFound(hostname) {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: dns.NOTFOUND, errno: -3008, syscall: 'getaddrinfo', hostname });
}

/** The family `lookup`'s options ask for: 0 (any), 4 or 6. */
function askedFamily(options) {
  const family = typeof options === 'number' ? options : options?.family;
  if (family === 'IPv4') return 4;
  if (family === 'IPv6') return 6;
  return Number(family ?? 0) || 0;
}

/**
 * The answer `lookup` gives for a mapped name, in the shape the options ask for, or an ENOTFOUND
 * error when they ask for the other family (as a name with no such record would).
 */
function answer(hostname, entry, options) {
  const family = askedFamily(options);
  if (family !== 0 && family !== entry.family) return { error: notFound(hostname) };
  const all = typeof options === 'object' && options !== null && options.all === true;
  return { all, address: entry.address, family: entry.family };
}

/**
 * Replaces `dns.lookup` and `dns.promises.lookup` with versions that answer mapped names
 * themselves. Returns a function that puts the originals back (for tests).
 * @param {Map<string, { address: string, family: 4 | 6 }>} map
 * @returns {() => void}
 */
export function installHostMap(map) {
  const originalLookup = dns.lookup;
  const originalPromiseLookup = dns.promises.lookup;

  function lookup(hostname, options, callback) {
    const entry = typeof hostname === 'string' ? map.get(normalise(hostname)) : undefined;
    if (entry === undefined) return originalLookup.call(dns, hostname, options, callback);
    const done = typeof options === 'function' ? options : callback;
    const result = answer(hostname, entry, typeof options === 'function' ? undefined : options);
    // Asynchronous like the real one: callers may rely on the callback running after they return.
    process.nextTick(() => {
      if (result.error) done(result.error);
      else if (result.all) done(null, [{ address: result.address, family: result.family }]);
      else done(null, result.address, result.family);
    });
    return undefined;
  }

  async function promiseLookup(hostname, options) {
    const entry = typeof hostname === 'string' ? map.get(normalise(hostname)) : undefined;
    if (entry === undefined) return originalPromiseLookup.call(dns.promises, hostname, options);
    const result = answer(hostname, entry, options);
    if (result.error) throw result.error;
    return result.all ? [{ address: result.address, family: result.family }] : { address: result.address, family: result.family };
  }

  dns.lookup = lookup;
  dns.promises.lookup = promiseLookup;
  // Named imports (`import { lookup } from 'node:dns'`) see the replacement too.
  syncBuiltinESMExports();
  return () => {
    dns.lookup = originalLookup;
    dns.promises.lookup = originalPromiseLookup;
    syncBuiltinESMExports();
  };
}

// As a preload: a bad map stops the process at once, before it resolves anything the wrong way.
const fromEnvironment = parseHostMap(process.env[HOST_MAP_VARIABLE]);
if (fromEnvironment.size > 0) installHostMap(fromEnvironment);
