#!/usr/bin/env node
import * as nodeModule from 'node:module';

// Node 22.1+ keeps V8's compiled code of the modules that follow on disk, so later runs skip most of
// their compilation (Node 20 has no such cache: the bundle keeps its cost down there). It is switched on
// before anything else loads, which is why the rest comes by a dynamic import. A cache that cannot be
// written (a read-only temp directory in a sandbox) only means no cache.
try {
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // Starting without the cache is the same as Node 20.
}
const { runCli } = await import('./start.js');
await runCli(process.argv);
