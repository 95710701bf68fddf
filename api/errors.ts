/** An answer with an HTTP status: what the routes throw for the server to send. No imports, so any API module may use it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
