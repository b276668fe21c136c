import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claudeAdapter } from '../../src/agents/claude.js';
import { codexAdapter } from '../../src/agents/codex.js';
import { tempDir } from '../helpers/git.js';

let scratch: { path: string; cleanup: () => void };
beforeEach(() => (scratch = tempDir('orch-saved-session-')));
afterEach(() => scratch.cleanup());

const SESSION = '0b6d1c7e-5f2a-4a8e-9d3b-2c1f0e9a8b7c';

describe('whether a CLI saved the session it announced', () => {
  it('finds Claude\'s transcript under its config dir, and nothing when it was killed before writing one', () => {
    const home = scratch.path;
    expect(claudeAdapter.savedSession!(home, SESSION)).toBe(false);
    mkdirSync(join(home, '.claude', 'projects', '-tmp-worktree'), { recursive: true });
    expect(claudeAdapter.savedSession!(home, SESSION)).toBe(false);
    writeFileSync(join(home, '.claude', 'projects', '-tmp-worktree', `${SESSION}.jsonl`), '{}\n');
    expect(claudeAdapter.savedSession!(home, SESSION)).toBe(true);
    expect(claudeAdapter.savedSession!(home, 'another-session')).toBe(false);
  });

  it('finds Codex\'s rollout in its dated folders', () => {
    const home = scratch.path;
    expect(codexAdapter.savedSession!(home, SESSION)).toBe(false);
    const day = join(home, '.codex', 'sessions', '2026', '12', '07');
    mkdirSync(day, { recursive: true });
    writeFileSync(join(day, `rollout-2026-12-07T10-00-00-${SESSION}.jsonl`), '{}\n');
    expect(codexAdapter.savedSession!(home, SESSION)).toBe(true);
  });
});
