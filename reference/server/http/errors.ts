/**
 * One error envelope for every failure: `{success:false, error:{code, message, details?}}`, or
 * under the `errors_flat` variant public Powernode's `{success:false, error:"<message>", code, details?}`.
 * Bad input maps to a 4xx with a clear code; only genuine bugs become a 500, and no stack trace or
 * internal message ever leaves the process.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(statusCode: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export function notFound(what = 'The requested resource'): ApiError {
  return new ApiError(404, 'not_found', `${what} was not found`);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'unauthorized', 'Missing or invalid access token');
}

export function validationFailed(details: Record<string, string>): ApiError {
  const summary = Object.values(details).join(' ');
  return new ApiError(422, 'validation_failed', summary || 'The request is invalid', details);
}

export type ErrorBody = { success: false; error: { code: string; message: string; details?: Record<string, unknown> } };

/** Public Powernode's envelope (CONTRACT 9 `errors_flat`): the message is `error`, the code an upper-case constant. */
export type FlatErrorBody = { success: false; error: string; code: string; details?: Record<string, unknown> };

export type ErrorStyle = 'nested' | 'flat';

export function errorBody(error: ApiError, style?: 'nested'): ErrorBody;
export function errorBody(error: ApiError, style: ErrorStyle): ErrorBody | FlatErrorBody;
export function errorBody(error: ApiError, style: ErrorStyle = 'nested'): ErrorBody | FlatErrorBody {
  const details = error.details ? { details: error.details } : {};
  if (style === 'flat') return { success: false, error: error.message, code: error.code.toUpperCase(), ...details };
  return { success: false, error: { code: error.code, message: error.message, ...details } };
}

type AjvError = { instancePath?: string; keyword: string; params: Record<string, unknown>; message?: string };

function fieldLabel(field: string): string {
  const words = field.replace(/[._]/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function phrase(error: AjvError): string {
  const p = error.params;
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'type': {
      const type = String(p.type);
      if (type === 'boolean') return 'must be true or false';
      return `must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
    }
    case 'minLength':
      return Number(p.limit) <= 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`;
    case 'maxLength':
      return `must be at most ${String(p.limit)} characters`;
    case 'format':
      if (p.format === 'email') return 'must be a valid email address';
      if (p.format === 'date-time') return 'must be an ISO 8601 date-time';
      return `must be a valid ${String(p.format)}`;
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'pattern':
      return 'has an invalid format';
    case 'minimum':
    case 'maximum':
      return `must be ${error.keyword === 'minimum' ? '≥' : '≤'} ${String(p.limit)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/** `[{instancePath:'/password', keyword:'minLength'}]` → `{password: 'Password must be at least 8 characters.'}` */
export function validationDetails(errors: AjvError[]): Record<string, string> {
  const details: Record<string, string> = {};
  for (const error of errors) {
    const path = (error.instancePath ?? '').split('/').filter(Boolean);
    if (error.keyword === 'required' && typeof error.params.missingProperty === 'string') path.push(error.params.missingProperty);
    const field = path.join('.') || 'body';
    if (details[field]) continue;
    const label = field === 'body' ? 'The request body' : fieldLabel(field);
    const text = field === 'body' && error.keyword === 'type' ? 'must be a JSON object' : phrase(error);
    details[field] = `${label} ${text}.`;
  }
  return details;
}

const PG_UNDEFINED_TABLE = '42P01';
const PG_UNDEFINED_COLUMN = '42703';
const PG_INVALID_TEXT = '22P02';
const PG_CONNECTION_CLASS = /^(08|57P0)/;

/** Turns any thrown value into the ApiError the client sees; null means a genuine bug (500). */
export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  const e = error as Partial<FastifyError> & { type?: string; validationContext?: string; code?: string };
  if (Array.isArray(e.validation)) {
    // A malformed id in a path can never name an existing resource.
    if (e.validationContext === 'params') return notFound();
    return validationFailed(validationDetails(e.validation as AjvError[]));
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_json', 'The request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'unsupported_media_type', 'Send the request body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'payload_too_large', 'The request body is too large');
    case PG_UNDEFINED_TABLE:
    case PG_UNDEFINED_COLUMN:
      return new ApiError(503, 'schema_out_of_date', 'The database schema is behind this server: apply the pending migrations');
    case PG_INVALID_TEXT:
      return notFound();
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return new ApiError(503, 'database_unavailable', 'The database is not answering');
  }
  if (typeof e.code === 'string' && PG_CONNECTION_CLASS.test(e.code)) {
    return new ApiError(503, 'database_unavailable', 'The database is not answering');
  }
  if (typeof e.type === 'string' && e.type.startsWith('Stripe')) {
    return e.type === 'StripeConnectionError'
      ? new ApiError(502, 'stripe_unavailable', 'Stripe is not reachable right now; try again shortly')
      : new ApiError(502, 'stripe_error', `Stripe rejected the request: ${e.message ?? e.type}`);
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(e.statusCode, e.statusCode === 404 ? 'not_found' : 'bad_request', 'The request could not be understood');
  }
  return null;
}

export type ErrorLogger = (request: FastifyRequest, error: unknown) => void;

export function errorHandler(logBug: ErrorLogger, style: ErrorStyle = 'nested') {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply): void => {
    const apiError = toApiError(error);
    if (apiError) {
      void reply.status(apiError.statusCode).send(errorBody(apiError, style));
      return;
    }
    logBug(request, error);
    void reply
      .status(500)
      .send(errorBody(new ApiError(500, 'internal_error', 'Something went wrong on our side; the error was logged'), style));
  };
}
