/**
 * One declaration per route: method and path, the permission it needs (policies/access.yaml),
 * how its body is read, zod schemas for its parameters, body and answers (they validate the
 * request, shape the answer and generate the OpenAPI document), and the handler.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { Caller } from './auth';
import type { Permission } from './auth/access';

export interface Answer {
  status: number;
  body: unknown;
}

export interface RouteRequest<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  headers: IncomingHttpHeaders;
  /** Who is calling, verified and authorized for this route's permission. */
  caller: Caller;
  /** The body's exact bytes (vendor payloads are normalized from them). */
  raw: Buffer;
}

export interface DrwRoute<P = any, Q = any, B = any> {
  method: 'GET' | 'POST';
  /** OpenAPI-style path: /v1/remediations/{id}. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /**
   * What the caller needs. `submit` is `submit:<format>` on a route with a format parameter and
   * `submit:drw` otherwise; `public` needs nothing (health, the OpenAPI document).
   */
  permission: Permission | 'submit' | 'public';
  /** `json`: strict JSON, application/json only; `raw`: the bytes (vendor payloads, NDJSON). */
  body?: 'json' | 'raw';
  schema: {
    params?: z.ZodType<P>;
    querystring?: z.ZodType<Q>;
    body?: z.ZodType<B>;
    /** Answers by status code; errors share api/schemas.ts errorSchema. */
    response: Record<number, z.ZodType>;
  };
  handler(req: RouteRequest<P, Q, B>): Promise<Answer>;
}

/** Declares a route (the generics carry the schema types into the handler). */
export function route<P = any, Q = any, B = any>(r: DrwRoute<P, Q, B>): DrwRoute<P, Q, B> {
  return r;
}
