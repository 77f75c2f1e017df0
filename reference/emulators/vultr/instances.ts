// Instance records and how Vultr would show them at a given moment.
// The lifecycle is computed from timestamps on every read, so it needs no timers and carries on
// where it left off after a restart from the state file.
import { randomBytes, randomUUID } from 'node:crypto';
import { findPlan, OS_APPLICATION, OS_CUSTOM, OS_SNAPSHOT, osName } from './catalog';
import type { CreateSpec } from './create-request';

export type PowerStatus = 'running' | 'stopped';

export interface InstanceRecord {
  id: string;
  /** The Vultr account that holds it (accounts.ts): only a key of that account sees it. */
  owner: string;
  created_ms: number;
  ip_index: number;
  power: PowerStatus;
  spec: CreateSpec;
}

export interface Lifecycle {
  bootDelayMs: number;
  okDelayMs: number;
  neverRunning: boolean;
}

export interface InstanceView {
  id: string;
  os: string;
  ram: number;
  disk: number;
  main_ip: string;
  vcpu_count: number;
  region: string;
  plan: string;
  date_created: string;
  status: 'pending' | 'active';
  allowed_bandwidth: number;
  netmask_v4: string;
  gateway_v4: string;
  power_status: PowerStatus;
  server_status: 'none' | 'installingbooting' | 'ok';
  v6_network: string;
  v6_main_ip: string;
  v6_network_size: number;
  label: string;
  internal_ip: string;
  kvm: string;
  hostname: string;
  tag: string;
  tags: string[];
  os_id: number;
  app_id: number;
  image_id: string;
  firewall_group_id: string;
  features: string[];
  user_scheme: string;
  default_password?: string;
}

// Documentation address ranges (RFC 5737): they can never collide with a real host.
const IPV4_POOLS = ['203.0.113', '198.51.100', '192.0.2'];
const HOSTS_PER_POOL = 253;

export function ipv4ForIndex(index: number): string {
  const pool = IPV4_POOLS[Math.floor(index / HOSTS_PER_POOL) % IPV4_POOLS.length];
  return `${pool}.${2 + (index % HOSTS_PER_POOL)}`;
}

export function newInstanceRecord(spec: CreateSpec, ipIndex: number, now: number, owner: string): InstanceRecord {
  return { id: randomUUID(), owner, created_ms: now, ip_index: ipIndex, power: 'running', spec };
}

// Vultr prints offsets as +00:00 and drops milliseconds.
export function vultrDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

export function newDefaultPassword(): string {
  return randomBytes(12).toString('base64url');
}

function imageFields(spec: CreateSpec): Pick<InstanceView, 'os' | 'os_id' | 'app_id' | 'image_id'> {
  switch (spec.image.kind) {
    case 'os':
      return { os: osName(spec.image.os_id), os_id: spec.image.os_id, app_id: 0, image_id: '' };
    case 'iso':
      return { os: osName(OS_CUSTOM), os_id: OS_CUSTOM, app_id: 0, image_id: '' };
    case 'snapshot':
      return { os: osName(OS_SNAPSHOT), os_id: OS_SNAPSHOT, app_id: 0, image_id: '' };
    case 'app':
      return { os: osName(OS_APPLICATION), os_id: OS_APPLICATION, app_id: spec.image.app_id, image_id: '' };
    case 'image':
      return { os: osName(OS_APPLICATION), os_id: OS_APPLICATION, app_id: 0, image_id: spec.image.image_id };
  }
}

function phase(record: InstanceRecord, now: number, lifecycle: Lifecycle): 'pending' | 'booting' | 'ok' {
  if (lifecycle.neverRunning) return 'pending';
  const elapsed = now - record.created_ms;
  if (elapsed < lifecycle.bootDelayMs) return 'pending';
  if (elapsed < lifecycle.bootDelayMs + lifecycle.okDelayMs) return 'booting';
  return 'ok';
}

export function renderInstance(record: InstanceRecord, now: number, lifecycle: Lifecycle): InstanceView {
  const { spec } = record;
  const plan = findPlan(spec.plan);
  const current = phase(record, now, lifecycle);
  const provisioned = current !== 'pending';
  const ip = ipv4ForIndex(record.ip_index);
  const v6Block = (record.ip_index + 1).toString(16);
  const hasV6 = provisioned && spec.enable_ipv6;
  const features = [
    ...(spec.backups ? ['auto_backups'] : []),
    ...(spec.enable_ipv6 ? ['ipv6'] : []),
    ...(spec.ddos_protection ? ['ddos_protection'] : []),
  ];
  return {
    id: record.id,
    ...imageFields(spec),
    ram: plan?.ram ?? 0,
    disk: provisioned ? (plan?.disk ?? 0) : 0,
    main_ip: provisioned ? ip : '0.0.0.0',
    vcpu_count: plan?.vcpu_count ?? 0,
    region: spec.region,
    plan: spec.plan,
    date_created: vultrDate(record.created_ms),
    status: provisioned ? 'active' : 'pending',
    // Real responses since 2024 give this in TB (1 for the 1 TB vc2-1c-1gb), though the spec says GB.
    allowed_bandwidth: Math.max(1, Math.round((plan?.bandwidth ?? 1024) / 1024)),
    netmask_v4: provisioned ? '255.255.255.0' : '',
    gateway_v4: provisioned ? ip.replace(/\.\d+$/, '.1') : '0.0.0.0',
    power_status: record.power,
    server_status: current === 'pending' ? 'none' : current === 'booting' ? 'installingbooting' : 'ok',
    v6_network: hasV6 ? `2001:db8:${v6Block}::` : '',
    v6_main_ip: hasV6 ? `2001:db8:${v6Block}:0:5400:4ff:fe00:1` : '',
    v6_network_size: hasV6 ? 64 : 0,
    label: spec.label,
    internal_ip: '',
    kvm: provisioned ? `https://my.vultr.com/subs/vps/novnc/api.php?data=${Buffer.from(record.id).toString('base64url')}` : '',
    hostname: spec.hostname,
    tag: spec.tag,
    tags: [...spec.tags],
    firewall_group_id: spec.firewall_group_id,
    features,
    user_scheme: spec.user_scheme,
  };
}

export interface InstanceFilter {
  label?: string;
  tag?: string;
  region?: string;
  main_ip?: string;
  firewall_group_id?: string;
}

export function matchesFilter(view: InstanceView, filter: InstanceFilter): boolean {
  if (filter.label !== undefined && view.label !== filter.label) return false;
  if (filter.tag !== undefined && view.tag !== filter.tag && !view.tags.includes(filter.tag)) return false;
  if (filter.region !== undefined && view.region !== filter.region) return false;
  if (filter.main_ip !== undefined && view.main_ip !== filter.main_ip) return false;
  if (filter.firewall_group_id !== undefined && view.firewall_group_id !== filter.firewall_group_id) return false;
  return true;
}
