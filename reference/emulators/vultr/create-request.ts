// Validation of the POST /v2/instances body into a create spec, with Vultr-style 400 messages.
import { HttpError } from '../http-kit';
import { findInstallableOs, findPlan, findRegion } from './catalog';

export type ImageSource =
  | { kind: 'os'; os_id: number }
  | { kind: 'iso'; iso_id: string }
  | { kind: 'snapshot'; snapshot_id: string }
  | { kind: 'app'; app_id: number }
  | { kind: 'image'; image_id: string };

export interface CreateSpec {
  region: string;
  plan: string;
  image: ImageSource;
  label: string;
  hostname: string;
  tags: string[];
  tag: string;
  user_data: string;
  backups: boolean;
  enable_ipv6: boolean;
  ddos_protection: boolean;
  user_scheme: 'root' | 'limited';
  firewall_group_id: string;
}

/** A create the Vultr API would refuse with 400. */
export class InvalidRequest extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

const IMAGE_FIELDS = ['os_id', 'iso_id', 'snapshot_id', 'app_id', 'image_id'] as const;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;
// Vultr names new machines this way when the request gives no hostname.
const DEFAULT_HOSTNAME = 'vultr.guest';

// Clients that echo an instance object back send 0 or "" for the image fields they do not use.
function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '' || value === 0;
}

// The official Node client declares os_id as a string, so "2284" must work as well as 2284.
function positiveInteger(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^[1-9][0-9]{0,15}$/.test(value)) return Number(value);
  return undefined;
}

function optionalString(body: Record<string, unknown>, field: string, fallback = ''): string {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new InvalidRequest(`Invalid ${field}: expected a string.`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean {
  const value = body[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new InvalidRequest(`Invalid ${field}: expected true or false.`);
  return value;
}

function parseImage(body: Record<string, unknown>): ImageSource {
  const given = IMAGE_FIELDS.filter((field) => !isUnset(body[field]));
  if (given.length === 0) {
    throw new InvalidRequest('An image source is required: one of os_id, iso_id, snapshot_id, app_id or image_id.');
  }
  if (given.length > 1) {
    throw new InvalidRequest(`Only one image source may be given, got ${given.join(' and ')}.`);
  }
  const field = given[0];
  switch (field) {
    case 'os_id': {
      const id = positiveInteger(body.os_id);
      if (id === undefined || !findInstallableOs(id)) throw new InvalidRequest('Invalid operating system.');
      return { kind: 'os', os_id: id };
    }
    case 'app_id': {
      const id = positiveInteger(body.app_id);
      if (id === undefined) throw new InvalidRequest('Invalid application.');
      return { kind: 'app', app_id: id };
    }
    case 'iso_id':
    case 'snapshot_id':
    case 'image_id': {
      const id = body[field];
      if (typeof id !== 'string') throw new InvalidRequest(`Invalid ${field}: expected a string.`);
      if (field === 'iso_id') return { kind: 'iso', iso_id: id };
      if (field === 'snapshot_id') return { kind: 'snapshot', snapshot_id: id };
      return { kind: 'image', image_id: id };
    }
    default:
      throw new InvalidRequest('An image source is required: one of os_id, iso_id, snapshot_id, app_id or image_id.');
  }
}

function parseTags(body: Record<string, unknown>): string[] {
  const tags = body.tags;
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new InvalidRequest('Invalid tags: expected an array of strings.');
  }
  return [...new Set(tags as string[])];
}

export function parseCreateRequest(body: unknown): CreateSpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequest('Request body must be a JSON object.');
  }
  const fields = body as Record<string, unknown>;

  if (typeof fields.region !== 'string' || !findRegion(fields.region)) throw new InvalidRequest('Invalid region.');
  const region = fields.region;
  if (typeof fields.plan !== 'string' || !findPlan(fields.plan)) throw new InvalidRequest('Invalid plan.');
  const plan = findPlan(fields.plan)!;
  if (!plan.locations.includes(region)) {
    throw new InvalidRequest(`Plan ${plan.id} is not available in region ${region}.`);
  }

  const image = parseImage(fields);

  const userData = optionalString(fields, 'user_data');
  if (!BASE64.test(userData)) throw new InvalidRequest('Invalid user_data: must be base64 encoded.');

  const hostname = optionalString(fields, 'hostname', DEFAULT_HOSTNAME) || DEFAULT_HOSTNAME;
  if (!HOSTNAME.test(hostname)) throw new InvalidRequest('Invalid hostname.');

  const backups = optionalString(fields, 'backups', 'disabled');
  if (backups !== 'enabled' && backups !== 'disabled') {
    throw new InvalidRequest('Invalid backups: expected "enabled" or "disabled".');
  }

  const userScheme = optionalString(fields, 'user_scheme', 'root');
  if (userScheme !== 'root' && userScheme !== 'limited') {
    throw new InvalidRequest('Invalid user_scheme: expected "root" or "limited".');
  }

  const sshKeys = fields.sshkey_id;
  if (sshKeys !== undefined && sshKeys !== null && (!Array.isArray(sshKeys) || !sshKeys.every((k) => typeof k === 'string'))) {
    throw new InvalidRequest('Invalid sshkey_id: expected an array of strings.');
  }

  const enableIpv6 = optionalBoolean(fields, 'enable_ipv6');
  if (optionalBoolean(fields, 'disable_public_ipv4') && !enableIpv6) {
    throw new InvalidRequest('disable_public_ipv4 requires enable_ipv6.');
  }
  optionalBoolean(fields, 'activation_email');

  return {
    region,
    plan: plan.id,
    image,
    label: optionalString(fields, 'label'),
    hostname,
    tags: parseTags(fields),
    tag: optionalString(fields, 'tag'),
    user_data: userData,
    backups: backups === 'enabled',
    enable_ipv6: enableIpv6,
    ddos_protection: optionalBoolean(fields, 'ddos_protection'),
    user_scheme: userScheme,
    firewall_group_id: optionalString(fields, 'firewall_group_id'),
  };
}
