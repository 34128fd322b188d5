import { once } from 'node:events';
import { IncomingMessage, type Server, ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, constructedOn, listen } from '../../src/platform/http-server.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => closeServer(server, 1_000)));
});

async function serving(app: express.Express): Promise<{ server: Server; url: string }> {
  const server = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the HTTP server of an Express app', () => {
  it("creates each request and response on the app's own prototypes, before Express sees them", async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.end();
    });
    const { server, url } = await serving(app);
    const seen: { request: boolean; response: boolean }[] = [];
    // Runs before the app's own listener: what Node built, before Express could change any prototype.
    server.prependListener('request', (req, res) => {
      seen.push({
        request: Object.getPrototypeOf(req) === app.request,
        response: Object.getPrototypeOf(res) === app.response,
      });
    });

    await fetch(url);
    await fetch(url);

    expect(seen).toEqual([
      { request: true, response: true },
      { request: true, response: true },
    ]);
  });

  it("serves Express's request and response API, on Node's own classes", async () => {
    const app = express();
    app.use(express.json());
    app.post('/echo/:name', (req, res) => {
      res
        .status(201)
        .location(`/echo/${req.params.name}`)
        .json({
          name: req.params.name,
          header: req.get('x-probe'),
          body: req.body as unknown,
          nodeClasses: req instanceof IncomingMessage && res instanceof ServerResponse,
        });
    });
    const { url } = await serving(app);

    const res = await fetch(`${url}/echo/ada`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-probe': 'yes' },
      body: JSON.stringify({ n: 1 }),
    });

    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/echo/ada');
    expect(await res.json()).toEqual({ name: 'ada', header: 'yes', body: { n: 1 }, nodeClasses: true });
  });

  it('keeps idle connections longer than a load balancer would, and bounds slow requests', async () => {
    const { server } = await serving(express());

    expect(server.keepAliveTimeout).toBe(65_000);
    expect(server.headersTimeout).toBe(15_000);
    expect(server.requestTimeout).toBe(30_000);
  });

  it('rejects with the cause when the port is already taken', async () => {
    const { server } = await serving(express());
    const { port } = server.address() as AddressInfo;

    await expect(listen(express(), port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('a constructor built on another prototype', () => {
  function Point(this: { x: number; y: number }, x: number, y: number) {
    this.x = x;
    this.y = y;
  }
  const PointConstructor = Point as unknown as new (x: number, y: number) => { x: number; y: number };

  it("builds what the base builds, on the prototype given, which then inherits the base's", () => {
    const prototype = Object.create(PointConstructor.prototype, { label: { value: 'mine' } }) as object;
    const Built = constructedOn(PointConstructor, prototype);

    const point = new (Built as typeof PointConstructor)(3, 4);

    expect(Object.getPrototypeOf(point)).toBe(prototype);
    expect(point).toBeInstanceOf(PointConstructor);
    expect({ ...point, label: (point as { label?: string }).label }).toEqual({ x: 3, y: 4, label: 'mine' });
  });

  it('gives up on a class, which cannot initialise an object made elsewhere', () => {
    class Shape {
      readonly sides = 3;
    }

    expect(constructedOn(Shape, Object.create(Shape.prototype) as object)).toBeUndefined();
  });

  it('gives up on a bound function, which could be a class in disguise', () => {
    const Bound = PointConstructor.bind(null) as typeof PointConstructor;

    expect(constructedOn(Bound, Object.create(PointConstructor.prototype) as object)).toBeUndefined();
  });
});

describe('a client that never finishes its headers (slow loris)', () => {
  it('is disconnected at the headers limit, not at the next 30 s connection check', async () => {
    const server = await listen(express(), 0, '127.0.0.1', { headersMs: 500, requestMs: 1_000, keepAliveMs: 65_000 });
    servers.push(server);
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.resume(); // read the 408 the server sends, so that its close is seen
    await once(socket, 'connect');
    const started = performance.now();
    socket.write('GET / HTTP/1.1\r\nHost: example\r\n'); // and never the blank line that ends the headers
    await once(socket, 'close');
    // Without the checking interval Node's default (30 s) would hold it: the bound leaves room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
