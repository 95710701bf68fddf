/**
 * 400: the body is not JSON (or not an object/array) at all.
 * 404: no such format.
 * 413: more findings than one request may bring (IngestLimits.maxFindings).
 * 422: well-formed JSON, but not the named format; the message names the missing path.
 */
export type IngestErrorStatus = 400 | 404 | 413 | 422;

export class IngestError extends Error {
  override readonly name = 'IngestError';

  constructor(
    readonly status: IngestErrorStatus,
    message: string,
    readonly format?: string,
  ) {
    super(message);
  }
}

/** For "this JSON is not a `<format>` payload": `path` is the JSON path (`$.alerts`) that was expected. */
export function notFormat(format: string, path: string, expected: string): IngestError {
  return new IngestError(422, `not a ${format} payload: ${path} ${expected}`, format);
}
