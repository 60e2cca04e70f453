import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../src/api/openapi.js';

/**
 * Holds every JSON response the API tests see to the OpenAPI document: the status must be one
 * the operation declares (or its `default`), and the body must match that response's schema
 * with no property the schema does not declare.
 */
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const openApi = buildOpenApiDocument('test') as Json;
const BASE = 'https://baton.invalid/schemas/';

const ajv = new Ajv2020({ strict: true });
addFormats.default(ajv);
const components = JSON.parse(JSON.stringify(openApi.components.schemas).replaceAll('#/components/schemas/', BASE)) as Record<string, Json>;
for (const [id, schema] of Object.entries(components)) ajv.addSchema({ ...schema, $id: BASE + id });

const routes = Object.keys(openApi.paths as Json)
  .map((template) => {
    // {path} and {dir} carry a whole namespace path, slashes included; {id} is one segment.
    const source = template.replace(/[.]/g, '\\.').replace(/\{(path|dir)\}/g, '.*').replace(/\{[^}]+\}/g, '[^/]+');
    return { template, re: new RegExp(`^${source}$`) };
  })
  // Literal routes first: /v1/audit/verify is not /v1/audit/{…}.
  .sort((a, b) => Number(a.template.includes('{')) - Number(b.template.includes('{')));

function validatorFor(ref: string): ValidateFunction {
  const v = ajv.getSchema(ref.replace('#/components/schemas/', BASE));
  if (!v) throw new Error(`no schema ${ref}`);
  return v;
}

/** The JSON schema a response declares: a component's name, `inline`, or none. */
function responseSchema(response: Json): string | 'inline' | undefined {
  const r = response.$ref ? openApi.components.responses[String(response.$ref).split('/').pop()!] : response;
  const schema = r?.content?.['application/json']?.schema;
  return schema ? (schema.$ref ?? 'inline') : undefined;
}

/** Throws with the schema errors when a reply breaks the documented contract. */
export function assertMatchesOpenApi(method: string, url: string, status: number, contentType: string | null, json: unknown): void {
  const pathname = new URL(url).pathname;
  const route = routes.find((r) => r.re.test(pathname));
  const operation = route ? (openApi.paths[route.template] as Json)[method.toLowerCase()] : undefined;
  const where = `${method} ${pathname} → ${status}`;
  let ref: string | undefined;
  if (!operation) {
    // A route the document does not have answers with the error body.
    ref = '#/components/schemas/Error';
  } else {
    const response = operation.responses[String(status)] ?? operation.responses.default;
    if (!response) throw new Error(`${where}: status not declared in the OpenAPI document`);
    ref = responseSchema(response);
    if (!ref) {
      // A response that declares bytes (a file's content) may hold JSON like any other file.
      if (json !== undefined && contentType?.includes('application/json') && method !== 'HEAD' && !response.content) {
        throw new Error(`${where}: JSON body where the OpenAPI document declares none`);
      }
      return;
    }
    // Only /mcp and /openapi.json declare free-form JSON; each is held to its own test.
    if (ref === 'inline') return;
  }
  if (method === 'HEAD' || !contentType?.includes('application/json')) return;
  const validate = validatorFor(ref);
  if (!validate(json)) {
    throw new Error(`${where}: body does not match ${ref}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(json).slice(0, 500)}`);
  }
}
