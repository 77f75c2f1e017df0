/** Stripe's list envelope with cursor pagination, and `expand[]` of id fields into objects. */
import { invalidRequest, resourceMissing } from './errors';
import type { FormObject } from './form';
import { optionalInteger, optionalString } from './params';

export interface ListEnvelope<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

export const PAGINATION_PARAMS = ['limit', 'starting_after', 'ending_before', 'expand'] as const;

/** `items` must already be in list order (newest first) and filtered. */
export function paginate<T extends { id: string }>(items: T[], query: FormObject, url: string, kind: string): ListEnvelope<T> {
  const limit = optionalInteger(query, 'limit', { min: 1, max: 100 }) ?? 10;
  const startingAfter = optionalString(query, 'starting_after');
  const endingBefore = optionalString(query, 'ending_before');
  if (startingAfter && endingBefore) {
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.');
  }
  if (startingAfter) {
    const index = items.findIndex((item) => item.id === startingAfter);
    if (index === -1) throw resourceMissing(kind, startingAfter, 'starting_after');
    const rest = items.slice(index + 1);
    return { object: 'list', data: rest.slice(0, limit), has_more: rest.length > limit, url };
  }
  if (endingBefore) {
    const index = items.findIndex((item) => item.id === endingBefore);
    if (index === -1) throw resourceMissing(kind, endingBefore, 'ending_before');
    const before = items.slice(0, index);
    return { object: 'list', data: before.slice(Math.max(0, before.length - limit)), has_more: before.length > limit, url };
  }
  return { object: 'list', data: items.slice(0, limit), has_more: items.length > limit, url };
}

export function newestFirst<T>(table: Record<string, T>): T[] {
  return Object.values(table).reverse();
}

/** Looks up any stored object by id; `extra` handles fields that are lists rather than ids. */
export type Resolver = (id: string) => unknown;
export type ExtraExpander = (owner: Record<string, unknown>, field: string) => unknown;

const MAX_EXPAND_DEPTH = 4;

/**
 * Returns a copy of `value` with each dotted path expanded, as Stripe does: `customer`,
 * `subscription.default_payment_method`, `data.customer` on lists, `items.data.price.product`.
 */
export function expand(value: unknown, paths: string[], resolve: Resolver, extra?: ExtraExpander): unknown {
  const copy: unknown = structuredClone(value);
  for (const path of paths) {
    const segments = path.split('.');
    if (segments.some((segment) => segment === '') || segments.length > MAX_EXPAND_DEPTH + 1) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
    }
    if (isRecord(copy)) expandAt(copy, segments, path, resolve, extra);
  }
  return copy;
}

function expandAt(
  owner: Record<string, unknown>,
  segments: string[],
  path: string,
  resolve: Resolver,
  extra: ExtraExpander | undefined,
): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  let child = owner[head];
  if (child === undefined) {
    const produced = extra?.(owner, head);
    if (produced === undefined) throw invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
    child = produced;
    owner[head] = child;
  } else if (typeof child === 'string') {
    const found = resolve(child);
    if (found === undefined) {
      if (rest.length > 0 || !/^[a-z]+_/.test(child)) {
        throw invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
      }
      return;
    }
    child = structuredClone(found);
    owner[head] = child;
  }
  if (rest.length === 0 || child === null) return;
  if (Array.isArray(child)) {
    for (const element of child) if (isRecord(element)) expandAt(element, rest, path, resolve, extra);
  } else if (isRecord(child)) {
    expandAt(child, rest, path, resolve, extra);
  } else {
    throw invalidRequest(`This property cannot be expanded (${path}).`, { param: 'expand' });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
