import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

// Runs a CommonJS bundle through V8's code cache. Node 20 keeps no compiled code between runs (Node
// 22's module.enableCompileCache() does, for modules only), and compiling the ~0.5 MiB every everyday
// command needs was a large share of its start-up. vm.Script takes the code V8 compiled in an earlier
// run and hands it back after the run; the cache is one file, written atomically, and anything amiss
// with it (missing, unreadable, truncated, corrupt, made for another bundle or another V8) only means
// compiling from source as without one, and writing a fresh cache after the run.

const MAGIC = 'orch-code-cache 1';

/**
 * The bundle's text is one function expression with these parameters: Node's own for a CommonJS module,
 * plus import.meta.url. The build writes the wrapper into the file (scripts/bundle-cli.mjs), so the text
 * read is compiled as it is, without a copy of a megabyte to wrap it.
 */
export const BUNDLE_WRAPPER = { head: '(function (exports, require, module, __filename, __dirname, __orchModuleUrl) {', tail: '\n})' };

export interface LoadedBundle<Exports> {
  exports: Exports;
  /** Whether V8 took its compiled code from the cache. */
  fromCache: boolean;
  /** Writes the cache, with the code compiled so far, when there was none to use; never throws. */
  saveCache(): void;
}

/**
 * Loads `file` (a CommonJS bundle wrapped in BUNDLE_WRAPPER) with the code cache at `cacheFile` (null: none). V8 checks a cache
 * against the source's length and its own version and flags only, and in release builds has no
 * checksum; so the cache is keyed here by the bundle's name (which carries a hash of its content), its
 * size and time, V8's version and the architecture, and a CRC-32 of the cached bytes is checked before
 * V8 sees them.
 */
export function loadWithCodeCache<Exports>(file: string, cacheFile: string | null): LoadedBundle<Exports> {
  const stat = statSync(file);
  // The build writes ASCII only (esbuild escapes the rest), which latin1 reads without decoding UTF-8.
  const source = readFileSync(file, 'latin1');
  const key = `${basename(file)} ${stat.size} ${stat.mtimeMs} ${process.versions.v8} ${process.arch}`;
  const cached = cacheFile === null ? undefined : readCache(cacheFile, key);
  const script = new Script(source, { filename: file, cachedData: cached });
  const fromCache = cached !== undefined && script.cachedDataRejected === false;
  const module = { exports: {} as Exports };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href);
  return {
    exports: module.exports,
    fromCache,
    saveCache() {
      if (fromCache || cacheFile === null) return;
      writeCache(cacheFile, key, script);
    },
  };
}

interface CacheHeader {
  magic: string;
  key: string;
  length: number;
  crc: number;
}

/** The cached code for `key`, or undefined when the file is missing or not exactly a cache for it. */
export function readCache(cacheFile: string, key: string): Buffer | undefined {
  try {
    const bytes = readFileSync(cacheFile);
    const end = bytes.indexOf(10);
    if (end <= 0 || end > 1024) return undefined;
    const header = JSON.parse(bytes.subarray(0, end).toString('utf8')) as Partial<CacheHeader>;
    const data = bytes.subarray(end + 1);
    if (header.magic !== MAGIC || header.key !== key || header.length !== data.length) return undefined;
    if (header.crc !== crc32()(data)) return undefined;
    return data;
  } catch {
    return undefined;
  }
}

function writeCache(cacheFile: string, key: string, script: Script): void {
  const temporary = `${cacheFile}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    const header: CacheHeader = { magic: MAGIC, key, length: data.length, crc: crc32()(data) };
    writeFileSync(temporary, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), data]), { mode: 0o600 });
    renameSync(temporary, cacheFile);
  } catch {
    // No home yet, or a read-only one (a sandbox): the next run compiles again.
    try {
      unlinkSync(temporary);
    } catch {
      // Never written.
    }
  }
}

/** zlib's CRC-32 (Node 20.15+), loaded only when there is a cache to check or write. */
function crc32(): (data: Uint8Array) => number {
  return (createRequire(import.meta.url)('node:zlib') as { crc32: (data: Uint8Array) => number }).crc32;
}
