import { api } from './api';
import type { AppConfig } from './types';

let cached: Promise<AppConfig> | null = null;

/** /config is the same for the whole session; one request serves every page. */
export function loadConfig(): Promise<AppConfig> {
  if (!cached) {
    cached = api<AppConfig>('GET', '/config').catch((error: unknown) => {
      cached = null;
      throw error;
    });
  }
  return cached;
}
