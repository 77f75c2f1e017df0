// Vultr's cursor pagination: per_page (default 100, max 500) and an opaque cursor taken from
// meta.links.next / meta.links.prev, where "" means there is no such page.
import { InvalidRequest } from './create-request';

export const DEFAULT_PER_PAGE = 100;
export const MAX_PER_PAGE = 500;

export interface ListMeta {
  total: number;
  links: { next: string; prev: string };
}

function encodeCursor(direction: 'next' | 'prev', offset: number): string {
  return Buffer.from(`${direction}__${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^(?:next|prev)__(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new InvalidRequest('Invalid cursor.');
  return Number(match[1]);
}

function perPage(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_PER_PAGE;
  if (!/^\d{1,4}$/.test(raw)) throw new InvalidRequest(`Invalid per_page: expected an integer from 1 to ${MAX_PER_PAGE}.`);
  const value = Number(raw);
  if (value < 1 || value > MAX_PER_PAGE) throw new InvalidRequest(`Invalid per_page: expected an integer from 1 to ${MAX_PER_PAGE}.`);
  return value;
}

export function paginate<T>(items: readonly T[], query: URLSearchParams): { page: T[]; meta: ListMeta } {
  const size = perPage(query.get('per_page'));
  const cursor = query.get('cursor');
  const offset = cursor ? decodeCursor(cursor) : 0;
  const page = items.slice(offset, offset + size);
  const next = offset + size < items.length ? encodeCursor('next', offset + size) : '';
  const prev = offset > 0 ? encodeCursor('prev', Math.max(0, offset - size)) : '';
  return { page, meta: { total: items.length, links: { next, prev } } };
}
