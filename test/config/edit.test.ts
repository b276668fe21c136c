import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_SETTINGS } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { addProjectToConfig, removeProjectFromConfig, writeInitialConfig } from '../../src/config/edit.js';
import { SCHEMA_DIR } from '../../src/config/json-schema.js';
import { configPath, loadConfig } from '../../src/config/load.js';
import { tempDir, thrownBy, writeFile } from './helpers.js';

// yaml re-prints what it parsed, so layout survives as long as it is yaml's own (one space before
// an inline comment, for instance); comments and blank lines always survive.
const HAND_WRITTEN = `# My portfolio. Keep it tidy!
scheduler:
  max_agents: 6 # the laptop has 8 cores

# --- projects ---
projects:
  # the main site
  web:
    path: /srv/web
    max_agents: 2 # keep it gentle
`;

describe('writeInitialConfig', () => {
  it('writes a commented starter that loads as the built-in defaults', () => {
    const home = join(tempDir(), 'nested', 'orch');
    expect(writeInitialConfig(home)).toBe(true);
    const text = readFileSync(configPath(home), 'utf8');
    expect(text).toContain(`# yaml-language-server: $schema=${join(SCHEMA_DIR, 'config.schema.json')}`);
    expect(text).toContain('#   max_agents: 4');
    const config = loadConfig(home);
    expect(config.defaults).toEqual(DEFAULT_PROJECT_SETTINGS);
    expect(config.scheduler.maxAgents).toBe(4);
    expect(config.projects).toEqual({});
  });

  it('never overwrites an existing config', () => {
    const home = tempDir();
    writeFile(configPath(home), HAND_WRITTEN);
    expect(writeInitialConfig(home)).toBe(false);
    expect(readFileSync(configPath(home), 'utf8')).toBe(HAND_WRITTEN);
    expect(readdirSync(home)).toEqual(['config.yaml']);
  });
});

describe('addProjectToConfig / removeProjectFromConfig', () => {
  it('adds a project and keeps every comment and value the user wrote', () => {
    const home = tempDir();
    writeFile(configPath(home), HAND_WRITTEN);
    addProjectToConfig(home, 'api', {
      remote: 'git@example.com:org/api.git',
      default_branch: 'main',
      merge_strategy: 'pr',
    });

    const text = readFileSync(configPath(home), 'utf8');
    expect(text).toBe(
      HAND_WRITTEN +
        '  api:\n' +
        '    remote: git@example.com:org/api.git\n' +
        '    default_branch: main\n' +
        '    merge_strategy: pr\n',
    );
    const config = loadConfig(home);
    expect(config.scheduler.maxAgents).toBe(6);
    expect(config.projects.api).toMatchObject({ remote: 'git@example.com:org/api.git', mergeStrategy: 'pr' });
  });

  it('keeps comments even where it normalizes spacing', () => {
    const home = tempDir();
    writeFile(configPath(home), 'scheduler:\n  max_agents: 6      # aligned comment\n\n\nprojects: {}  # none yet\n');
    addProjectToConfig(home, 'web', { path: '/srv/web' });
    expect(readFileSync(configPath(home), 'utf8')).toBe(
      'scheduler:\n  max_agents: 6 # aligned comment\n\nprojects:\n  # none yet\n  web:\n    path: /srv/web\n',
    );
  });

  it('removes a project and keeps the rest of the file as written', () => {
    const home = tempDir();
    writeFile(configPath(home), HAND_WRITTEN);
    addProjectToConfig(home, 'api', { remote: 'git@example.com:org/api.git' });
    expect(removeProjectFromConfig(home, 'api')).toBe(true);
    expect(readFileSync(configPath(home), 'utf8')).toBe(HAND_WRITTEN);
    expect(removeProjectFromConfig(home, 'api')).toBe(false);
  });

  it('leaves "projects: {}" when the last project goes, and adds to it in block style', () => {
    const home = tempDir();
    writeFile(configPath(home), 'projects:\n  web:\n    path: /srv/web\n');
    removeProjectFromConfig(home, 'web');
    expect(readFileSync(configPath(home), 'utf8')).toBe('projects: {}\n');
    addProjectToConfig(home, 'web', { path: '/srv/web' });
    expect(readFileSync(configPath(home), 'utf8')).toBe('projects:\n  web:\n    path: /srv/web\n');
  });

  it('creates the starter config first when there is none', () => {
    const home = tempDir();
    addProjectToConfig(home, 'web', { path: '/srv/web', default_branch: 'main' });
    const text = readFileSync(configPath(home), 'utf8');
    expect(text).toContain('# Orch configuration');
    expect(text).toMatch(/\nprojects:\n {2}web:\n {4}path: \/srv\/web\n {4}default_branch: main\n$/);
    expect(loadConfig(home).projects.web?.path).toBe('/srv/web');
  });

  it('refuses a duplicate or invalid project without touching the file', () => {
    const home = tempDir();
    writeFile(configPath(home), HAND_WRITTEN);
    const path = configPath(home);

    const duplicate = thrownBy(() => addProjectToConfig(home, 'web', { path: '/elsewhere' }));
    expect(duplicate).toBeInstanceOf(ConfigError);
    expect(duplicate.message).toBe(`${path}: projects.web: a project of that name already exists`);

    const badName = thrownBy(() => addProjectToConfig(home, 'My Site', { path: '/srv/site' }));
    expect(badName.message).toMatch(/config\.yaml: projects\["My Site"\]: expected a name of lowercase letters/);

    const badEntry = thrownBy(() => addProjectToConfig(home, 'site', { path: '/srv/site', max_agents: 0 }));
    expect(badEntry.message).toBe(`${path}: projects.site.max_agents: expected an integer >= 1, got 0`);

    expect(readFileSync(path, 'utf8')).toBe(HAND_WRITTEN);
  });

  it('refuses to edit a config that has a YAML syntax error', () => {
    const home = tempDir();
    const broken = 'projects:\n  web:\n    path: /srv/web\n   max_agents: 2\n';
    writeFile(configPath(home), broken);
    const error = thrownBy(() => addProjectToConfig(home, 'api', { remote: 'git@x:api.git' }));
    expect(error.message).toMatch(/config\.yaml: line \d+, column \d+: /);
    expect(readFileSync(configPath(home), 'utf8')).toBe(broken);
  });
});
