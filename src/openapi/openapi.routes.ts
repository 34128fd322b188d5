import { createRequire } from 'node:module';
import path from 'node:path';
import { type RequestHandler, Router } from 'express';
import type { OpenApiDocument } from './document.js';

/**
 * Swagger UI is the API's one HTML page. Its assets come from the `swagger-ui-dist` npm package (no CDN), and its
 * start-up script is a file of ours, so the page runs under a CSP without inline scripts.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Where the package's files are. Not `import { getAbsoluteFSPath } from 'swagger-ui-dist'`: that entry point also
 * loads the whole 1.5 MB browser bundle into the server's heap, for nothing.
 */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const DOCS_ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js'] as const;

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Mingus API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT_JS = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

const docsPolicy: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', DOCS_CSP);
  next();
};

export function openApiRoutes(document: OpenApiDocument): Router {
  const r = Router();
  const body = JSON.stringify(document);
  r.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(body);
  });
  r.get('/docs', docsPolicy, (_req, res) => {
    res.type('html').send(INDEX_HTML);
  });
  r.get('/docs/init.js', docsPolicy, (_req, res) => {
    res.type('application/javascript').send(INIT_JS);
  });
  // Only the files the page uses: the package also ships a demo initializer pointing at the Petstore.
  for (const file of DOCS_ASSETS) {
    r.get(`/docs/assets/${file}`, docsPolicy, (_req, res) => {
      res.sendFile(file, { root: SWAGGER_UI_DIR, maxAge: '1d' });
    });
  }
  return r;
}
