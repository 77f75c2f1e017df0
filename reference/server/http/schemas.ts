/** JSON schemas shared by routes. Bodies are validated before a handler runs (→ 422). */

export const uuidParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

export const checkoutSessionParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^cs_[A-Za-z0-9_]{1,250}$' } },
} as const;

export const registerBody = {
  type: 'object',
  required: ['email', 'password', 'name'],
  properties: {
    email: { type: 'string', maxLength: 254 },
    password: { type: 'string', maxLength: 1024 },
    name: { type: 'string', maxLength: 100 },
    account_name: { type: 'string', maxLength: 100 },
  },
} as const;

export const loginBody = {
  type: 'object',
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', minLength: 1, maxLength: 254 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

export const checkoutBody = {
  type: 'object',
  required: ['plan_slug'],
  properties: { plan_slug: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export const messageBody = {
  type: 'object',
  required: ['message'],
  properties: {
    message: {
      type: 'object',
      required: ['content'],
      properties: { content: { type: 'string', minLength: 1, maxLength: 4000 } },
    },
  },
} as const;

export const credentialBody = {
  type: 'object',
  required: ['provider_type', 'api_key'],
  properties: {
    provider_type: { type: 'string', enum: ['pro_cloud'] },
    api_key: { type: 'string', minLength: 8, maxLength: 256, pattern: '^\\s*\\S+\\s*$' },
  },
} as const;

export const credentialPatchBody = {
  type: 'object',
  required: ['is_active'],
  properties: { is_active: { type: 'boolean' } },
} as const;
