/**
 * Stripe's v1 wire format: `application/x-www-form-urlencoded` with bracket nesting, e.g.
 * `line_items[0][price]=price_x&metadata[plan]=free&expand[]=subscription`.
 *
 * The parser keeps indexed segments (`[0]`) as object keys and leaves the array/hash decision to
 * the parameter readers (see params.ts), the way Stripe decides from each endpoint's schema:
 * `metadata[0]=x` is a hash, `line_items[0][price]=y` is a list. Only `[]` builds an array here.
 */

export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export class FormError extends Error {
  constructor(
    message: string,
    readonly param: string | undefined,
  ) {
    super(message);
    this.name = 'FormError';
  }
}

const MAX_PAIRS = 2000;
const MAX_DEPTH = 10;
const MAX_KEY_LENGTH = 500;

/** A plain record without a prototype, so keys like `__proto__` are just data. */
export function emptyObject(): FormObject {
  return Object.create(null) as FormObject;
}

export function parseForm(text: string): FormObject {
  const root = emptyObject();
  if (text === '') return root;
  const pairs = text.split('&');
  if (pairs.length > MAX_PAIRS) throw new FormError(`Too many parameters (more than ${MAX_PAIRS}).`, undefined);
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq === -1 ? '' : pair.slice(eq + 1));
    assign(root, splitKey(key), value, key);
  }
  return root;
}

/** Query strings use the same encoding; `URLSearchParams` would lose the nesting. */
export function parseQuery(search: string): FormObject {
  return parseForm(search.startsWith('?') ? search.slice(1) : search);
}

function decodeComponent(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new FormError(`Invalid URL encoding in the request body near "${raw.slice(0, 40)}".`, undefined);
  }
}

function splitKey(key: string): string[] {
  if (key.length > MAX_KEY_LENGTH) throw new FormError('Parameter name is too long.', key.slice(0, 60));
  const open = key.indexOf('[');
  const head = open === -1 ? key : key.slice(0, open);
  if (head === '') throw new FormError(`Invalid parameter name: "${key}".`, key);
  const segments = [head];
  let rest = open === -1 ? '' : key.slice(open);
  while (rest !== '') {
    const match = /^\[([^[\]]*)\]/.exec(rest);
    if (!match) throw new FormError(`Invalid parameter name: "${key}" (unbalanced brackets).`, key);
    segments.push(match[1] ?? '');
    rest = rest.slice(match[0].length);
  }
  if (segments.length > MAX_DEPTH) throw new FormError(`Parameter "${key}" is nested too deeply.`, key);
  return segments;
}

type Container = FormObject | FormValue[];

function assign(root: FormObject, segments: string[], value: string, fullKey: string): void {
  let container: Container = root;
  for (let i = 0; i < segments.length; i += 1) {
    const segment = segments[i] ?? '';
    const last = i === segments.length - 1;
    const next = segments[i + 1];
    if (Array.isArray(container)) {
      if (segment !== '') throw conflict(fullKey);
      if (last) {
        container.push(value);
        return;
      }
      // `a[][x]=1&a[][y]=2` fills one element; a repeated `x` starts the next one (Rack's rule).
      const tail: FormValue | undefined = container[container.length - 1];
      if (next !== undefined && next !== '' && isObject(tail) && !(next in tail)) {
        container = tail;
        continue;
      }
      const child: Container = next === '' ? [] : emptyObject();
      container.push(child);
      container = child;
      continue;
    }
    if (last) {
      const existing = container[segment];
      if (existing !== undefined && typeof existing !== 'string') throw conflict(fullKey);
      container[segment] = value;
      return;
    }
    const existing: FormValue | undefined = container[segment];
    const wantArray = next === '';
    if (existing === undefined) {
      const child: Container = wantArray ? [] : emptyObject();
      container[segment] = child;
      container = child;
    } else if (typeof existing === 'string' || Array.isArray(existing) !== wantArray) {
      throw conflict(fullKey);
    } else {
      container = existing;
    }
  }
}

function isObject(value: FormValue | undefined): value is FormObject {
  return value !== undefined && typeof value === 'object' && !Array.isArray(value);
}

function conflict(key: string): FormError {
  return new FormError(`Invalid parameter "${key}": it mixes a value, a hash and a list for the same name.`, key);
}
