/**
 * The identities one test uses. Each is either signed up through the UI (the funnel) or registered
 * through the API (negative paths); either way its e-mail is tracked from the moment it exists, so
 * the fixture's teardown can roll back whatever the test created for it, pass or fail.
 */
import { unwrap, type ApiClient } from '../clients/api';
import { identitySlug, newCredentials, type Credentials, type SlugSeed } from './identity-emails';

export class Identity {
  accountId: string | undefined;
  private client: ApiClient | undefined;

  constructor(
    readonly label: string,
    readonly credentials: Credentials,
    private readonly anonymous: ApiClient,
    private readonly onToken: (token: string) => void,
  ) {}

  get email(): string {
    return this.credentials.email;
  }

  get password(): string {
    return this.credentials.password;
  }

  get name(): string {
    return this.credentials.name;
  }

  /** The identity's API client, logging in through the API the first time. */
  async api(): Promise<ApiClient> {
    if (this.client) return this.client;
    const login = unwrap(await this.anonymous.login({ email: this.email, password: this.password }));
    this.adopt(login.access_token, login.user.account_id);
    return this.client!;
  }

  adopt(token: string, accountId: string): void {
    this.onToken(token);
    this.client = this.anonymous.withToken(token);
    this.accountId = accountId;
  }

  /** The account id; only known once the identity exists (registered, or logged in through the API). */
  async account(): Promise<string> {
    if (!this.accountId) await this.api();
    return this.accountId!;
  }
}

export type IdentityOptions = {
  /** Keep the identity's resources after the test (the funnel's, checked by the verification teardown). */
  retain?: boolean;
};

export class IdentityRegistry {
  private readonly entries: { identity: Identity; retain: boolean }[] = [];

  constructor(
    private readonly context: {
      runId: string;
      domain: string;
      seed: Omit<SlugSeed, 'label'>;
      anonymous: ApiClient;
      /** Called with every password and token, so evidence can redact them. */
      onSecret: (secret: string) => void;
    },
  ) {}

  /** Credentials for a UI sign-up; the account appears when the test signs up. */
  forSignup(label: string, options: IdentityOptions = {}): Identity {
    const slug = identitySlug({ label, ...this.context.seed });
    const credentials = newCredentials(this.context.runId, slug, this.context.domain);
    this.context.onSecret(credentials.password);
    const identity = new Identity(label, credentials, this.context.anonymous, this.context.onSecret);
    this.entries.push({ identity, retain: options.retain ?? false });
    return identity;
  }

  /** An identity created through `POST /auth/register`, with its API client ready. */
  async register(label: string, options: IdentityOptions = {}): Promise<Identity> {
    const identity = this.forSignup(label, options);
    const { email, password, name, accountName } = identity.credentials;
    const registered = unwrap(await this.context.anonymous.register({ email, password, name, account_name: accountName }));
    identity.adopt(registered.access_token, registered.account.id);
    return identity;
  }

  /** E-mails whose resources the test's teardown rolls back. */
  emailsToRollBack(): string[] {
    return this.entries.filter((e) => !e.retain).map((e) => e.identity.email);
  }

  all(): Identity[] {
    return this.entries.map((e) => e.identity);
  }
}
