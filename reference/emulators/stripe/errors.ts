/** Stripe's error body: `{error:{type, code?, decline_code?, message, param?, doc_url?}}`. */

export type StripeErrorType = 'invalid_request_error' | 'card_error' | 'idempotency_error' | 'api_error';

export interface StripeErrorDetails {
  code?: string;
  param?: string;
  decline_code?: string;
}

export interface StripeErrorBody {
  error: {
    type: StripeErrorType;
    message: string;
    code?: string;
    decline_code?: string;
    param?: string;
    doc_url?: string;
  };
}

export class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly details: StripeErrorDetails = {},
  ) {
    super(message);
    this.name = 'StripeError';
  }

  body(): StripeErrorBody {
    const { code, param, decline_code } = this.details;
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(code ? { code, doc_url: `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}` } : {}),
        ...(decline_code ? { decline_code } : {}),
        ...(param ? { param } : {}),
      },
    };
  }
}

export function invalidRequest(message: string, details: StripeErrorDetails = {}): StripeError {
  return new StripeError(400, 'invalid_request_error', message, details);
}

export function missingParam(param: string): StripeError {
  return invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

export function unknownParam(param: string, hint = ''): StripeError {
  return invalidRequest(`Received unknown parameter: ${param}${hint ? `. ${hint}` : ''}`, {
    code: 'parameter_unknown',
    param,
  });
}

export function resourceMissing(kind: string, id: string, param?: string): StripeError {
  return new StripeError(param ? 400 : 404, 'invalid_request_error', `No such ${kind}: '${id}'`, {
    code: 'resource_missing',
    ...(param ? { param } : { param: 'id' }),
  });
}

export function unrecognizedUrl(method: string, path: string): StripeError {
  return new StripeError(
    404,
    'invalid_request_error',
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  );
}

/** Masks a key the way Stripe's 401 message does: the prefix, stars, then the last four characters. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]+_(?:test_|live_)?/.exec(key)?.[0] ?? '';
  const body = key.slice(prefix.length);
  if (body.length <= 8) return `${prefix}${'*'.repeat(Math.max(body.length, 4))}`;
  return `${prefix}${'*'.repeat(body.length - 4)}${body.slice(-4)}`;
}
