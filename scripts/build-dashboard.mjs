// Bundles the dashboard (web/) into dist/dashboard/: one script and one stylesheet with a hash of their
// content in their names, the icon likewise, and manifest.json naming them for the server. Everything
// the page loads comes from these files: nothing from the internet, no inline script or style.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

const outdir = 'dist/dashboard';
const assets = join(outdir, 'assets');
rmSync(outdir, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: { app: 'web/main.tsx' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // Browsers of the last few years: the page uses modern syntax and CSS, nothing exotic.
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'web/tsconfig.json',
  minify: true,
  sourcemap: false,
  outdir: assets,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const script = outputs.find(([, output]) => output.entryPoint === 'web/main.tsx');
if (!script) throw new Error('esbuild produced no script for web/main.tsx');
const style = script[1].cssBundle;
if (!style) throw new Error('esbuild produced no stylesheet: web/main.tsx must import styles.css');

const iconSource = 'web/icon.svg';
const iconHash = createHash('sha256').update(readFileSync(iconSource)).digest('hex').slice(0, 8).toUpperCase();
const icon = `icon-${iconHash}.svg`;
copyFileSync(iconSource, join(assets, icon));

const manifest = { script: basename(script[0]), style: basename(style), icon };
writeFileSync(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const size = (file) => `${(readFileSync(join(assets, file)).length / 1024).toFixed(1)} KiB`;
console.log(`dashboard: ${manifest.script} (${size(manifest.script)}), ${manifest.style} (${size(manifest.style)}), ${manifest.icon}`);
