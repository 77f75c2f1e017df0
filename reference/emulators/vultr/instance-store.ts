// The emulator's instances, in creation order, optionally persisted to a JSON state file.
// Writes are debounced and atomic (temp file + rename), so a crash leaves either the old or the new
// file, never half of one; close() flushes whatever is still pending.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CreateSpec } from './create-request';
import { newInstanceRecord, type InstanceRecord, type PowerStatus } from './instances';

// Version 2 records each instance's owner (one Vultr account per key, accounts.ts). A version 1
// file predates accounts: its instances were all made with the one key the stack then had, the
// platform pool's, so they are read as the first account's.
const STATE_VERSION = 2;
const OWNERLESS_VERSION = 1;
const WRITE_DEBOUNCE_MS = 20;

interface PersistedState {
  version: number;
  next_ip_index: number;
  instances: InstanceRecord[];
}

function isRecord(value: unknown, version: number): value is InstanceRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<InstanceRecord>;
  return (
    typeof r.id === 'string' &&
    (version === OWNERLESS_VERSION || typeof r.owner === 'string') &&
    typeof r.created_ms === 'number' &&
    typeof r.ip_index === 'number' &&
    (r.power === 'running' || r.power === 'stopped') &&
    typeof r.spec === 'object' &&
    r.spec !== null &&
    typeof r.spec.region === 'string' &&
    typeof r.spec.plan === 'string' &&
    typeof r.spec.image === 'object' &&
    Array.isArray(r.spec.tags)
  );
}

async function readState(file: string, ownerOfOldRecords: string): Promise<PersistedState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`Vultr emulator state file ${file} is not valid JSON; move it away to start empty.`);
  }
  const state = parsed as Partial<PersistedState>;
  const version = state?.version;
  if (
    typeof state !== 'object' ||
    state === null ||
    (version !== STATE_VERSION && version !== OWNERLESS_VERSION) ||
    typeof state.next_ip_index !== 'number' ||
    !Array.isArray(state.instances) ||
    !state.instances.every((r) => isRecord(r, version))
  ) {
    throw new Error(`Vultr emulator state file ${file} has an unexpected shape (want version ${STATE_VERSION}); move it away to start empty.`);
  }
  const instances = version === OWNERLESS_VERSION ? state.instances.map((r) => ({ ...r, owner: ownerOfOldRecords })) : state.instances;
  return { version: STATE_VERSION, next_ip_index: state.next_ip_index, instances };
}

export class InstanceStore {
  private readonly instances = new Map<string, InstanceRecord>();
  private nextIpIndex = 0;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown;

  private constructor(private readonly file: string | undefined) {}

  /** `ownerOfOldRecords`: the account a version 1 file's instances belong to (see STATE_VERSION). */
  static async open(file: string | undefined, ownerOfOldRecords: string): Promise<InstanceStore> {
    const store = new InstanceStore(file);
    if (file) {
      const state = await readState(file, ownerOfOldRecords);
      if (state) {
        store.nextIpIndex = state.next_ip_index;
        for (const record of state.instances) store.instances.set(record.id, record);
      }
    }
    return store;
  }

  all(): InstanceRecord[] {
    return [...this.instances.values()];
  }

  /** One account's instances, in creation order. */
  ownedBy(owner: string): InstanceRecord[] {
    return this.all().filter((r) => r.owner === owner);
  }

  get(id: string): InstanceRecord | undefined {
    return this.instances.get(id);
  }

  create(spec: CreateSpec, now: number, owner: string): InstanceRecord {
    const record = newInstanceRecord(spec, this.nextIpIndex, now, owner);
    this.nextIpIndex += 1;
    this.instances.set(record.id, record);
    this.changed();
    return record;
  }

  delete(id: string): boolean {
    const existed = this.instances.delete(id);
    if (existed) this.changed();
    return existed;
  }

  setPower(id: string, power: PowerStatus): boolean {
    const record = this.instances.get(id);
    if (!record) return false;
    if (record.power !== power) {
      record.power = power;
      this.changed();
    }
    return true;
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.write();
    await this.writing;
    if (this.writeError) {
      const error = this.writeError;
      this.writeError = undefined;
      throw error;
    }
  }

  private changed(): void {
    if (!this.file) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, WRITE_DEBOUNCE_MS);
  }

  // Chained so that two writes never race on the temp file and the last state always lands last.
  private write(): void {
    const file = this.file;
    if (!file || !this.dirty) return;
    this.dirty = false;
    const state: PersistedState = { version: STATE_VERSION, next_ip_index: this.nextIpIndex, instances: this.all() };
    const text = JSON.stringify(state, null, 2);
    const temp = `${file}.${process.pid}.tmp`;
    this.writing = this.writing.then(async () => {
      try {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(temp, text);
        await rename(temp, file);
      } catch (error) {
        this.writeError = error;
        process.stderr.write(`vultr emulator: could not write state file ${file}: ${(error as Error).message}\n`);
      }
    });
  }
}
