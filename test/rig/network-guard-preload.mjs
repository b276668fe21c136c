// Loaded into child Node processes with NODE_OPTIONS=--import <this file> (see network-guard-child.ts): blocks
// non-loopback connections as the test process does, and appends each attempt to the file named by
// ORCH_NETWORK_GUARD_LOG (one JSON object a line) so the parent test can fail on it even when the child
// swallowed the error.

import { appendFileSync } from 'node:fs';
import { installNetworkGuard } from './network-guard-core.mjs';

const logFile = process.env.ORCH_NETWORK_GUARD_LOG;

installNetworkGuard({
  onViolation(target) {
    const entry = { target, pid: process.pid, argv: process.argv.slice(1, 3), at: new Date().toISOString() };
    if (logFile) appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
    process.stderr.write(`network guard: blocked ${target} (pid ${process.pid})\n`);
  },
});
