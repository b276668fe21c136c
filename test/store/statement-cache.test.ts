import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cachingStatements } from '../../src/store/sqlite/statement-cache.js';

describe('prepared statements kept by their SQL', () => {
  it('prepares a statement once and runs it again, keeping a bounded number', () => {
    const sqlite = new BetterSqlite3(':memory:');
    const database = cachingStatements(sqlite);
    try {
      sqlite.exec('create table t (n integer)');
      const insert = database.prepare('insert into t (n) values (?)');
      insert.run([1]);
      expect(database.prepare('insert into t (n) values (?)')).toBe(insert);
      database.prepare('insert into t (n) values (?)').run([2]);
      expect(database.prepare('select n from t order by n').all([])).toEqual([{ n: 1 }, { n: 2 }]);

      for (let i = 0; i < 600; i++) database.prepare(`select ${i} as n`);
      expect(database.prepare('insert into t (n) values (?)')).not.toBe(insert); // the least recently used went
      expect(database.prepare('select 599 as n')).toBe(database.prepare('select 599 as n'));
    } finally {
      database.close();
    }
  });
});
