import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_SETTINGS } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { configPath, loadConfig } from '../../src/config/load.js';
import { tempDir, thrownBy, writeFile } from './helpers.js';

function load(configYaml: string, orchYaml?: string) {
  const home = tempDir();
  const repo = tempDir();
  writeFile(configPath(home), configYaml.replaceAll('$REPO', repo));
  if (orchYaml !== undefined) writeFile(join(repo, 'orch.yaml'), orchYaml);
  return () => loadConfig(home);
}

describe('routing settings', () => {
  it('default to no router, equal weights, no scoreboard and no model map', () => {
    expect(DEFAULT_PROJECT_SETTINGS.routing).toEqual({ router: null, weights: {}, useScoreboard: false, modelMap: {} });
    expect(load('projects:\n  web:\n    path: $REPO\n')().projects.web!.routing).toEqual(DEFAULT_PROJECT_SETTINGS.routing);
  });

  it('merge the top-level routing < defaults < the project entry < orch.yaml, key by key', () => {
    const config = load(
      [
        'routing:',
        '  router: { agent: claude, timeout_s: 30 }',
        '  weights: { claude: 2 }',
        '  model_map: { simple: { claude: haiku } }',
        'defaults:',
        '  agents: [claude, codex]',
        '  routing: { use_scoreboard: true }',
        'projects:',
        '  web:',
        '    path: $REPO',
        '    routing:',
        '      weights: { codex: 0.5 }',
        '      model_map: { complex: { codex: gpt-5-codex } }',
        '  api:',
        '    path: /srv/api',
        '    routing: { router: null }',
      ].join('\n'),
      'routing:\n  router: { agent: codex }\n',
    )();
    expect(config.projects.web!.routing).toEqual({
      router: { agent: 'codex', timeoutS: 30, attempts: 2 },
      weights: { claude: 2, codex: 0.5 },
      useScoreboard: true,
      modelMap: { simple: { claude: 'haiku' }, complex: { codex: 'gpt-5-codex' } },
    });
    expect(config.projects.api!.routing.router).toBeNull();
    expect(config.defaults.routing.router).toEqual({ agent: 'claude', timeoutS: 30, attempts: 2 });
  });

  it('name only configured agents, anywhere in the routing settings', () => {
    const error = (yaml: string) => thrownBy(load(yaml)) as ConfigError;
    expect(error('routing:\n  router: { agent: ghost }\n')).toBeInstanceOf(ConfigError);
    expect(error('routing:\n  router: { agent: ghost }\n').message).toMatch(/config\.yaml: routing\.router\.agent: unknown agent "ghost"/);
    expect(error('defaults:\n  routing: { weights: { ghost: 1 } }\n').message).toMatch(/: defaults\.routing\.weights\.ghost: unknown agent "ghost"/);
    expect(error('projects:\n  web:\n    path: $REPO\n    routing: { model_map: { simple: { ghost: x } } }\n').message).toMatch(/: projects\.web\.routing\.model_map\.simple\.ghost: unknown agent "ghost"/);
  });

  it('refuse a negative weight, an unknown complexity and a router without an agent', () => {
    expect(thrownBy(load('routing:\n  weights: { claude: -1 }\n')).message).toMatch(/routing\.weights\.claude: expected a number >= 0, got -1/);
    expect(thrownBy(load('routing:\n  model_map: { huge: { claude: x } }\n')).message).toMatch(/routing\.model_map\.huge: unknown key/);
    expect(thrownBy(load('routing:\n  router: { timeout_s: 5 }\n')).message).toMatch(/routing\.router\.agent: missing/);
  });

  it('limit router runs at once with scheduler.max_routers', () => {
    expect(load('scheduler: { max_routers: 5 }\n')().scheduler.maxRouters).toBe(5);
  });
});
