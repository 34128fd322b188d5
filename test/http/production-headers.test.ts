import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { NODE_ENV: 'production' } });
});
afterAll(() => t.close());

it('when in production, sends HSTS for two years including subdomains', async () => {
  const res = await request(t.app).get('/health');
  expect(res.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
});
