import { buildOpenApiDocument } from '../api/openapi.js';

/** The API description served at /openapi.json, generated once from the shared zod schemas. */
export const openApiDocument = buildOpenApiDocument('0.1.0');
