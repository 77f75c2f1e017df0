/**
 * How error bodies read (CONTRACT 4's envelope, CONTRACT 9 `errors_flat`): the runbook nests
 * `{error:{code, message, details?}}`; public Powernode puts the message in `error` and an
 * upper-case constant in `code`. Either way the suite sees `{code, message, details?}` with a
 * lower-case code, so `upgrade_required` and `UPGRADE_REQUIRED` compare equal.
 */
import { z } from 'zod';
import { errorEnvelopeSchema, type ApiErrorBody } from '../schemas';

export type ErrorEnvelope = {
  /** The error in a body, or null when the body is not this envelope. */
  read(json: unknown): ApiErrorBody | null;
};

const flatSchema = z.looseObject({
  success: z.literal(false),
  error: z.string(),
  code: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export const ERROR_ENVELOPES = {
  nested: {
    read(json) {
      const parsed = errorEnvelopeSchema.safeParse(json);
      return parsed.success ? parsed.data.error : null;
    },
  },
  flat: {
    read(json) {
      const parsed = flatSchema.safeParse(json);
      if (!parsed.success) return null;
      const { error, code, details } = parsed.data;
      return { code: (code ?? 'unknown').toLowerCase(), message: error, ...(details ? { details } : {}) };
    },
  },
} satisfies Record<string, ErrorEnvelope>;

export type ErrorEnvelopeName = keyof typeof ERROR_ENVELOPES;
