// Wake-ups for a tracker that lives in folders on this machine: a change in them is seen at once
// instead of at the next poll. Watching is best effort; the poll stays the guarantee.

import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** One `mv` touches two folders: changes this close together are one wake-up. */
const DEBOUNCE_MS = 100;

/**
 * Watches `root` and its `folders` (one made, removed or replaced later included) and calls `onChange`
 * once per burst of changes. Dotfiles are ignored (a writer's temporary files; the rename that ends
 * one is seen under the real name). A folder that cannot be watched (missing, removed, the system's
 * watchers used up) is silently left to the poll. Returns the function that stops watching.
 */
export function watchFolders(root: string, folders: readonly string[], onChange: () => void): () => void {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const changed = (name: string | null) => {
    if (stopped || timer !== null || name?.startsWith('.')) return;
    timer = setTimeout(() => {
      timer = null;
      if (!stopped) onChange();
    }, DEBOUNCE_MS);
    timer.unref();
  };
  const forget = (path: string) => {
    watchers.get(path)?.close();
    watchers.delete(path);
  };
  const follow = (path: string, onEvent: (name: string | null) => void) => {
    if (watchers.has(path)) return;
    try {
      // Not persistent: watching never keeps the process alive on its own.
      const watcher = watch(path, { persistent: false }, (_event, name) => onEvent(name));
      watcher.on('error', () => forget(path));
      watchers.set(path, watcher);
    } catch {
      // Not there (yet), or no watcher to be had: the poll notices what happens in it.
    }
  };
  const followFolder = (folder: string) => follow(join(root, folder), changed);
  follow(root, (name) => {
    if (name !== null && folders.includes(name)) {
      // Made, removed or replaced: watch whatever is there now.
      forget(join(root, name));
      followFolder(name);
    }
    changed(name);
  });
  for (const folder of folders) followFolder(folder);
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    for (const path of [...watchers.keys()]) forget(path);
  };
}
