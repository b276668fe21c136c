import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { OrchError } from '../../src/core/errors.js';
import { loadRoleTemplate, SHIPPED_PROMPTS_DIR, toolPolicyFor } from '../../src/engine/role-prompts.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => {
  scratch = tempDir('orch-role-prompts-');
});
afterEach(() => scratch.cleanup());

const project = (prompts: Record<string, string> = {}) => ({ name: 'shop', prompts });

describe('role templates', () => {
  it("are Orch's own unless the repository or the config has one", () => {
    const repo = join(scratch.path, 'repo');
    mkdirSync(repo);
    const shipped = loadRoleTemplate('plan', project(), repo);
    expect(shipped).toMatchObject({ name: 'planner', source: join(SHIPPED_PROMPTS_DIR, 'planner.md') });
    expect(shipped.text).toMatch(/^# Your role: planner/);
    expect(loadRoleTemplate('implement', project(), null).name).toBe('implementer');

    mkdirSync(join(repo, '.orch', 'prompts'), { recursive: true });
    writeFileSync(join(repo, '.orch', 'prompts', 'planner.md'), '# Our planner\nSmall steps.\n');
    expect(loadRoleTemplate('plan', project(), repo)).toMatchObject({ text: '# Our planner\nSmall steps.', source: join(repo, '.orch', 'prompts', 'planner.md') });
    // Other roles are untouched by it.
    expect(loadRoleTemplate('fix', project(), repo).source).toBe(join(SHIPPED_PROMPTS_DIR, 'fixer.md'));

    mkdirSync(join(repo, 'docs'));
    writeFileSync(join(repo, 'docs', 'plan-prompt.md'), 'From the config.');
    expect(loadRoleTemplate('plan', project({ planner: 'docs/plan-prompt.md' }), repo).text).toBe('From the config.');
    const absolute = join(scratch.path, 'elsewhere.md');
    writeFileSync(absolute, 'Absolute.');
    expect(loadRoleTemplate('plan', project({ planner: absolute }), repo).text).toBe('Absolute.');
  });

  it('refuse a configured file that is missing or empty, in one line', () => {
    const repo = join(scratch.path, 'repo');
    mkdirSync(repo);
    const missing = () => loadRoleTemplate('review', project({ reviewer: 'nope.md' }), repo);
    expect(missing).toThrow(OrchError);
    expect(missing).toThrow(/prompts\.reviewer names .*nope\.md, which does not exist/);
    writeFileSync(join(repo, 'empty.md'), '\n\n');
    expect(() => loadRoleTemplate('review', project({ reviewer: 'empty.md' }), repo)).toThrow(/the template is empty/);
  });

  it('come with a tool policy: read-only for planner and reviewer', () => {
    expect(toolPolicyFor('plan').mode).toBe('read-only');
    expect(toolPolicyFor('review').mode).toBe('read-only');
    expect(toolPolicyFor('implement')).toEqual({ mode: 'edit', allowedTools: [], deniedTools: [], writableDirs: [] });
    expect(toolPolicyFor('test').mode).toBe('edit');
    expect(toolPolicyFor('fix').mode).toBe('edit');
  });

  it('can be named in config.yaml and orch.yaml, which wins', () => {
    const home = join(scratch.path, 'home');
    const repo = join(scratch.path, 'repo');
    mkdirSync(home);
    mkdirSync(repo);
    writeFileSync(join(home, 'config.yaml'), `defaults:\n  prompts:\n    planner: ~/plans/planner.md\nprojects:\n  shop:\n    path: ${repo}\n    prompts:\n      tester: prompts/tester.md\n`);
    writeFileSync(join(repo, 'orch.yaml'), 'prompts:\n  tester: team/tester.md\n');
    const config = loadConfig(home);
    expect(config.projects.shop!.prompts.tester).toBe('team/tester.md');
    expect(config.projects.shop!.prompts.planner).toMatch(/^\/.*\/plans\/planner\.md$/);
    writeFileSync(join(repo, 'orch.yaml'), 'prompts:\n  tester: ../outside.md\n');
    expect(() => loadConfig(home)).toThrow(/prompts\.tester: expected a path relative to the repository root/);
    writeFileSync(join(repo, 'orch.yaml'), 'prompts:\n  coder: x.md\n');
    expect(() => loadConfig(home)).toThrow(/prompts\.coder: unknown key/);
  });
});
