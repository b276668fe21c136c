// What each role is, as far as an agent run is concerned: the name of its prompt template, how much
// it may touch, and how a template's text is made fit for a system prompt. Loading templates from disk
// is the engine's (engine/role-prompts.ts); this file only decides.

import type { Role } from './types.js';

/** The person a role makes of the agent; also the template's file name (`prompts/<name>.md`). */
export const ROLE_TEMPLATE_NAMES = ['implementer', 'tester', 'reviewer', 'planner', 'fixer'] as const;
export type RoleTemplateName = (typeof ROLE_TEMPLATE_NAMES)[number];

export const TEMPLATE_OF_ROLE: Readonly<Record<Role, RoleTemplateName>> = {
  implement: 'implementer',
  test: 'tester',
  review: 'reviewer',
  plan: 'planner',
  fix: 'fixer',
};

/**
 * How much a role's run may change: a planner and a reviewer only read (what they produce is their
 * answer), the others edit their worktree. The engine turns this into the agent port's ToolPolicy.
 */
export type RoleToolMode = 'read-only' | 'edit';

export const TOOL_MODE_OF_ROLE: Readonly<Record<Role, RoleToolMode>> = {
  implement: 'edit',
  test: 'edit',
  review: 'read-only',
  plan: 'read-only',
  fix: 'edit',
};

/** A template longer than this is refused: it would crowd the task out of the model's attention. */
export const MAX_TEMPLATE_CHARS = 16_000;

export type TemplateCheck = { ok: true; text: string } | { ok: false; reason: string };

/**
 * A template's text as it goes into the system prompt: line endings normalised, outer blank lines
 * and an HTML comment header (notes for whoever edits the file) removed; empty or oversized refused.
 */
export function normaliseTemplate(raw: string): TemplateCheck {
  const text = raw
    .replace(/\r\n?/g, '\n')
    .replace(/^\uFEFF/, '')
    .replace(/^\s*<!--[\s\S]*?-->\s*/, '')
    .trim();
  if (text === '') return { ok: false, reason: 'the template is empty' };
  if (text.length > MAX_TEMPLATE_CHARS) return { ok: false, reason: `the template has ${text.length} characters; at most ${MAX_TEMPLATE_CHARS} are allowed` };
  return { ok: true, text };
}
