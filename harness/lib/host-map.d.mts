/** Types of host-map.mjs (plain JavaScript, so that Node 20 can preload it without a loader). */
export declare const HOST_MAP_VARIABLE: 'E2E_HOST_MAP';
export type HostMapEntry = { address: string; family: 4 | 6 };
export declare function parseHostMap(text: string | undefined): Map<string, HostMapEntry>;
export declare function installHostMap(map: Map<string, HostMapEntry>): () => void;
