// Blocks every network connection a Node process tries to make to anything but loopback, and reports it.
// Plain JavaScript so child processes can load it with `node --import` (see network-guard-preload.mjs);
// the vitest setup file (network-guard.ts) uses it in the test process.
//
// Everything that opens a TCP or TLS connection in Node (net, tls, http, https, http2, fetch/undici) ends in
// net.Socket.prototype.connect, so that one patch covers them; dns and dgram are patched for name lookups and UDP.

import dgram from 'node:dgram';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

export class NetworkGuardError extends Error {
  constructor(target) {
    super(`network guard: blocked a connection to ${target}; tests may only reach 127.0.0.1`);
    this.name = 'NetworkGuardError';
    this.code = 'ENETUNREACH';
    this.target = target;
  }
}

/** True for targets that stay on this machine: loopback addresses, `localhost`, and Unix sockets (null). */
export function isLoopbackTarget(host) {
  if (host === null || host === undefined || host === '') return true;
  const name = String(host).toLowerCase().replace(/^\[|\]$/g, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (net.isIPv4(name)) return name.startsWith('127.');
  if (name.startsWith('::ffff:')) return name.slice(7).startsWith('127.');
  return name === '::1';
}

const DNS_METHODS = [
  'lookup',
  'lookupService',
  'resolve',
  'resolve4',
  'resolve6',
  'resolveAny',
  'resolveCaa',
  'resolveCname',
  'resolveMx',
  'resolveNaptr',
  'resolveNs',
  'resolvePtr',
  'resolveSoa',
  'resolveSrv',
  'resolveTxt',
  'reverse',
];

/**
 * Patches this process. `onViolation(target)` is told about each blocked attempt before the call throws a
 * NetworkGuardError. Returns a function that restores what was there before.
 */
export function installNetworkGuard({ onViolation }) {
  const restorers = [];
  const block = (target) => {
    onViolation(target);
    throw new NetworkGuardError(target);
  };
  const patch = (owner, name, wrap) => {
    const original = owner[name];
    if (typeof original !== 'function') return;
    owner[name] = wrap(original);
    restorers.push(() => (owner[name] = original));
  };

  patch(net.Socket.prototype, 'connect', (original) =>
    function guardedConnect(...args) {
      const target = socketTarget(args);
      if (target && !isLoopbackTarget(target.host)) block(`${target.host}:${target.port}`);
      return original.apply(this, args);
    },
  );
  patch(dgram.Socket.prototype, 'connect', (original) =>
    function guardedUdpConnect(port, address, ...rest) {
      if (typeof address === 'string' && !isLoopbackTarget(address)) block(`udp ${address}:${port}`);
      return original.call(this, port, address, ...rest);
    },
  );
  patch(dgram.Socket.prototype, 'send', (original) =>
    function guardedUdpSend(...args) {
      const address = args.find((arg, index) => typeof arg === 'string' && typeof args[index - 1] === 'number');
      if (address !== undefined && !isLoopbackTarget(address)) block(`udp ${address}`);
      return original.apply(this, args);
    },
  );

  const resolvers = [
    { owner: dns, returnsPromise: false },
    { owner: dns.Resolver.prototype, returnsPromise: false },
    { owner: dns.promises, returnsPromise: true },
    { owner: dns.promises.Resolver.prototype, returnsPromise: true },
  ];
  for (const { owner, returnsPromise } of resolvers) {
    for (const method of DNS_METHODS) {
      patch(owner, method, (original) =>
        function guardedLookup(name, ...rest) {
          // lookupService and reverse take an address, the rest a host name.
          if (typeof name === 'string' && !isLoopbackTarget(name)) {
            // A promise API fails by rejecting, as it would for a real lookup error.
            if (!returnsPromise) block(`dns ${name}`);
            try {
              block(`dns ${name}`);
            } catch (error) {
              return Promise.reject(error);
            }
          }
          return original.call(this, name, ...rest);
        },
      );
    }
  }
  // `import { lookup } from 'node:dns'` binds the ESM export, which only follows the CommonJS object when synced.
  syncBuiltinESMExports();
  return () => {
    for (const restore of restorers.reverse()) restore();
    syncBuiltinESMExports();
  };
}

/** The host and port a Socket#connect call aims at, or null for a Unix socket. */
function socketTarget(args) {
  // net.connect() hands Socket#connect its already-normalized [options, callback] array.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first !== null && typeof first === 'object') {
    if (first.path !== undefined) return null;
    return { host: first.host ?? 'localhost', port: first.port };
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return null;
  return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: first };
}
