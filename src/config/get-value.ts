// `orch config get scheduler.max_agents`: look a value up in the resolved config by the dotted path
// of its YAML key, so what users type matches what they write in config.yaml.

import type { OrchConfig } from './schema.js';

/**
 * The resolved value at `dottedPath` (snake_case or camelCase segments; `projects.web.max_agents`),
 * or undefined when no such key exists. Returns the whole config for an empty path.
 */
export function getConfigValue(config: OrchConfig, dottedPath: string): unknown {
  const segments = dottedPath.split('.').filter((segment) => segment.length > 0);
  return lookup(config, segments);
}

function lookup(value: unknown, segments: readonly string[]): unknown {
  if (segments.length === 0) return value;
  if (typeof value !== 'object' || value === null) return undefined;
  // Names may contain dots (prices["gpt-4.1"]), so try the longest run of segments that is a key first.
  for (let length = segments.length; length >= 1; length--) {
    const key = segments.slice(0, length).join('.');
    const child = childOf(value, key);
    if (child === undefined) continue;
    const found = lookup(child, segments.slice(length));
    if (found !== undefined) return found;
  }
  return undefined;
}

function childOf(container: object, key: string): unknown {
  for (const candidate of [key, snakeToCamel(key)]) {
    if (Object.hasOwn(container, candidate)) return (container as Record<string, unknown>)[candidate];
  }
  return undefined;
}

function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}
