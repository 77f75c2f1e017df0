/**
 * Typed reads of parsed form parameters, with Stripe's 400 messages. Each endpoint names the
 * parameters it knows; anything else is rejected like Stripe does ("Received unknown parameter").
 */
import { invalidRequest, missingParam, unknownParam } from './errors';
import { emptyObject, type FormObject, type FormValue } from './form';

export function rejectUnknown(params: FormObject, known: readonly string[]): void {
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) throw unknownParam(name);
  }
}

export function optionalString(params: FormObject, name: string, param = name): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${param} must be a string.`, { param });
  if (value.length > 5000) throw invalidRequest(`Invalid string: ${param} is longer than 5000 characters.`, { param });
  return value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An e-mail address; an empty one passes (it clears the field), a malformed one is Stripe's `email_invalid`. */
export function optionalEmail(params: FormObject, name: string, param = name): string | undefined {
  const value = optionalString(params, name, param);
  if (value !== undefined && value !== '' && !EMAIL.test(value)) {
    throw invalidRequest(`Invalid email address: ${value}`, { code: 'email_invalid', param });
  }
  return value;
}

/** Present and non-empty; Stripe answers an empty required string as a missing one. */
export function requiredString(params: FormObject, name: string, param = name): string {
  const value = optionalString(params, name, param);
  if (value === undefined || value === '') throw missingParam(param);
  return value;
}

export function optionalInteger(
  params: FormObject,
  name: string,
  bounds: { min?: number; max?: number } = {},
  param = name,
): number | undefined {
  const raw = optionalString(params, name, param);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d{1,15}$/.test(raw)) {
    throw invalidRequest(`Invalid integer: ${raw}`, { code: 'parameter_invalid_integer', param });
  }
  const value = Number(raw);
  if (bounds.min !== undefined && value < bounds.min) {
    throw invalidRequest(`Invalid ${param}: must be greater than or equal to ${bounds.min}`, { param });
  }
  if (bounds.max !== undefined && value > bounds.max) {
    throw invalidRequest(`Invalid ${param}: must be less than or equal to ${bounds.max}`, { param });
  }
  return value;
}

export function optionalBoolean(params: FormObject, name: string, param = name): boolean | undefined {
  const raw = optionalString(params, name, param);
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${raw}`, { param });
}

export function optionalEnum<T extends string>(
  params: FormObject,
  name: string,
  allowed: readonly T[],
  param = name,
): T | undefined {
  const raw = optionalString(params, name, param);
  if (raw === undefined || raw === '') return undefined;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw invalidRequest(`Invalid ${param}: must be one of ${listWords(allowed)}`, { param });
  }
  return raw as T;
}

/** A list arrives as `a[]=` (array) or `a[0]=` (hash with index keys, which is what stripe-node sends). */
export function optionalList(params: FormObject, name: string, param = name): FormValue[] | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') throw invalidRequest(`Invalid array: ${param} must be a list.`, { param });
  const keys = Object.keys(value);
  if (!keys.every((key) => /^\d{1,4}$/.test(key))) {
    throw invalidRequest(`Invalid array: ${param} must be a list.`, { param });
  }
  return keys
    .map((key) => [Number(key), value[key]] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, item]) => item as FormValue);
}

export function optionalStringList(params: FormObject, name: string, param = name): string[] | undefined {
  const list = optionalList(params, name, param);
  if (list === undefined) return undefined;
  return list.map((item, index) => {
    if (typeof item !== 'string') throw invalidRequest(`Invalid string: ${param}[${index}] must be a string.`, { param });
    return item;
  });
}

export function optionalHash(params: FormObject, name: string, param = name): FormObject | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === '') return emptyObject();
  if (typeof value === 'string' || Array.isArray(value)) {
    throw invalidRequest(`Invalid hash: ${param} must be a hash.`, { param });
  }
  return value;
}

/** Stripe's metadata limits: 50 keys, key ≤ 40 characters, value ≤ 500 characters. */
export function optionalMetadata(params: FormObject, name = 'metadata', param = name): Record<string, string> | undefined {
  const hash = optionalHash(params, name, param);
  if (hash === undefined) return undefined;
  const result: Record<string, string> = {};
  const keys = Object.keys(hash);
  if (keys.length > 50) throw invalidRequest(`Invalid ${param}: at most 50 keys are allowed.`, { param });
  for (const key of keys) {
    const value = hash[key];
    if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${param}[${key}] must be a string.`, { param });
    if (key.length > 40) throw invalidRequest(`Invalid ${param}: keys must be at most 40 characters.`, { param });
    if (value.length > 500) throw invalidRequest(`Invalid ${param}: values must be at most 500 characters.`, { param });
    result[key] = value;
  }
  return result;
}

/** Applies a metadata update: an empty value unsets that key, an empty `metadata` unsets all. */
export function mergeMetadata(current: Record<string, string>, update: Record<string, string>, cleared: boolean): Record<string, string> {
  if (cleared) return {};
  const next = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete next[key];
    else next[key] = value;
  }
  return next;
}

function listWords(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  return `${values.slice(0, -1).join(', ')}, or ${values[values.length - 1]}`;
}
