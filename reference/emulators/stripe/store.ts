/**
 * The emulator's state: every object by id, in creation order (JS keeps string-key insertion
 * order, so "newest first" lists are the reverse of it). Optionally persisted to a JSON file with
 * an atomic write (temp file + rename), so a restart keeps customers and subscriptions.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  CheckoutSession,
  Customer,
  LineItem,
  PaymentMethod,
  Price,
  Product,
  StripeEvent,
  Subscription,
} from './objects';

/** A Checkout Session with what its completion needs that is not part of the API object. */
export interface SessionRecord {
  session: CheckoutSession;
  line_items: LineItem[];
  subscription_metadata: Record<string, string>;
}

export interface StateData {
  version: 1;
  products: Record<string, Product>;
  prices: Record<string, Price>;
  customers: Record<string, Customer>;
  payment_methods: Record<string, PaymentMethod>;
  checkout_sessions: Record<string, SessionRecord>;
  subscriptions: Record<string, Subscription>;
  events: Record<string, StripeEvent>;
}

export function emptyState(): StateData {
  return {
    version: 1,
    products: {},
    prices: {},
    customers: {},
    payment_methods: {},
    checkout_sessions: {},
    subscriptions: {},
    events: {},
  };
}

/** The plans the reference stack sells (CONTRACT 6.1), with the price ids the issue fixes. */
const SEEDS = [
  { product: 'prod_m1_free', name: 'Free', price: 'price_free_monthly', lookup_key: 'free_monthly', unit_amount: 0 },
  {
    product: 'prod_m1_pro_cloud',
    name: 'Pro Cloud',
    price: 'price_pro_cloud_monthly',
    lookup_key: 'pro_cloud_monthly',
    unit_amount: 4900,
  },
] as const;

/** Adds the seeded products and prices that are missing; existing rows are left as they are. */
export function seed(state: StateData, now: number): boolean {
  let changed = false;
  for (const entry of SEEDS) {
    if (!state.products[entry.product]) {
      state.products[entry.product] = {
        id: entry.product,
        object: 'product',
        active: true,
        created: now,
        default_price: entry.price,
        description: null,
        images: [],
        livemode: false,
        marketing_features: [],
        metadata: {},
        name: entry.name,
        package_dimensions: null,
        shippable: null,
        statement_descriptor: null,
        tax_code: null,
        type: 'service',
        unit_label: null,
        updated: now,
        url: null,
      };
      changed = true;
    }
    if (!state.prices[entry.price]) {
      state.prices[entry.price] = {
        id: entry.price,
        object: 'price',
        active: true,
        billing_scheme: 'per_unit',
        created: now,
        currency: 'usd',
        custom_unit_amount: null,
        livemode: false,
        lookup_key: entry.lookup_key,
        metadata: {},
        nickname: null,
        product: entry.product,
        recurring: { interval: 'month', interval_count: 1, meter: null, trial_period_days: null, usage_type: 'licensed' },
        tax_behavior: 'unspecified',
        tiers_mode: null,
        transform_quantity: null,
        type: 'recurring',
        unit_amount: entry.unit_amount,
        unit_amount_decimal: String(entry.unit_amount),
      };
      changed = true;
    }
  }
  return changed;
}

export class StateFileError extends Error {
  override name = 'StateFileError';
}

export function loadState(file: string | undefined): StateData {
  if (!file) return emptyState();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new StateFileError(`cannot read the state file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StateFileError(`the state file ${file} is not valid JSON; delete it to start with fresh state`);
  }
  if (!isState(parsed)) {
    throw new StateFileError(`the state file ${file} is not a Stripe emulator state (version 1); delete it to start fresh`);
  }
  return parsed;
}

function isState(value: unknown): value is StateData {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const tables = ['products', 'prices', 'customers', 'payment_methods', 'checkout_sessions', 'subscriptions', 'events'];
  return record.version === 1 && tables.every((name) => typeof record[name] === 'object' && record[name] !== null);
}

/** Any stored object by id, for `expand[]`. */
export function findObject(state: StateData, id: string): unknown {
  const tables = [state.customers, state.subscriptions, state.payment_methods, state.prices, state.products, state.events] as Record<string, unknown>[];
  for (const table of tables) if (table[id]) return table[id];
  return state.checkout_sessions[id]?.session;
}

/** Coalesces writes: many mutations in one tick cost one file write. */
export class StatePersister {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly state: StateData,
  ) {}

  schedule(): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, 25);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.state));
    renameSync(temp, this.file);
  }
}
