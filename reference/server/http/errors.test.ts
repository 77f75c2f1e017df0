import { describe, expect, it } from 'vitest';
import { ApiError, toApiError, validationDetails } from './errors';
import { levelFor, redactUrl } from './request-log';

describe('error mapping', () => {
  it('passes ApiErrors through and leaves unknown errors as bugs (null → 500)', () => {
    const error = new ApiError(409, 'email_taken', 'taken');
    expect(toApiError(error)).toBe(error);
    expect(toApiError(new TypeError('x is undefined'))).toBeNull();
    expect(toApiError('a string')).toBeNull();
  });

  it('maps path validation to 404 and body validation to 422 with details', () => {
    expect(toApiError({ validation: [{ keyword: 'format', params: {} }], validationContext: 'params' })?.statusCode).toBe(404);
    const body = toApiError({
      validation: [
        { instancePath: '', keyword: 'required', params: { missingProperty: 'email' } },
        { instancePath: '/message/content', keyword: 'maxLength', params: { limit: 4000 } },
      ],
      validationContext: 'body',
    });
    expect(body?.statusCode).toBe(422);
    expect(body?.details).toEqual({ email: 'Email is required.', 'message.content': 'Message content must be at most 4000 characters.' });
  });

  it('maps parser, database and Stripe failures to clear codes', () => {
    const cases: [unknown, number, string][] = [
      [{ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }, 400, 'invalid_json'],
      [{ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, 415, 'unsupported_media_type'],
      [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 413, 'payload_too_large'],
      [{ code: '42P01', message: 'relation "billing_provisioning_usage_records" does not exist' }, 503, 'schema_out_of_date'],
      [{ code: '22P02' }, 404, 'not_found'],
      [{ code: 'ECONNREFUSED' }, 503, 'database_unavailable'],
      [{ code: '57P01' }, 503, 'database_unavailable'],
      [{ type: 'StripeConnectionError', message: 'connect ECONNREFUSED' }, 502, 'stripe_unavailable'],
      [{ type: 'StripeAuthenticationError', message: 'Invalid API Key' }, 502, 'stripe_error'],
      [{ statusCode: 400, code: 'FST_ERR_SOMETHING' }, 400, 'bad_request'],
    ];
    for (const [error, status, code] of cases) {
      const mapped = toApiError(error);
      expect([mapped?.statusCode, mapped?.code], JSON.stringify(error)).toEqual([status, code]);
    }
  });

  it('phrases schema errors for people', () => {
    expect(
      validationDetails([
        { instancePath: '', keyword: 'type', params: { type: 'object' } },
        { instancePath: '/is_active', keyword: 'type', params: { type: 'boolean' } },
        { instancePath: '/provider_type', keyword: 'enum', params: { allowedValues: ['pro_cloud'] } },
        { instancePath: '/api_key', keyword: 'pattern', params: {} },
      ]),
    ).toEqual({
      body: 'The request body must be a JSON object.',
      is_active: 'Is active must be true or false.',
      provider_type: 'Provider type must be one of: pro_cloud.',
      api_key: 'Api key has an invalid format.',
    });
  });
});

describe('request log helpers', () => {
  it('redacts access tokens and stream tickets in query strings, wherever they sit', () => {
    expect(redactUrl('/a?access_token=abc')).toBe('/a?access_token=[REDACTED]');
    expect(redactUrl('/a?x=1&ACCESS_TOKEN=abc&y=2')).toBe('/a?x=1&ACCESS_TOKEN=[REDACTED]&y=2');
    expect(redactUrl('/a?ticket=m1st_abc&ticket=m1st_def')).toBe('/a?ticket=[REDACTED]&ticket=[REDACTED]');
    expect(redactUrl('/a?x=1&myticket=1')).toBe('/a?x=1&myticket=1');
    expect(redactUrl('/a?x=1')).toBe('/a?x=1');
  });

  it('levels by status', () => {
    expect([levelFor(200), levelFor(302), levelFor(404), levelFor(503)]).toEqual(['info', 'info', 'warn', 'error']);
  });
});
