import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';

type DatabaseClass = typeof BetterSqlite3;

let bundled: DatabaseClass | undefined;
let driver: { Database: DatabaseClass; nativeBinding?: string } | undefined;

/**
 * better-sqlite3's JavaScript, bundled with the caller (the everyday commands' bundle, which is
 * compiled once and cached): then only its native addon loads from node_modules, by its path.
 */
export function useBundledSqliteDriver(Database: DatabaseClass): void {
  bundled = Database;
}

/** A better-sqlite3 connection to `path` (the options are better-sqlite3's). */
export function openSqliteDatabase(path: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  driver ??= chooseDriver();
  return new driver.Database(path, driver.nativeBinding === undefined ? options : { ...options, nativeBinding: driver.nativeBinding });
}

function chooseDriver(): { Database: DatabaseClass; nativeBinding?: string } {
  const requireModule = createRequire(import.meta.url);
  if (bundled !== undefined) {
    try {
      // Where npm's install builds or downloads it. Bundled, the package could not find it itself: it
      // looks beside its own files, which are not there.
      return { Database: bundled, nativeBinding: requireModule.resolve('better-sqlite3/build/Release/better_sqlite3.node') };
    } catch {
      // Elsewhere (a debug build): the package as installed finds it.
    }
  }
  // CommonJS: required, it skips the scan for named exports an ESM import of it costs every command.
  return { Database: requireModule('better-sqlite3') as DatabaseClass };
}
