/**
 * @jest-environment node
 */
import packageJson from '../package.json';
import { ApiError, FRONTEND_VERSION, ServerInfo, versionCount } from '../src/api';
import { configSummary, handshake } from '../src/handshake';
import { Requester, request, urlOf } from '../src/request';
import { selectSql, trinoCell } from '../src/text';
import { versionFormat, versionLibraries } from '../src/versions';
import { FakeServer, jsonResponse, summary } from './fakeServer';

const INFO: ServerInfo = {
  api_version: 'v1',
  server_version: FRONTEND_VERSION,
  library_version: FRONTEND_VERSION,
  status: 'ok',
  problem: null,
  config: { catalog: { name: 'lakelab', type: 'sql' }, engine: 'duckdb' },
  engines: ['duckdb'],
  workspaces_api: false,
  limits: { preview_max_rows: 1000, page_size_max: 1000 }
};

describe('request', () => {
  it('is typed by openapi.yaml: unknown routes, parameters and fields do not compile', () => {
    // never run: ts-jest type-checks this file, so each line below must be a type error
    const typeErrors = (send: Requester) => {
      // @ts-expect-error: no such route in openapi.yaml
      void request(send, 'get', '/tables', {});
      // @ts-expect-error: the route has no POST
      void request(send, 'post', '/info', {});
      // @ts-expect-error: {name} is required
      void request(send, 'get', '/datasets/{name}', {});
      // @ts-expect-error: limit is an integer
      void request(send, 'get', '/datasets/{name}/preview', { path: { name: 'a.b' }, query: { limit: 'ten' } });
      // @ts-expect-error: workers is an integer
      void request(send, 'post', '/workspaces/{name}/scale', { path: { name: 'w' }, body: { workers: '2' } });
      return request(send, 'get', '/info', {}).then(info => {
        // @ts-expect-error: the answer has server_version, not version
        return info.version;
      });
    };
    expect(typeof typeErrors).toBe('function');
  });
});

describe('urlOf', () => {
  it('fills path parameters URL-encoded and leaves out empty query parameters', () => {
    expect(
      urlOf('/datasets/{name}/preview', { name: 'a b/c' }, { limit: 5, columns: '', snapshot_id: undefined })
    ).toBe('datasets/a%20b%2Fc/preview?limit=5');
    expect(urlOf('/info')).toBe('info');
  });
});

describe('handshake', () => {
  it('announces the version in package.json (the Python package ships the same)', () => {
    expect(FRONTEND_VERSION).toBe(packageJson.version);
  });

  it('is ok when the server extension version matches', async () => {
    const result = await handshake(new FakeServer(() => INFO).client());
    expect(result.state).toBe('ok');
    if (result.state === 'ok') {
      expect(configSummary(result.info)).toEqual({ catalog: 'lakelab', engine: 'duckdb' });
      expect(result.info.limits.preview_max_rows).toBe(1000);
    }
  });

  it('says plainly that the server extension is missing when info is a 404 page', async () => {
    const server = new FakeServer(() => new Response('<html>404: Not Found</html>', { status: 404 }));
    const result = await handshake(server.client());
    expect(result.state).toBe('missing');
    if (result.state === 'missing') {
      expect(result.message).toMatch(/server extension is not running/);
    }
  });

  it('says the server extension is missing when something else answers JSON at its route', async () => {
    const result = await handshake(new FakeServer(() => ({ hello: 'world' })).client());
    expect(result.state).toBe('missing');
  });

  it('reports a version mismatch with both versions', async () => {
    const result = await handshake(new FakeServer(() => ({ ...INFO, server_version: '9.3.0' })).client());
    expect(result.state).toBe('mismatch');
    if (result.state === 'mismatch') {
      expect(result.message).toContain('9.3.0');
      expect(result.message).toContain(FRONTEND_VERSION);
    }
  });

  it('passes on the problem when the server cannot open the catalog', async () => {
    const body = { ...INFO, status: 'unavailable', problem: 'cannot open catalog lakelab' };
    const result = await handshake(new FakeServer(() => body).client());
    expect(result).toEqual({
      state: 'error',
      message: 'The lakelab server extension cannot open the lakehouse: cannot open catalog lakelab'
    });
  });
});

describe('LakelabClient', () => {
  it('turns a JSON error body into an ApiError with code and message', async () => {
    const server = new FakeServer(() =>
      jsonResponse({ error: { code: 'not_found', message: 'dataset demo.nope does not exist' } }, 404)
    );
    await expect(server.client().dataset('demo.nope')).rejects.toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'dataset demo.nope does not exist'
    });
  });

  it("reads Jupyter Server's own {message} errors (e.g. 403)", async () => {
    const server = new FakeServer(() => jsonResponse({ message: 'Forbidden', reason: null }, 403));
    const err = await server
      .client()
      .namespaces()
      .catch(e => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.display).toBe('Forbidden (HTTP 403)');
  });

  it('reports an unreachable server as a network error', async () => {
    const client = new FakeServer(() => {
      throw new TypeError('Failed to fetch');
    }).client();
    await expect(client.info()).rejects.toMatchObject({ code: 'network' });
  });

  it('lists a namespace page with its token, URL-encoded', async () => {
    const server = new FakeServer(() => ({
      namespace: 'sales.eu',
      datasets: [summary('sales.eu.orders')],
      next_page_token: 'tok/1'
    }));
    const page = await server.client().datasets('sales.eu', 'tok/1', 50);
    expect(server.calls).toEqual(['GET namespaces/sales.eu/datasets?page_token=tok%2F1&page_size=50']);
    expect(page.next_page_token).toBe('tok/1');
    expect(page.datasets[0]).toMatchObject({ name: 'sales.eu.orders', namespace: 'sales.eu', table: 'orders' });
  });

  it('parses the dataset detail: schema with nested fields, stats and partitioning', async () => {
    const server = new FakeServer(() => ({
      name: 'demo.flights',
      namespace: 'demo',
      table: 'flights',
      kind: 'table',
      owner: 'demo',
      description: 'All flights',
      tags: ['aviation', 'nyc'],
      schema: [
        { id: 1, name: 'year', type: 'long', required: false, doc: 'year of departure' },
        {
          id: 2,
          name: 'loc',
          type: 'struct',
          required: false,
          doc: null,
          fields: [{ id: 3, name: 'lat', type: 'double', required: true, doc: null }]
        }
      ],
      partition_spec: [{ field_id: 1000, source_id: 1, name: 'year_month', source: 'time_hour', transform: 'month' }],
      sort_order: [],
      properties: { 'lakelab.kind': 'table' },
      stats: {
        row_count: 336776,
        file_count: 12,
        total_bytes: 5000000,
        current_snapshot_id: '8744736658442914487',
        last_updated_ms: 1
      },
      location: 'file:///x',
      format_version: 2
    }));
    const d = await server.client().dataset('demo.flights');
    expect(server.calls).toEqual(['GET datasets/demo.flights']);
    expect(d.stats.row_count).toBe(336776);
    expect(d.stats.current_snapshot_id).toBe('8744736658442914487');
    expect(d.schema.map(f => f.name)).toEqual(['year', 'loc']);
    expect(d.schema[1].fields?.[0]).toMatchObject({ id: 3, name: 'lat', type: 'double', required: true });
    expect(d.partition_spec[0]).toMatchObject({ name: 'year_month', source: 'time_hour', transform: 'month' });
    expect(versionCount(d)).toBeNull();
  });

  it('parses the versions of a model dataset', async () => {
    const server = new FakeServer(() => ({
      ...summary('ml.churn', { kind: 'model' }),
      schema: [],
      partition_spec: [],
      sort_order: [],
      properties: {},
      stats: { row_count: 2, file_count: 2, total_bytes: 10, current_snapshot_id: '1', last_updated_ms: 1 },
      location: 'x',
      format_version: 2,
      versions: [
        {
          version: 2,
          uri: 'file:///w/2.joblib',
          sha256: 'ab',
          bytes: 99,
          created_at: '2026-01-31T12:00:00+00:00',
          created_by: 'ann',
          metadata: { format: 'joblib', libraries: { sklearn: '1.5' } }
        }
      ]
    }));
    const d = await server.client().dataset('ml.churn');
    expect(d.kind).toBe('model');
    expect(versionCount(d)).toBe(1);
    expect(versionFormat(d.versions![0])).toBe('joblib');
    expect(versionLibraries(d.versions![0])).toEqual({ sklearn: '1.5' });
  });

  it('asks for the lineage graph to the chosen depth and keeps its nodes', async () => {
    const server = new FakeServer(() => ({
      dataset: 'demo.delays',
      depth: 1,
      nodes: [
        { id: 'demo.delays', type: 'dataset', exists: true, direction: 'self' },
        { id: 'demo.flights', type: 'dataset', exists: true, direction: 'upstream' },
        { id: 'file:///x.csv', type: 'source', exists: true, direction: 'upstream' },
        { id: 'demo.report', type: 'dataset', exists: true, direction: 'downstream' }
      ],
      edges: []
    }));
    const lineage = await server.client().lineageGraph('demo.delays', 3);
    expect(server.calls).toEqual(['GET datasets/demo.delays/lineage?depth=3']);
    expect(lineage.nodes.filter(n => n.direction === 'upstream').map(n => n.id)).toEqual([
      'demo.flights',
      'file:///x.csv'
    ]);
    expect(lineage.nodes[3]).toEqual({ id: 'demo.report', type: 'dataset', exists: true, direction: 'downstream' });
  });

  it('reads a later preview page at its offset on the server, sorted there when asked', async () => {
    const server = new FakeServer(path => {
      const q = new URLSearchParams(path.split('?')[1]);
      const limit = Number(q.get('limit'));
      const offset = Number(q.get('offset') ?? 0);
      return {
        dataset: 'demo.t',
        snapshot_id: '1',
        limit,
        offset,
        columns: [{ name: 'n', type: 'int64' }],
        rows: Array.from({ length: limit }, (_, i) => [offset + i]),
        row_count: limit
      };
    });
    const page = await server.client().preview('demo.t', { offset: 200, limit: 100, snapshotId: '77', columns: ['n'] });
    expect(page.rows.length).toBe(100);
    expect(page.rows[0]).toEqual([200]);
    await server.client().preview('demo.t', {
      offset: 0,
      limit: 50,
      sort: { column: 'n', descending: true },
      nullCounts: true
    });
    expect(server.calls).toEqual([
      'GET datasets/demo.t/preview?limit=100&offset=200&columns=n&snapshot_id=77',
      'GET datasets/demo.t/preview?limit=50&sort=n&order=desc&null_counts=true'
    ]);
  });

  it('sends metadata edits as PATCH datasets/{name}/metadata', async () => {
    let sent: unknown = null;
    const server = new FakeServer((_, init) => {
      sent = JSON.parse(String(init.body));
      return {
        ...summary('demo.t'),
        schema: [],
        partition_spec: [],
        sort_order: [],
        properties: {},
        stats: { row_count: 1, file_count: 1, total_bytes: 1, current_snapshot_id: null, last_updated_ms: 1 },
        location: 'x',
        format_version: 2,
        tags: ['x', 'y']
      };
    });
    const d = await server.client().updateMetadata('demo.t', { description: 'd', owner: 'o', tags: ['x', 'y'] });
    expect(server.calls).toEqual(['PATCH datasets/demo.t/metadata']);
    expect(sent).toEqual({ description: 'd', owner: 'o', tags: ['x', 'y'] });
    expect(d.tags).toEqual(['x', 'y']);
  });

  it('reports an answer that is not JSON as a bad response', async () => {
    const server = new FakeServer(() => new Response('<html>proxy</html>', { status: 200 }));
    await expect(server.client().namespaces()).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('asks for child namespaces and search filters as query parameters', async () => {
    const server = new FakeServer(path =>
      path.startsWith('search') ? { query: 'x', datasets: [summary('a.b')] } : { parent: 'a', namespaces: [] }
    );
    await server.client().namespaces('a');
    const found = await server.client().search('x y', { kind: 'model', tag: 'ml' });
    expect(server.calls).toEqual(['GET namespaces?parent=a', 'GET search?q=x%20y&kind=model&tag=ml']);
    expect(found.map(d => d.name)).toEqual(['a.b']);
  });
});

describe('SQL helpers', () => {
  it('writes the %%trino cell every command inserts', () => {
    expect(selectSql('demo.flights')).toBe('SELECT * FROM demo.flights LIMIT 100');
    expect(trinoCell('demo.flights')).toBe('%%trino\nSELECT * FROM demo.flights LIMIT 100');
  });
});
