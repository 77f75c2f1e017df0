/**
 * The login page's test ids (CONTRACT 3's additions, CONTRACT 9 `login_ids_core`). The submit
 * button and the error keep their ids in both.
 */
export type LoginIds = { email: string; password: string; submit: string; error: string };

export const LOGIN_IDS = {
  runbook: { email: 'login-email-input', password: 'login-password-input', submit: 'login-submit-btn', error: 'login-error' },
  core: { email: 'email-input', password: 'password-input', submit: 'login-submit-btn', error: 'login-error' },
} satisfies Record<string, LoginIds>;

export type LoginIdsName = keyof typeof LOGIN_IDS;
