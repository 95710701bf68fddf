/** `GET /healthz` (200 once the workers poll) and `GET /openapi.json` (generated from the routes' schemas). */
import { z } from 'zod';
import { route, type DrwRoute } from '../route';

export function metaRoutes(ready: () => boolean, document: () => unknown): DrwRoute[] {
  return [
    route({
      method: 'GET',
      path: '/healthz',
      operationId: 'health',
      summary: 'Readiness: 200 once the workers poll',
      tags: ['meta'],
      permission: 'public',
      schema: { response: { 200: z.object({ status: z.literal('ok') }).describe('Ready'), 503: z.object({ status: z.literal('starting') }).describe('Starting') } },
      handler: async () => (ready() ? { status: 200, body: { status: 'ok' } } : { status: 503, body: { status: 'starting' } }),
    }),
    route({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document, generated from the routes',
      tags: ['meta'],
      permission: 'public',
      schema: { response: { 200: z.looseObject({ openapi: z.string() }).describe('OpenAPI 3.1 document') } },
      handler: async () => ({ status: 200, body: document() }),
    }),
  ];
}
