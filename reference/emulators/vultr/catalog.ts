// The static part of the emulated Vultr account: regions, plans, operating systems.
// Ids, names and prices follow Vultr's own API dump (research/external-apis.md 1.6), not the stack's
// price table: the emulator reflects Vultr, the stack decides what it charges.

export interface Region {
  id: string;
  city: string;
  country: string;
  continent: string;
  options: string[];
}

export interface Plan {
  id: string;
  vcpu_count: number;
  ram: number;
  disk: number;
  disk_count: number;
  bandwidth: number;
  monthly_cost: number;
  hourly_cost: number;
  type: string;
  locations: string[];
}

export interface OperatingSystem {
  id: number;
  name: string;
  arch: string;
  family: string;
}

const FULL_OPTIONS = ['ddos_protection', 'block_storage_storage_opt', 'block_storage_high_perf', 'load_balancers', 'kubernetes'];
const STANDARD_OPTIONS = ['ddos_protection', 'block_storage_storage_opt', 'load_balancers', 'kubernetes'];
const SMALL_OPTIONS = ['block_storage_storage_opt', 'load_balancers'];

function region(id: string, city: string, country: string, continent: string, options: string[]): Region {
  return { id, city, country, continent, options };
}

export const REGIONS: readonly Region[] = [
  region('ewr', 'New Jersey', 'US', 'North America', FULL_OPTIONS),
  region('ord', 'Chicago', 'US', 'North America', FULL_OPTIONS),
  region('atl', 'Atlanta', 'US', 'North America', STANDARD_OPTIONS),
  region('dfw', 'Dallas', 'US', 'North America', FULL_OPTIONS),
  region('mia', 'Miami', 'US', 'North America', STANDARD_OPTIONS),
  region('lax', 'Los Angeles', 'US', 'North America', FULL_OPTIONS),
  region('sjc', 'Silicon Valley', 'US', 'North America', FULL_OPTIONS),
  region('sea', 'Seattle', 'US', 'North America', STANDARD_OPTIONS),
  region('hnl', 'Honolulu', 'US', 'North America', SMALL_OPTIONS),
  region('yto', 'Toronto', 'CA', 'North America', STANDARD_OPTIONS),
  region('mex', 'Mexico City', 'MX', 'North America', SMALL_OPTIONS),
  region('ams', 'Amsterdam', 'NL', 'Europe', FULL_OPTIONS),
  region('fra', 'Frankfurt', 'DE', 'Europe', FULL_OPTIONS),
  region('lhr', 'London', 'GB', 'Europe', FULL_OPTIONS),
  region('man', 'Manchester', 'GB', 'Europe', SMALL_OPTIONS),
  region('cdg', 'Paris', 'FR', 'Europe', STANDARD_OPTIONS),
  region('mad', 'Madrid', 'ES', 'Europe', STANDARD_OPTIONS),
  region('waw', 'Warsaw', 'PL', 'Europe', STANDARD_OPTIONS),
  region('sto', 'Stockholm', 'SE', 'Europe', STANDARD_OPTIONS),
  region('nrt', 'Tokyo', 'JP', 'Asia', FULL_OPTIONS),
  region('itm', 'Osaka', 'JP', 'Asia', STANDARD_OPTIONS),
  region('icn', 'Seoul', 'KR', 'Asia', STANDARD_OPTIONS),
  region('sgp', 'Singapore', 'SG', 'Asia', FULL_OPTIONS),
  region('bom', 'Mumbai', 'IN', 'Asia', STANDARD_OPTIONS),
  region('del', 'Delhi NCR', 'IN', 'Asia', STANDARD_OPTIONS),
  region('blr', 'Bangalore', 'IN', 'Asia', STANDARD_OPTIONS),
  region('tlv', 'Tel Aviv', 'IL', 'Asia', SMALL_OPTIONS),
  region('syd', 'Sydney', 'AU', 'Australia', FULL_OPTIONS),
  region('mel', 'Melbourne', 'AU', 'Australia', STANDARD_OPTIONS),
  region('jnb', 'Johannesburg', 'ZA', 'Africa', STANDARD_OPTIONS),
  region('sao', 'Sao Paulo', 'BR', 'South America', STANDARD_OPTIONS),
  region('scl', 'Santiago', 'CL', 'South America', SMALL_OPTIONS),
];

const ALL_REGION_IDS = REGIONS.map((r) => r.id);
// The cheapest and the high-frequency plans are not sold everywhere; keeping them out of some regions
// also gives the "plan not available in region" error a real case.
const HALF_GB_REGIONS = ['ewr', 'ord', 'atl', 'dfw', 'lax', 'sjc', 'sea', 'ams', 'fra', 'nrt', 'sgp', 'syd'];
const HIGH_FREQUENCY_REGIONS = ALL_REGION_IDS.filter((id) => !['hnl', 'mex', 'man', 'tlv', 'scl'].includes(id));

// Vultr bills hourly up to a monthly cap; its hourly rate is the monthly rate over 672 h (28 days),
// shown rounded to three decimals ($5/mo → $0.007/h).
function hourlyFromMonthly(monthly: number): number {
  return Math.round((monthly / 672) * 1000) / 1000;
}

function plan(id: string, type: string, vcpu: number, ramMb: number, diskGb: number, bandwidthGb: number, monthly: number, locations: string[]): Plan {
  return {
    id,
    vcpu_count: vcpu,
    ram: ramMb,
    disk: diskGb,
    disk_count: 1,
    bandwidth: bandwidthGb,
    monthly_cost: monthly,
    hourly_cost: hourlyFromMonthly(monthly),
    type,
    locations,
  };
}

export const PLANS: readonly Plan[] = [
  plan('vc2-1c-0.5gb', 'vc2', 1, 512, 10, 512, 3.5, HALF_GB_REGIONS),
  plan('vc2-1c-1gb', 'vc2', 1, 1024, 25, 1024, 5, ALL_REGION_IDS),
  plan('vc2-1c-2gb', 'vc2', 1, 2048, 55, 2048, 10, ALL_REGION_IDS),
  plan('vc2-2c-2gb', 'vc2', 2, 2048, 65, 3072, 15, ALL_REGION_IDS),
  plan('vc2-2c-4gb', 'vc2', 2, 4096, 80, 3072, 20, ALL_REGION_IDS),
  plan('vc2-4c-8gb', 'vc2', 4, 8192, 160, 4096, 40, ALL_REGION_IDS),
  plan('vc2-6c-16gb', 'vc2', 6, 16384, 320, 5120, 80, ALL_REGION_IDS),
  plan('vhf-1c-1gb', 'vhf', 1, 1024, 32, 1024, 6, HIGH_FREQUENCY_REGIONS),
  plan('vhf-1c-2gb', 'vhf', 1, 2048, 64, 2048, 12, HIGH_FREQUENCY_REGIONS),
  plan('vhf-2c-4gb', 'vhf', 2, 4096, 128, 3072, 24, HIGH_FREQUENCY_REGIONS),
];

// Ids 159/164/186 are the pseudo operating systems Vultr reports for ISO, snapshot and application
// installs; they are listed by GET /os but are not chosen through os_id.
export const OS_CUSTOM = 159;
export const OS_SNAPSHOT = 164;
export const OS_APPLICATION = 186;

export const OPERATING_SYSTEMS: readonly OperatingSystem[] = [
  { id: OS_CUSTOM, name: 'Custom', arch: 'x64', family: 'iso' },
  { id: OS_SNAPSHOT, name: 'Snapshot', arch: 'x64', family: 'snapshot' },
  { id: OS_APPLICATION, name: 'Application', arch: 'x64', family: 'application' },
  { id: 387, name: 'Ubuntu 20.04 LTS x64', arch: 'x64', family: 'ubuntu' },
  { id: 477, name: 'Debian 11 x64 (bullseye)', arch: 'x64', family: 'debian' },
  { id: 1743, name: 'Ubuntu 22.04 LTS x64', arch: 'x64', family: 'ubuntu' },
  { id: 2136, name: 'Debian 12 x64 (bookworm)', arch: 'x64', family: 'debian' },
  { id: 2284, name: 'Ubuntu 24.04 LTS x64', arch: 'x64', family: 'ubuntu' },
  { id: 2625, name: 'Debian 13 x64 (trixie)', arch: 'x64', family: 'debian' },
];

const PSEUDO_OS_IDS = new Set([OS_CUSTOM, OS_SNAPSHOT, OS_APPLICATION]);

export function findRegion(id: string): Region | undefined {
  return REGIONS.find((r) => r.id === id);
}

export function findPlan(id: string): Plan | undefined {
  return PLANS.find((p) => p.id === id);
}

export function findInstallableOs(id: number): OperatingSystem | undefined {
  if (PSEUDO_OS_IDS.has(id)) return undefined;
  return OPERATING_SYSTEMS.find((os) => os.id === id);
}

export function osName(id: number): string {
  return OPERATING_SYSTEMS.find((os) => os.id === id)?.name ?? 'Custom';
}

export const ACCOUNT = {
  name: 'Powernode Reference',
  email: 'platform@powernode.test',
  acls: ['manage_users', 'subscriptions_view', 'subscriptions', 'billing', 'support', 'provisioning', 'dns', 'abuse', 'upgrade', 'firewall', 'alerts', 'objstore', 'loadbalancer'],
  // Vultr reports credit as a negative balance.
  balance: -100.55,
  pending_charges: 0,
  last_payment_date: '2026-01-01T00:00:00+00:00',
  last_payment_amount: -100,
} as const;
