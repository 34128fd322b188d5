import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerComponents } from './components.js';

/** A module's contribution to the document: the paths it serves, described with its own zod schemas. */
export type ApiDescription = (registry: OpenAPIRegistry) => void;

/** Assembles the OpenAPI 3.1 document once, at start, from every module's description. */
export function buildOpenApiDocument(version: string, descriptions: ApiDescription[]) {
  const registry = new OpenAPIRegistry();
  registerComponents(registry);
  for (const describe of descriptions) describe(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Mingus API',
      version,
      description:
        'Personal-finance assistant API. Errors are RFC 9457 application/problem+json; money is integer cents; ' +
        'dates are YYYY-MM-DD; lists use cursor pagination.',
    },
    servers: [{ url: '/' }],
  });
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
