import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string | RegExp;
}

/** Every (method, path) the Express app really serves, walking nested routers with their mount paths. */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const full = `${prefix}${layer.route.path === '/' && prefix ? '' : layer.route.path}` || '/';
        // `_all`: the catch-all routes that answer 405 to the methods a path does not serve.
        for (const method of Object.keys(layer.route.methods)) if (method !== '_all') out.push(`${method} ${full}`);
      } else if (layer.handle?.stack) {
        if (typeof layer.rawPath !== 'string' && layer.rawPath !== undefined) throw new Error('unsupported mount');
        walk(layer.handle.stack, `${prefix}${layer.rawPath === '/' || !layer.rawPath ? '' : layer.rawPath}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return out;
}

/** The documentation page's script and styles: files, not operations. */
const PAGE_ASSETS = /^get \/docs\/(init\.js|assets\/.*)$/;

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document with the problem schema and security schemes', async () => {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.components.schemas.Problem.properties).toHaveProperty('requestId');
    expect(Object.keys(res.body.components.securitySchemes)).toEqual(
      expect.arrayContaining(['bearerAuth', 'cookieSession', 'refreshCookie']),
    );
  });

  it('documents every route the app registers, in one of its two documents', async () => {
    const documents = [
      (await request(t.app).get('/openapi.json')).body,
      (await request(t.app).get('/openapi/operator.json')).body,
    ];
    const documented = new Set(
      documents.flatMap((body) =>
        Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
          Object.keys(ops).map((method) => `${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
        ),
      ),
    );
    const served = registeredRoutes(t.express).filter((r) => !PAGE_ASSETS.test(r));
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('describes error answers with the Problem schema', async () => {
    const { body } = await request(t.app).get('/openapi/operator.json');
    const detailed401 = body.paths['/health/detailed'].get.responses['401'];
    expect(detailed401.content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI from local assets under a CSP without inline scripts', async () => {
    const res = await request(t.app).get('/docs');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('/docs/assets/swagger-ui-bundle.js');
    expect(res.text).not.toMatch(/https?:\/\//);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain("script-src 'self' 'unsafe-inline'");
  });

  it('serves the assets the page references, and nothing else of the package', async () => {
    for (const asset of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']) {
      expect((await request(t.app).get(asset)).status, asset).toBe(200);
    }
    expect((await request(t.app).get('/docs/assets/swagger-initializer.js')).status).toBe(404);
    expect((await request(t.app).get('/docs/assets/../package.json')).status).toBe(404);
  });
});
