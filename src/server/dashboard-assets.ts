// The dashboard's built files (scripts/build-dashboard.mjs writes them to dist/dashboard/): read once
// when the server starts and served from memory. Their names carry a hash of their content, so a
// browser may keep them forever and a new build is fetched by its new name.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the build says the page loads; each is a file name under `assets/`. */
export interface DashboardManifest {
  script: string;
  style: string;
  icon: string;
}

export interface DashboardAsset {
  body: Uint8Array;
  contentType: string;
}

export interface DashboardAssets {
  manifest: DashboardManifest;
  /** By file name. */
  files: ReadonlyMap<string, DashboardAsset>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Where the built dashboard is: beside the compiled server (`dist/server/` → `dist/dashboard/`), or,
 * when the server runs from its TypeScript sources (tests), in the build output of the checkout.
 */
export function defaultDashboardDir(): string | null {
  const candidates = ['../dashboard/', '../../dist/dashboard/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'manifest.json'))) ?? null;
}

/** The built dashboard in `dir`, or null when there is none (the package was not built). */
export function loadDashboardAssets(dir: string | null): DashboardAssets | null {
  if (dir === null || !existsSync(join(dir, 'manifest.json'))) return null;
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as DashboardManifest;
  const files = new Map<string, DashboardAsset>();
  const assetsDir = join(dir, 'assets');
  for (const name of readdirSync(assetsDir)) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType) files.set(name, { body: readFileSync(join(assetsDir, name)), contentType });
  }
  for (const name of Object.values(manifest)) {
    if (!files.has(name)) throw new Error(`the dashboard build in ${dir} is incomplete: assets/${name} is missing (run \`npm run build\`)`);
  }
  return { manifest, files };
}
