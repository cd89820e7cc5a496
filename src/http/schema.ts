import type { FastifyInstance, FastifySchema } from 'fastify';
import { z } from 'zod';

/**
 * Route schemas from the routes' own zod schemas: the one source for the OpenAPI document.
 *
 * Validation stays with `parse()` in each handler (zod's coercions, defaults, refinements and
 * the API's 400 messages naming each field); the JSON Schemas below only describe. So fastify's
 * own validator and serializer are turned off (`describeOnly`): a response schema must never
 * strip a field, and a JSON Schema must never refuse what the zod schema accepts.
 */
export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  /** Groups in the reference page: files, owners, notifications, ops, health… */
  readonly tags: readonly string[];
  readonly params?: z.ZodType;
  readonly querystring?: z.ZodType;
  readonly body?: z.ZodType;
  /** Status → what is answered: a zod schema (JSON), or a description of a non-JSON body. */
  readonly response?: Readonly<Record<number, z.ZodType | { readonly description: string; readonly contentType: string }>>;
  /** Request content types other than JSON (`multipart/form-data`). */
  readonly consumes?: readonly string[];
  /** Also an older or seed-compatible path for another route. */
  readonly alias?: string;
}

type JsonSchema = Record<string, unknown>;

/** One zod schema as a JSON Schema 2020-12 (the dialect of OpenAPI 3.1), without `$schema`. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The fastify `schema` of a route, described from its zod schemas. */
export function routeSchema(doc: RouteDoc): FastifySchema {
  const response: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(doc.response ?? {})) {
    response[status] =
      body instanceof z.ZodType
        ? { description: body.description ?? `status ${status}`, ...jsonSchema(body, 'output') }
        : { description: body.description, content: { [body.contentType]: { schema: {} } } };
  }
  response['4xx'] = { description: 'the request was refused: `error.code` says why', ...jsonSchema(ErrorBody, 'output') };
  const description = doc.alias ? `${doc.description ?? ''}\n\nAn alias of \`${doc.alias}\`.`.trim() : doc.description;
  return {
    summary: doc.summary,
    ...(description ? { description } : {}),
    tags: [...doc.tags],
    ...(doc.params ? { params: jsonSchema(doc.params, 'input') } : {}),
    ...(doc.querystring ? { querystring: jsonSchema(doc.querystring, 'input') } : {}),
    ...(doc.body ? { body: jsonSchema(doc.body, 'input') } : {}),
    ...(doc.consumes ? { consumes: [...doc.consumes] } : {}),
    response,
  };
}

/** Schemas describe, `parse()` validates (see above). Call on the root instance before any route. */
export function describeOnly(app: FastifyInstance): void {
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}
