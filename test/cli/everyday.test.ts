// The everyday commands (`orch task add|list`, `orch issue ready`, `orch agent claim`, `orch status`)
// run from a bundle of their own, compiled once and then taken from V8's code cache: they are the same
// commands as from the full CLI, and a cache that is missing, corrupt, stale or made for another
// bundle is never used.
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLE_WRAPPER, loadWithCodeCache } from '../../src/cli/code-cache.js';
import { EVERYDAY_GROUPS } from '../../src/cli/everyday.js';
import { everydayGroup } from '../../src/cli/everyday-commands.js';
import { buildProgram, registrarsFor } from '../../src/cli/program.js';
import { orch as runOrch, type CliResult } from '../helpers/cli.js';
import { makeRepo, tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => {
  scratch = tempDir('orch-cli-everyday-');
});
afterEach(() => scratch.cleanup());

describe('which commands are everyday', () => {
  it('are task add, task list, issue ready, agent claim and status, options anywhere', () => {
    expect(everydayGroup(['task', 'add', 'Fix', 'it', '--priority', 'high'])).toBe('task');
    expect(everydayGroup(['task', '--json', 'list'])).toBe('task');
    expect(everydayGroup(['issue', 'ready', '-p', 'app'])).toBe('issue');
    expect(everydayGroup(['agent', 'claim'])).toBe('agent');
    expect(everydayGroup(['status', '--json'])).toBe('status');
    expect(everydayGroup(['task', 'add', '--help'])).toBe('task');
  });

  it('are not the other commands of their groups, nor help or a bare group', () => {
    for (const args of [['task', 'get', '1'], ['task'], ['run', '3'], ['agents'], ['agent', 'describe'], ['issue'], ['--version'], [], ['help', 'status'], ['tsak', 'add']]) {
      expect(everydayGroup(args), args.join(' ')).toBeUndefined();
    }
  });
});

describe('the everyday bundle', () => {
  it('registers the same commands as the full CLI for each everyday command line', async () => {
    const lines: string[][] = [['task', 'add', 'x'], ['task', 'list'], ['issue', 'ready'], ['agent', 'claim', '3'], ['status']];
    for (const argv of lines) {
      const full = buildProgram(await registrarsFor(argv));
      const everyday = buildProgram([await EVERYDAY_GROUPS[everydayGroup(argv)!]()]);
      const tree = (c: typeof full): unknown => c.commands.map((sub) => [sub.name(), sub.options.map((o) => o.flags), tree(sub)]);
      expect(tree(everyday), argv.join(' ')).toEqual(tree(full));
    }
  });
});

describe('the code cache', () => {
  const bundle = () => join(scratch.path, 'bundle-ABC123.cjs');
  const cache = () => join(scratch.path, 'cli-code-cache.bin');
  const writeBundle = (answer: number) =>
    writeFileSync(bundle(), `${BUNDLE_WRAPPER.head}"use strict";\nexports.answer = ${answer};\nexports.url = __orchModuleUrl;\nexports.twice = function (n) { return 2 * n; };${BUNDLE_WRAPPER.tail}`);
  type Exports = { answer: number; url: string; twice: (n: number) => number };

  it('is written after a run without one and used by the next, with the same results', () => {
    writeBundle(42);
    const first = loadWithCodeCache<Exports>(bundle(), cache());
    expect(first.fromCache).toBe(false);
    expect(first.exports.twice(first.exports.answer)).toBe(84);
    expect(first.exports.url).toBe(pathToFileURL(bundle()).href);
    first.saveCache();
    expect(statSync(cache()).mode & 0o777).toBe(0o600);

    const second = loadWithCodeCache<Exports>(bundle(), cache());
    expect(second.fromCache).toBe(true);
    expect(second.exports.twice(second.exports.answer)).toBe(84);
  });

  it('is ignored when corrupt, truncated, empty or not a cache at all, and then written afresh', () => {
    writeBundle(42);
    loadWithCodeCache<Exports>(bundle(), cache()).saveCache();
    const good = readFileSync(cache());
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0xff;
    for (const bad of [flipped, good.subarray(0, good.length - 100), Buffer.alloc(0), Buffer.from('not a cache\n'), Buffer.from(`{"magic":"orch-code-cache 1"}\n`)]) {
      writeFileSync(cache(), bad);
      const loaded = loadWithCodeCache<Exports>(bundle(), cache());
      expect(loaded.fromCache).toBe(false);
      expect(loaded.exports.twice(loaded.exports.answer)).toBe(84);
      loaded.saveCache();
      expect(loadWithCodeCache<Exports>(bundle(), cache()).fromCache).toBe(true);
    }
  });

  it('is not used for a bundle changed in place, nor for another bundle', () => {
    writeBundle(42);
    loadWithCodeCache<Exports>(bundle(), cache()).saveCache();
    // Same name, same length, other code: V8 alone would take the old code for it.
    writeBundle(17);
    utimesSync(bundle(), new Date(2001, 0, 1), new Date(2001, 0, 1));
    const changed = loadWithCodeCache<Exports>(bundle(), cache());
    expect(changed.fromCache).toBe(false);
    expect(changed.exports.answer).toBe(17);

    writeFileSync(join(scratch.path, 'bundle-DEF456.cjs'), readFileSync(bundle()));
    loadWithCodeCache<Exports>(bundle(), cache()).saveCache();
    const other = loadWithCodeCache<Exports>(join(scratch.path, 'bundle-DEF456.cjs'), cache());
    expect(other.fromCache).toBe(false);
    expect(other.exports.answer).toBe(17);
  });

  it('is only skipped where it cannot be written', () => {
    writeBundle(42);
    const nowhere = loadWithCodeCache<Exports>(bundle(), join(scratch.path, 'missing', 'cli-code-cache.bin'));
    expect(() => nowhere.saveCache()).not.toThrow();
    expect(existsSync(join(scratch.path, 'missing'))).toBe(false);
    expect(loadWithCodeCache<Exports>(bundle(), null).exports.answer).toBe(42);
  });
});

describe('the built CLI', () => {
  let home: string;
  let repo: string;
  const orch = (...args: string[]): CliResult => runOrch(args, { cwd: repo, home });
  const cacheFile = () => join(home, 'cli-code-cache.bin');

  beforeEach(() => {
    home = join(scratch.path, 'home');
    repo = makeRepo(scratch.path, 'shop');
  });

  it('answers alike with and without its code cache, and with a corrupt one', () => {
    expect(orch('init').code).toBe(0);
    expect(orch('task', 'add', 'First').code).toBe(0);
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
    const listed = orch('task', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/#1 +new .*First/);

    const good = readFileSync(cacheFile());
    const corrupt = Buffer.from(good);
    for (let i = good.indexOf(10) + 1; i < corrupt.length; i += 997) corrupt[i]! ^= 0x5a;
    writeFileSync(cacheFile(), corrupt);
    expect(orch('task', 'list')).toMatchObject({ code: 0, stdout: listed.stdout, stderr: '' });
    expect(readFileSync(cacheFile()).equals(corrupt)).toBe(false);

    writeFileSync(cacheFile(), 'garbage');
    expect(orch('task', 'list')).toMatchObject({ code: 0, stdout: listed.stdout, stderr: '' });
  });

  it('leaves an ORCH_HOME that does not exist alone', () => {
    const result = orch('status');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/not initialised/);
    expect(existsSync(home)).toBe(false);
  });
});
