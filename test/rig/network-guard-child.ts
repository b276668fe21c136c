// Extends the network guard to child Node processes (Gemini CLI, the Node launchers of codex and opencode): the
// preload blocks their non-loopback connections and logs each attempt to a file the test then checks.
// Native binaries (claude, codex, opencode) ignore NODE_OPTIONS: run those under loopback-only.ts.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const NETWORK_GUARD_PRELOAD = fileURLToPath(new URL('./network-guard-preload.mjs', import.meta.url));

export interface ChildViolation {
  target: string;
  pid: number;
  argv: string[];
  at: string;
}

/** Environment entries that load the guard into Node children; keeps any NODE_OPTIONS already in `env`. */
export function childNetworkGuardEnv(logFile: string, env: Record<string, string | undefined> = {}): Record<string, string> {
  const existing = env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ` : '';
  // A file URL has no spaces to split NODE_OPTIONS on.
  const preload = pathToFileURL(NETWORK_GUARD_PRELOAD).href;
  return { NODE_OPTIONS: `${existing}--import ${preload}`, ORCH_NETWORK_GUARD_LOG: logFile };
}

export function readChildViolations(logFile: string): ChildViolation[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ChildViolation);
}
