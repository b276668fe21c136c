// How config layers combine: mappings merge key by key; lists, scalars and null replace.

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `override` on top of `base`, without changing either. An absent (undefined) key keeps the base
 * value; `null` replaces it, which is how a later layer switches off an inherited setting.
 *
 * Two mappings with different `kind`s are different things (a github tracker and a linear one), so
 * the later one replaces the earlier whole instead of mixing their fields.
 */
export function deepMerge<T>(base: T, override: T | undefined): T {
  if (override === undefined) return base;
  if (!isMapping(base) || !isMapping(override)) return override;
  if ('kind' in base && 'kind' in override && base.kind !== override.kind) return override;
  const merged: Mapping = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    // defineProperty, not assignment: a user's key named "__proto__" must stay a plain key.
    Object.defineProperty(merged, key, {
      value: Object.hasOwn(base, key) ? deepMerge(base[key], value) : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return merged as T;
}
