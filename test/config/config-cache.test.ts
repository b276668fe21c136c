import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_CACHE_FILE, loadConfigCached } from '../../src/config/config-cache.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { tempDir, writeFile } from './helpers.js';

const CONFIG = `
scheduler: { max_agents: 3 }
agents:
  my-script: { kind: command, command: ./bin/agent, args: [--fast] }
prices:
  "gpt 5": { input: 1.5, output: 6 }
defaults:
  agents: [claude, my-script]
  judge: { test: { shell: "npm test" }, timeout_s: 60 }
  budget: { daily_usd: 20 }
projects:
  web:
    path: PATH
    default_branch: trunk
    labels: null
`;

async function thrownByAsync(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}

function setUp(): { home: string; repo: string } {
  const home = tempDir();
  const repo = join(tempDir(), 'web');
  writeFile(join(home, 'config.yaml'), CONFIG.replace('PATH', repo).replace('    labels: null\n', ''));
  writeFile(join(repo, 'orch.yaml'), 'max_attempts: 5\nrouting: { weights: { claude: 2 } }\n');
  return { home, repo };
}

describe('loadConfigCached', () => {
  it('resolves what loadConfig resolves, whether it parsed the files or read them from its cache', async () => {
    const { home } = setUp();
    const parsed = await loadConfigCached(home);
    expect(parsed).toEqual(loadConfig(home));
    expect(JSON.parse(readFileSync(join(home, CONFIG_CACHE_FILE), 'utf8')).files).toHaveLength(2);
    expect(statSync(join(home, CONFIG_CACHE_FILE)).mode & 0o777).toBe(0o600);
    expect(await loadConfigCached(home)).toEqual(parsed);
  });

  it('sees an edit of config.yaml or an orch.yaml at once, even one keeping the size and the time', async () => {
    const { home, repo } = setUp();
    await loadConfigCached(home);
    const configFile = join(home, 'config.yaml');
    const { atime, mtime } = statSync(configFile);
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('max_agents: 3', 'max_agents: 7'));
    // The same size and the same modification time: only the text tells the two apart.
    utimesSync(configFile, atime, mtime);
    expect((await loadConfigCached(home)).scheduler.maxAgents).toBe(7);
    writeFileSync(join(repo, 'orch.yaml'), 'max_attempts: 9\n');
    expect((await loadConfigCached(home)).projects.web?.maxAttempts).toBe(9);
    expect(await loadConfigCached(home)).toEqual(loadConfig(home));
  });

  it('gives the loader\'s one-line error for a malformed file every time, never a cached config', async () => {
    const { home } = setUp();
    await loadConfigCached(home);
    writeFile(join(home, 'config.yaml'), 'scheduler: { max_agents: 0 }\n');
    const expected = (() => {
      try {
        loadConfig(home);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    })();
    expect(expected).toMatch(/config\.yaml: scheduler\.max_agents: /);
    for (let i = 0; i < 2; i++) {
      const error = await thrownByAsync(() => loadConfigCached(home));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(expected);
    }
    writeFile(join(home, 'config.yaml'), 'scheduler: [\n');
    expect((await thrownByAsync(() => loadConfigCached(home))).message).toMatch(/config\.yaml: line \d+, column \d+: /);
  });

  it('parses again when its cache is unreadable, malformed or from another build, and works without one', async () => {
    const { home } = setUp();
    const expected = loadConfig(home);
    const cacheFile = join(home, CONFIG_CACHE_FILE);
    writeFileSync(cacheFile, '{ not json');
    expect(await loadConfigCached(home)).toEqual(expected);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
    writeFileSync(cacheFile, JSON.stringify({ ...cache, build: 'another build', files: cache.files.map((f: { data: unknown }) => ({ ...f, data: { scheduler: { max_agents: 1 } } })) }));
    expect(await loadConfigCached(home)).toEqual(expected);
    writeFileSync(cacheFile, JSON.stringify({ ...cache, files: [{ path: 1 }] }));
    expect(await loadConfigCached(home)).toEqual(expected);
    // A cache it can neither read nor replace (here a directory in its place) only means parsing.
    rmSync(cacheFile);
    mkdirSync(cacheFile);
    expect(await loadConfigCached(home)).toEqual(expected);
    expect(await loadConfigCached(home)).toEqual(expected);
  });

  it('is the defaults with no config.yaml, like loadConfig', async () => {
    const home = tempDir();
    expect(await loadConfigCached(home)).toEqual(loadConfig(home));
  });
});
