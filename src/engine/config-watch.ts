import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Orch } from './context.js';
import { registerConfiguredProjects } from './context.js';

export type ConfigReload = { ok: true } | { ok: false; error: string };

/** The files whose change reloads the config: config.yaml and every project's orch.yaml. */
function watchedFiles(orch: Orch): string[] {
  const files = [join(orch.home, 'config.yaml')];
  for (const project of Object.values(orch.config.projects)) {
    if (project.projectFile) files.push(project.projectFile);
    else if (project.path) files.push(join(project.path, 'orch.yaml'));
  }
  return files;
}

/**
 * Applies a changed config without a restart: a valid one replaces `orch.config` (and registers new
 * projects); an invalid one is refused with its one-line error and the last good config stays. Watches
 * the directories (editors save by renaming a new file over the old one). Returns a function that stops.
 */
export function watchConfig(orch: Orch, onReload: (result: ConfigReload) => void, debounceMs = 200): () => void {
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const arm = () => {
    for (const watcher of watchers) watcher.close();
    const byDir = new Map<string, Set<string>>();
    for (const file of watchedFiles(orch)) {
      const names = byDir.get(dirname(file)) ?? new Set<string>();
      names.add(basename(file));
      byDir.set(dirname(file), names);
    }
    watchers = [];
    for (const [dir, names] of byDir) {
      try {
        const watcher = watch(dir, (_event, name) => {
          if (name !== null && names.has(String(name))) schedule();
        });
        watcher.unref();
        watchers.push(watcher);
      } catch {
        // A project directory that is gone cannot be watched; its config is read at the next reload.
      }
    }
  };

  const reload = async () => {
    timer = null;
    if (stopped) return;
    try {
      const next = loadConfig(orch.home);
      await registerConfiguredProjects(orch.store, next, orch.now());
      orch.config = next;
      await orch.store.appendEvent({ type: 'config.reloaded', data: { projects: Object.keys(next.projects) } }, orch.now());
      arm(); // projects may have come or gone
      onReload({ ok: true });
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      await orch.store.appendEvent({ type: 'config.rejected', data: { error: message } }, orch.now());
      onReload({ ok: false, error: message });
    }
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
  };

  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
