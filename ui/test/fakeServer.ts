/**
 * An in-memory stand-in for the REST API, answering with the JSON shapes of
 * server/lakelab_server/openapi.yaml (typed by the generated types where a test builds
 * one), so the request function, the models and the paging logic run against realistic
 * bodies without a Jupyter server (the browser tests use the real one).
 */
import { DatasetSummary, LakelabClient, Requester } from '../src/api';

export type Route = (path: string, init: RequestInit) => unknown | Promise<unknown>;

export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}

export class FakeServer {
  calls: string[] = [];
  constructor(readonly route: Route) {}

  get requester(): Requester {
    return async (path, init = {}) => {
      this.calls.push(`${init.method ?? 'GET'} ${path}`);
      const out = await this.route(path, init);
      return out instanceof Response ? out : jsonResponse(out);
    };
  }

  client(): LakelabClient {
    return new LakelabClient(this.requester);
  }
}

export function summary(name: string, extra: Partial<DatasetSummary> = {}): DatasetSummary {
  const [ns, table] = [name.slice(0, name.lastIndexOf('.')), name.slice(name.lastIndexOf('.') + 1)];
  return {
    name,
    namespace: ns,
    table,
    kind: 'table',
    owner: 'demo',
    description: `about ${table}`,
    tags: ['a'],
    row_count: 10,
    file_count: 1,
    total_bytes: 2048,
    last_updated_ms: 1700000000000,
    snapshot_id: '3055729675574597004',
    ...extra
  };
}

/** A promise whose resolution the test controls (to order responses). */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>(r => (resolve = r));
  return { promise, resolve };
}
