import { describe, expect, it } from 'vitest';
import { getConfigValue } from '../../src/config/edit.js';
import { configPath, loadConfig } from '../../src/config/load.js';
import { tempDir, writeFile } from './helpers.js';

function loadSample() {
  const home = tempDir();
  writeFile(
    configPath(home),
    `scheduler:
  max_agents: 6
prices:
  gpt-4.1: { input: 2, output: 8 }
projects:
  web:
    path: /srv/web
    backoff: { cap_s: 600 }
  next.js:
    remote: git@example.com:org/next.js.git
`,
  );
  return loadConfig(home);
}

describe('getConfigValue', () => {
  it('reads nested values by their YAML key path, defaults included', () => {
    const config = loadSample();
    expect(getConfigValue(config, 'scheduler.max_agents')).toBe(6);
    expect(getConfigValue(config, 'scheduler.tick_interval_s')).toBe(10);
    expect(getConfigValue(config, 'projects.web.backoff.cap_s')).toBe(600);
    expect(getConfigValue(config, 'projects.web.backoff.base_s')).toBe(30);
    expect(getConfigValue(config, 'projects.web.agents.0')).toBe('claude');
    expect(getConfigValue(config, 'defaults.judge.test')).toBeNull();
  });

  it('accepts camelCase and returns whole subtrees', () => {
    const config = loadSample();
    expect(getConfigValue(config, 'scheduler.maxAgents')).toBe(6);
    expect(getConfigValue(config, 'server')).toEqual({ host: '127.0.0.1', port: 7878 });
    expect(getConfigValue(config, '')).toBe(config);
  });

  it('finds names that contain dots', () => {
    const config = loadSample();
    expect(getConfigValue(config, 'prices.gpt-4.1.output')).toBe(8);
    expect(getConfigValue(config, 'projects.next.js.remote')).toBe('git@example.com:org/next.js.git');
  });

  it('is undefined for a key that does not exist', () => {
    const config = loadSample();
    expect(getConfigValue(config, 'scheduler.max_agent')).toBeUndefined();
    expect(getConfigValue(config, 'projects.shop.max_agents')).toBeUndefined();
    expect(getConfigValue(config, 'scheduler.max_agents.deeper')).toBeUndefined();
  });
});
