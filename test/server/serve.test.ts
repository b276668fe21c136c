import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/serve.js';

const hello = () => new Hono().get('/', (c) => c.text('hello'));

describe('startServer', () => {
  it('binds loopback by default on the port the system picks, and closes (twice is fine)', async () => {
    const server = await startServer(hello(), { port: 0 });
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
      expect(server.port).toBeGreaterThan(0);
      expect(await (await fetch(server.url)).text()).toBe('hello');
    } finally {
      await server.close();
      await server.close();
    }
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const first = await startServer(hello(), { port: 0 });
    try {
      await expect(startServer(hello(), { port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});
