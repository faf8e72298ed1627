/**
 * The one request function of the frontend: every call to lakelab's REST API
 * (`<base_url>lakelab/api/v1/`) goes through `request`.
 *
 * Its path, method, parameters, body and answer are typed from the generated
 * `./generated/openapi` (openapi-typescript over server/lakelab_server/openapi.yaml, run
 * before every build), so a change in the server's contract breaks the build of the code
 * that relies on it instead of being papered over by a forgiving parser.
 *
 * The transport is injected (a `Requester`): JupyterLab's ServerConnection in the app
 * (auth, XSRF, base URL), an in-memory server in the unit tests.
 */
import type { paths } from './generated/openapi';

export const API_PREFIX = 'lakelab/api/v1/';

/** Sends one request to a path relative to the API root (e.g. `namespaces`). */
export type Requester = (path: string, init?: RequestInit) => Promise<Response>;

/** A failed request, with the server's error code and message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path: string
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** One line for the UI: what failed and why. */
  get display(): string {
    return this.status ? `${this.message} (HTTP ${this.status})` : this.message;
  }
}

// -- the contract, as types over the generated `paths` ----------------------------------

export type ApiPath = keyof paths;
type Method = 'get' | 'post' | 'patch' | 'delete';

/** The methods the document defines for `P` (the others are `never` there). */
export type MethodOf<P extends ApiPath> = {
  [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[Method];

export type Operation<P extends ApiPath, M extends MethodOf<P>> = NonNullable<paths[P][M]>;

type PathParams<O> = O extends { parameters: { path: infer X } } ? X : never;
type QueryParams<O> = O extends { parameters: { query?: infer X } } ? X : never;
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;

/** The JSON of the operation's success answer (200, or 201 for a create). */
export type ResponseOf<P extends ApiPath, M extends MethodOf<P>> =
  Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer Ok }
      ? JsonOf<Ok>
      : R extends { 201: infer Created }
        ? JsonOf<Created>
        : never
    : never;

/** Path parameters (required where the path has them), query and JSON body of one call. */
export type RequestOptions<O> = ([PathParams<O>] extends [never] ? { path?: never } : { path: PathParams<O> }) & {
  query?: QueryParams<O>;
} & ([JsonBody<O>] extends [never] ? { body?: never } : { body: JsonBody<O> });

/** `{name}` segments filled in (URL-encoded) and the query appended, relative to the API root. */
export function urlOf(template: string, path?: Record<string, unknown>, query?: Record<string, unknown>): string {
  const filled = template.replace(/^\//, '').replace(/\{(\w+)\}/g, (_, key: string) => {
    const value = path?.[key];
    if (value === undefined || value === null) {
      throw new Error(`request ${template}: no value for {${key}}`);
    }
    return encodeURIComponent(String(value));
  });
  const parts = Object.entries(query ?? {})
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `${filled}?${parts.join('&')}` : filled;
}

/** The server's `{"error": {"code", "message"}}`, Jupyter Server's own `{"message"}`, or the status. */
async function errorOf(resp: Response, path: string): Promise<ApiError> {
  let body: unknown = undefined;
  try {
    body = JSON.parse(await resp.text());
  } catch {
    // not JSON (a proxy's or Jupyter's HTML page) or no body: the status has to explain
  }
  if (body && typeof body === 'object') {
    const { error, message } = body as { error?: { code?: unknown; message?: unknown }; message?: unknown };
    if (error && typeof error === 'object' && typeof error.message === 'string' && error.message) {
      return new ApiError(resp.status, typeof error.code === 'string' ? error.code : 'error', error.message, path);
    }
    if (typeof message === 'string' && message) {
      // Jupyter Server's own errors (e.g. 403 without a token) use {"message"}
      return new ApiError(resp.status, 'server', message, path);
    }
  }
  if (resp.status === 404) {
    return new ApiError(404, 'not_found', `${path}: not found on the server`, path);
  }
  return new ApiError(resp.status, 'http', `${path}: ${resp.statusText || 'request failed'}`, path);
}

/**
 * Calls `method path` of the API and returns the success answer's JSON, typed from
 * openapi.yaml. A network failure, an error status or a body that is not JSON becomes an
 * `ApiError` whose `display` the UI shows.
 *
 * 64-bit Iceberg ids travel as strings (the contract says so), so plain JSON.parse loses
 * no digit.
 */
export async function request<P extends ApiPath, M extends MethodOf<P>>(
  send: Requester,
  method: M,
  template: P,
  options: RequestOptions<Operation<P, M>>
): Promise<ResponseOf<P, M>> {
  const { path, query, body } = options as {
    path?: Record<string, unknown>;
    query?: Record<string, unknown>;
    body?: unknown;
  };
  const url = urlOf(template, path, query);
  const init: RequestInit = { method: method.toUpperCase() };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  let resp: Response;
  try {
    resp = await send(url, init);
  } catch (e) {
    throw new ApiError(0, 'network', `cannot reach the Jupyter server (${url}): ${e}`, url);
  }
  if (!resp.ok) {
    throw await errorOf(resp, url);
  }
  try {
    return JSON.parse(await resp.text()) as ResponseOf<P, M>;
  } catch {
    throw new ApiError(resp.status, 'bad_response', `${url}: the server did not answer JSON`, url);
  }
}
