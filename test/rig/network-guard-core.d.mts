// Types for network-guard-core.mjs, which stays plain JavaScript so `node --import` can load it in children.

export declare class NetworkGuardError extends Error {
  readonly code: 'ENETUNREACH';
  /** `host:port`, `udp host:port` or `dns name`. */
  readonly target: string;
}

export declare function isLoopbackTarget(host: string | null | undefined): boolean;

export declare function installNetworkGuard(options: { onViolation: (target: string) => void }): () => void;
