import http from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../support/postgres.js';
import { sleep, spawnServer } from '../support/server-process.js';

/**
 * The real entry point (src/main.ts) in its own process, stopped with real signals. A slow client keeps a request
 * in flight across the SIGTERM: its body arrives only after the signal.
 */
let database: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

function startServer() {
  return spawnServer({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: inject('redisUrl') ?? '',
    HEALTH_TOKEN: 'shutdown-test-token-0123456789abcdefghijklmnop',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
  });
}

/** Starts GET /health with a JSON body of which only the first half is sent. */
function slowRequest(port: number) {
  const body = JSON.stringify({ padding: 'x'.repeat(64) });
  const req = http.request({
    host: '127.0.0.1',
    port,
    path: '/health',
    method: 'GET',
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  return { finish: () => req.end(body.slice(10)), response };
}

describe('graceful shutdown', () => {
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  afterAll(() => server?.kill());

  it('when SIGTERM arrives during a slow request, answers it 200, refuses new connections, then exits 0', async () => {
    server = await startServer();
    const slow = slowRequest(server.port);
    await sleep(200);
    server.child.kill('SIGTERM');
    await sleep(300);

    const refused = await fetch(`http://127.0.0.1:${server.port}/health/liveness`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
    expect(server.child.exitCode).toBeNull();

    slow.finish();
    const answer = await slow.response;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'ok' });
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('shutdown complete');
  }, 90_000);

  it('when a second signal arrives during the drain, exits at once with 1', async () => {
    server = await startServer();
    const slow = slowRequest(server.port);
    slow.response.catch(() => {}); // the connection is cut: that is the point
    await sleep(200);
    server.child.kill('SIGTERM');
    await sleep(200);
    const before = Date.now();
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(1);
    expect(Date.now() - before).toBeLessThan(2_000);
  }, 90_000);
});
