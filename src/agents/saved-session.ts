import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Whether a CLI saved the session `sessionId` as a `.jsonl` transcript somewhere under `root` (at most
 * `depth` folders down). A CLI killed before it wrote its transcript (its sandbox ended with Orch) has
 * nothing to resume: asked to, it fails ("No conversation found"), so Orch starts afresh instead.
 */
export function savedTranscript(root: string, sessionId: string, depth: number): boolean {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.endsWith('.jsonl') && entry.name.includes(sessionId)) return true;
    if (entry.isDirectory() && depth > 0 && savedTranscript(join(root, entry.name), sessionId, depth - 1)) return true;
  }
  return false;
}
