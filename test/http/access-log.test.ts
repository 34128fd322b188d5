import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { accessLog } from '../../src/http/access-log.js';
import { NotFoundError } from '../../src/http/errors.js';
import { problemHandler } from '../../src/http/problem.js';
import { requestId } from '../../src/http/request-id.js';
import { createLogger } from '../../src/platform/logger.js';

/** The access log in front of a few routes, as app.ts mounts it (after the request id), with its lines captured. */
function loggedApp() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  let hung: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => {
    hung = resolve;
  });
  const app = express();
  app.use(requestId);
  app.use(accessLog(logger));
  app.get('/ok', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/missing', () => {
    throw new NotFoundError('not-found', 'No such thing');
  });
  app.get('/broken', () => {
    throw new Error('unexpected');
  });
  // Answers only once the client has gone: the request the client aborts.
  app.get('/slow', (req, res) => {
    hung();
    req.socket.once('close', () => res.end());
  });
  app.use(problemHandler(logger));
  const accessLines = () =>
    lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => ['request completed', 'request errored', 'request aborted'].includes(String(line.msg)));
  return { app, accessLines, hanging };
}

const servers: http.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

describe('access log', () => {
  it('when a request succeeds, writes one info line with request id, method, path, status and time taken', async () => {
    const { app, accessLines } = loggedApp();
    const res = await request(app)
      .get('/ok?token=never-logged')
      .set('X-Request-ID', 'ok-1')
      .set('User-Agent', 'mingus-ios/3.1');
    expect(accessLines()).toEqual([
      expect.objectContaining({
        level: 'info',
        msg: 'request completed',
        reqId: res.headers['x-request-id'],
        clientReqId: 'ok-1',
        req: {
          method: 'GET',
          url: '/ok',
          userAgent: 'mingus-ios/3.1',
          remoteAddress: expect.stringMatching(/127\.0\.0\.1/),
        },
        res: { statusCode: 200 },
        responseTime: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(accessLines())).not.toContain('never-logged');
  });

  it('when the answer is a client error, logs it at warn; a server error, at error as errored', async () => {
    const { app, accessLines } = loggedApp();
    await request(app).get('/missing').set('X-Request-ID', 'client-error');
    await request(app).get('/broken').set('X-Request-ID', 'server-error');
    expect(accessLines().map(({ clientReqId, level, msg, res }) => ({ clientReqId, level, msg, res }))).toEqual([
      { clientReqId: 'client-error', level: 'warn', msg: 'request completed', res: { statusCode: 404 } },
      { clientReqId: 'server-error', level: 'error', msg: 'request errored', res: { statusCode: 500 } },
    ]);
  });

  it('when the client goes away before the answer, logs the request as aborted', async () => {
    const { app, accessLines, hanging } = loggedApp();
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const req = http.get({ host: '127.0.0.1', port, path: '/slow', headers: { 'X-Request-ID': 'gone' } });
    req.on('error', () => undefined); // the abort below
    await hanging;
    req.destroy();
    await expect
      .poll(() => accessLines().find((line) => line.clientReqId === 'gone'))
      .toMatchObject({
        level: 'warn',
        msg: 'request aborted',
        req: { method: 'GET', url: '/slow', remoteAddress: expect.stringMatching(/127\.0\.0\.1/) },
      });
    // No answer was sent: the line names no status (the response's default 200 would be a lie).
    expect(accessLines().find((line) => line.clientReqId === 'gone')).not.toHaveProperty('res');
  });
});
