// What a `model-only` sandbox's proxy lets through, decided without touching the network: the host:port
// of each model endpoint (model-endpoints.ts says which), whether a connection's target is one of them,
// which ports the relay inside serves, and the named denial a refused connection becomes.

/** One host:port the sandbox may reach, and whether it is on the host's loopback (reached through a relay port). */
export interface Endpoint {
  /** Lower case; an IPv6 address without brackets. */
  host: string;
  port: number;
  loopback: boolean;
}

/** A connection the proxy refused: the run's log shows it as `describeDenial` says. */
export interface SandboxDenial {
  kind: 'connection_denied';
  host: string;
  port: number;
  /** `connect`: an HTTPS_PROXY tunnel; `http`: a plain request through HTTP_PROXY; `relay`: a relay port. */
  via: 'connect' | 'http' | 'relay';
}

export const describeDenial = (denial: SandboxDenial): string => `sandbox denied a connection to ${hostPort(denial.host, denial.port)}`;

export const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

const LOOPBACK_HOSTS = new Set(['localhost', '::1']);
const isLoopbackHost = (host: string) => LOOPBACK_HOSTS.has(host) || /^127(\.\d{1,3}){3}$/.test(host);

/**
 * `http(s)://host[:port][/path]` or `host:port` as an Endpoint; null when it is neither. The port
 * defaults to the scheme's.
 */
export function parseEndpoint(value: string): Endpoint | null {
  const text = value.trim();
  const url = /^(https?):\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?(?:[/?#].*)?$/i.exec(text);
  const bare = url ? null : /^(\[[^\]]+\]|[^:/?#\s]+):(\d+)$/.exec(text);
  if (!url && !bare) return null;
  const rawHost = (url ? url[2] : bare![1])!;
  const rawPort = url ? url[3] : bare![2];
  const port = rawPort !== undefined ? Number(rawPort) : url![1]!.toLowerCase() === 'https' ? 443 : 80;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  const host = rawHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '') return null;
  return { host, port, loopback: isLoopbackHost(host) };
}

/** The endpoints of the given URLs or host:port strings, one per host:port; what cannot be parsed is named. */
export function parseEndpoints(values: readonly string[]): { endpoints: Endpoint[]; invalid: string[] } {
  const endpoints: Endpoint[] = [];
  const invalid: string[] = [];
  for (const value of values) {
    const endpoint = parseEndpoint(value);
    if (endpoint === null) invalid.push(value);
    else if (!endpoints.some((e) => e.host === endpoint.host && e.port === endpoint.port)) endpoints.push(endpoint);
  }
  return { endpoints, invalid };
}

/** Whether host:port is one of the endpoints (host compared without case and brackets). */
export function endpointAllowed(endpoints: readonly Endpoint[], host: string, port: number): boolean {
  const wanted = host.replace(/^\[|\]$/g, '').toLowerCase();
  return endpoints.some((e) => e.host === wanted && e.port === port);
}

/** The loopback ports the relay inside must listen on: each loopback endpoint's, once. */
export function relayPorts(endpoints: readonly Endpoint[]): number[] {
  return [...new Set(endpoints.filter((e) => e.loopback).map((e) => e.port))];
}

/** The proxy port inside the sandbox: the first of the candidates no relay port takes. */
export function proxyPortBesides(relayed: readonly number[], candidates: readonly number[] = PROXY_PORT_CANDIDATES): number {
  const port = candidates.find((candidate) => !relayed.includes(candidate));
  if (port === undefined) throw new Error('no free proxy port: every candidate is a model endpoint port');
  return port;
}

/**
 * Below the usual ephemeral range (32768 and up) and away from Orch's slot ports (41000 and up by
 * default): nothing else in the sandbox's own namespace has a reason to take them.
 */
export const PROXY_PORT_CANDIDATES = [3128, 3129, 8118, 18080];
