import { createRequire } from 'node:module';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { type ApiRouter, createApiRouter } from '../http/api-router.js';
import type { OpenApiDocuments } from './document.js';
import { json, operation, UNDOCUMENTED } from './operation.js';

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

const DocumentSchema = z
  .looseObject({ openapi: z.literal('3.1.0') })
  .meta({ id: 'OpenApiDocument', description: 'An OpenAPI 3.1 document' });

const CLIENT_DOCUMENT = operation({
  operationId: 'getOpenApiDocument',
  tag: 'Documentation',
  summary: 'This document: what the mobile and web apps call',
  replies: { 200: json('The OpenAPI 3.1 document of the client surface', DocumentSchema) },
});
const OPERATOR_DOCUMENT = operation({
  operationId: 'getOperatorOpenApiDocument',
  tag: 'Operations',
  summary: 'The operator document: administration, probes, metrics and webhooks',
  replies: { 200: json('The OpenAPI 3.1 document of the operator surface', DocumentSchema) },
});
const DOCS_PAGE = operation({
  operationId: 'getApiDocsPage',
  tag: 'Documentation',
  summary: 'The interactive documentation page (Swagger UI) of /openapi.json',
  replies: {
    200: { description: 'An HTML page', contentType: 'text/html', schema: z.string().max(INDEX_HTML.length) },
  },
});

/**
 * The documents and their page. `documents` is read at the first request: the documents describe every route,
 * these included, so they are built once the route table is complete. `limit` is the API's rate limit: the
 * documents are the largest public answers.
 */
export function openApiRoutes(documents: () => OpenApiDocuments, limit: RequestHandler): ApiRouter {
  const r = createApiRouter();
  let bodies: { client: string; operator: string } | undefined;
  const bodyOf = (audience: 'client' | 'operator') => {
    bodies ??= { client: JSON.stringify(documents().client), operator: JSON.stringify(documents().operator) };
    return bodies[audience];
  };
  r.get('/openapi.json', CLIENT_DOCUMENT, limit, (_req, res) => {
    res.type('application/json').send(bodyOf('client'));
  });
  r.get('/openapi/operator.json', OPERATOR_DOCUMENT, limit, (_req, res) => {
    res.type('application/json').send(bodyOf('operator'));
  });
  r.get('/docs', DOCS_PAGE, limit, docsPolicy, (_req, res) => {
    res.type('html').send(INDEX_HTML);
  });
  r.get('/docs/init.js', UNDOCUMENTED, docsPolicy, (_req, res) => {
    res.type('application/javascript').send(INIT_JS);
  });
  // Only the files the page uses: the package also ships a demo initializer pointing at the Petstore.
  for (const file of DOCS_ASSETS) {
    r.get(`/docs/assets/${file}`, UNDOCUMENTED, docsPolicy, (_req, res) => {
      res.sendFile(file, { root: SWAGGER_UI_DIR, maxAge: '1d' });
    });
  }
  return r;
}
