#!/usr/bin/env node
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { orchHome } from '../config/home.js';
import { loadWithCodeCache } from './code-cache.js';
import { everydayGroup } from './everyday-commands.js';
import type * as Everyday from './everyday.js';

/** The everyday commands' bundle in dist/bundle/, named by the build (scripts/bundle-cli.mjs); unset in tsc's build. */
declare const ORCH_EVERYDAY_BUNDLE: string | undefined;

/** Where the code cache of the everyday bundle lives: ORCH_HOME, which only `orch init` makes. */
const CODE_CACHE_FILE = 'cli-code-cache.bin';

// Node 22.1+ keeps V8's compiled code of the modules that follow on disk, so later runs skip most of
// their compilation (Node 20 has no such cache: the everyday bundle brings its own, and the rest is
// bundled to keep its cost down). It is switched on before anything else loads, which is why the rest
// comes by a dynamic import. A cache that cannot be written (a read-only temp directory in a sandbox)
// only means no cache.
try {
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
} catch {
  // Starting without the cache is the same as Node 20.
}

type EverydayExports = typeof Everyday;

function loadEverydayBundle(): ReturnType<typeof loadWithCodeCache<EverydayExports>> | undefined {
  if (typeof ORCH_EVERYDAY_BUNDLE !== 'string' || everydayGroup(process.argv.slice(2)) === undefined) return undefined;
  const file = fileURLToPath(new URL(`../bundle/${ORCH_EVERYDAY_BUNDLE}`, import.meta.url));
  try {
    return loadWithCodeCache<EverydayExports>(file, join(orchHome(), CODE_CACHE_FILE));
  } catch (error) {
    // A build without the file (copied in part): the full CLI runs the same command.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const everyday = loadEverydayBundle();
if (everyday) {
  await everyday.exports.runEverydayCli(process.argv);
  everyday.saveCache();
} else {
  const { runCli } = await import('./start.js');
  await runCli(process.argv);
}
