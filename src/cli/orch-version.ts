import { readFileSync } from 'node:fs';

/** The version in package.json, which sits two levels above this file in both src/ and dist/. */
export function orchVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
