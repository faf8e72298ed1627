/**
 * @jest-environment node
 */
import { TreeModel } from '../src/tree';
import { FakeServer, deferred, jsonResponse, summary } from './fakeServer';

/** A catalog: `demo` with 3 datasets, `big` with `n` datasets served in pages, nested `sales.eu`. */
function catalog(n = 450) {
  const big = Array.from({ length: n }, (_, i) => summary(`big.t${String(i).padStart(5, '0')}`));
  return new FakeServer(path => {
    const [route, query] = path.split('?');
    const params = new URLSearchParams(query ?? '');
    if (route === 'namespaces' && !params.get('parent')) {
      return {
        parent: null,
        namespaces: [
          { name: 'big', parts: ['big'], datasets: n, has_children: false },
          { name: 'demo', parts: ['demo'], datasets: 3, has_children: false },
          { name: 'sales', parts: ['sales'], datasets: 0, has_children: true },
          { name: 'scratch', parts: ['scratch'], datasets: 1, has_children: false }
        ]
      };
    }
    if (route === 'namespaces' && params.get('parent') === 'sales') {
      return {
        parent: 'sales',
        namespaces: [{ name: 'sales.eu', parts: ['sales', 'eu'], datasets: 1, has_children: false }]
      };
    }
    if (route === 'namespaces/demo/datasets') {
      return {
        namespace: 'demo',
        datasets: [summary('demo.airlines'), summary('demo.flights'), summary('demo.model', { kind: 'model' })],
        next_page_token: null
      };
    }
    if (route === 'namespaces/sales/datasets') {
      return { namespace: 'sales', datasets: [], next_page_token: null };
    }
    if (route === 'namespaces/big/datasets') {
      const size = Number(params.get('page_size'));
      const start = Number(params.get('page_token') ?? 0);
      const page = big.slice(start, start + size);
      const next = start + size < big.length ? String(start + size) : null;
      return { namespace: 'big', datasets: page, next_page_token: next };
    }
    if (route === 'datasets/demo.flights') {
      return {
        ...summary('demo.flights'),
        schema: [
          { id: 1, name: 'carrier', type: 'string', required: false, doc: null },
          { id: 2, name: 'dep_delay', type: 'double', required: false, doc: null }
        ],
        partition_spec: [],
        sort_order: [],
        properties: {},
        stats: { row_count: 1, file_count: 1, total_bytes: 1, current_snapshot_id: null, last_updated_ms: 1 },
        location: 'x',
        format_version: 2
      };
    }
    if (route === 'datasets/demo.airlines') {
      return jsonResponse({ error: { code: 'unavailable', message: 'catalog is down' } }, 503);
    }
    if (route === 'search') {
      const q = params.get('q') ?? '';
      return {
        query: q,
        datasets: [summary('demo.flights'), summary('scratch.tmp')].filter(d => String(d.name).includes(q))
      };
    }
    return jsonResponse({ error: { code: 'not_found', message: `no route ${route}` } }, 404);
  });
}

const labels = (m: TreeModel) => m.rows.map(r => `${'  '.repeat(r.depth)}${r.kind}:${r.label}`);

describe('TreeModel', () => {
  it('lists top-level namespaces, without the hidden ones', async () => {
    const model = new TreeModel(catalog().client(), { hiddenNamespaces: ['scratch'] });
    await model.refresh();
    expect(labels(model)).toEqual(['namespace:big', 'namespace:demo', 'namespace:sales']);
  });

  it('loads a namespace level only when it is expanded', async () => {
    const server = catalog();
    const model = new TreeModel(server.client());
    await model.refresh();
    expect(server.calls).toEqual(['GET namespaces']);
    await model.activate(model.rows[1]);
    expect(labels(model).slice(1, 5)).toEqual([
      'namespace:demo',
      '  dataset:airlines',
      '  dataset:flights',
      '  dataset:model'
    ]);
    expect(model.rows.find(r => r.label === 'model')!.dataset!.kind).toBe('model');
  });

  it('shows nested namespaces under their parent', async () => {
    const model = new TreeModel(catalog().client());
    await model.refresh();
    await model.activate(model.rows.find(r => r.label === 'sales')!);
    expect(labels(model)).toContain('  namespace:eu');
  });

  it('expands a dataset into its columns with their types', async () => {
    const model = new TreeModel(catalog().client());
    await model.refresh();
    await model.activate(model.rows[1]);
    await model.activate(model.rows.find(r => r.label === 'flights')!);
    const cols = model.rows.filter(r => r.kind === 'column').map(r => `${r.label}:${r.detail}`);
    expect(cols).toEqual(['carrier:string', 'dep_delay:double']);
  });

  it('keeps expanded namespaces and datasets expanded through a refresh, with no loading flash', async () => {
    const model = new TreeModel(catalog().client());
    await model.refresh();
    await model.activate(model.rows.find(r => r.label === 'sales')!);
    await model.activate(model.rows.find(r => r.label === 'demo')!);
    await model.activate(model.rows.find(r => r.label === 'flights')!);
    const before = labels(model);
    const seen: boolean[] = [];
    model.changed.connect(() => seen.push(model.loading));
    await model.refresh();
    expect(labels(model)).toEqual(before);
    expect(before).toContain('    column:dep_delay');
    expect(before).toContain('  namespace:eu');
    expect(seen).toEqual([false]); // one redraw, with the new tree complete
  });

  it('shows a failed level as an error row with the server message', async () => {
    const model = new TreeModel(catalog().client());
    await model.refresh();
    await model.activate(model.rows[1]);
    await model.activate(model.rows.find(r => r.label === 'airlines')!);
    const err = model.rows.find(r => r.kind === 'error')!;
    expect(err.label).toBe('catalog is down (HTTP 503)');
  });

  it('pages through thousands of datasets with "load more"', async () => {
    const model = new TreeModel(catalog(4500).client(), { pageSize: 1000 });
    await model.refresh();
    await model.activate(model.rows[0]);
    expect(model.rows.filter(r => r.kind === 'dataset').length).toBe(1000);
    for (let i = 0; i < 4; i++) {
      await model.activate(model.rows.find(r => r.kind === 'more')!);
    }
    const datasets = model.rows.filter(r => r.kind === 'dataset');
    expect(datasets.length).toBe(4500);
    expect(datasets[4499].label).toBe('t04499');
    expect(model.rows.some(r => r.kind === 'more')).toBe(false);
  });

  it('switches to flat search results and back to the tree as it was', async () => {
    const server = catalog();
    const model = new TreeModel(server.client());
    await model.refresh();
    await model.activate(model.rows[1]);
    await model.search('flights');
    expect(labels(model)).toEqual(['dataset:demo.flights']);
    const before = server.calls.length;
    await model.search('');
    expect(labels(model)).toContain('  dataset:airlines');
    expect(server.calls.length).toBe(before);
  });

  it('says when a search finds nothing', async () => {
    const model = new TreeModel(catalog().client());
    await model.search('zzz');
    expect(labels(model)).toEqual(['empty:No datasets match “zzz”']);
  });

  it('drops the answer of a search the user has already replaced', async () => {
    const slow = deferred<unknown>();
    const server = new FakeServer(path => {
      const q = new URLSearchParams(path.split('?')[1]).get('q');
      return q === 'old' ? slow.promise : { query: q, datasets: [summary('demo.new')] };
    });
    const model = new TreeModel(server.client());
    const first = model.search('old');
    await model.search('new');
    slow.resolve({ query: 'old', datasets: [summary('demo.old')] });
    await first;
    expect(labels(model)).toEqual(['dataset:demo.new']);
  });

  it('reports a failed top-level listing as the model error', async () => {
    const server = new FakeServer(() => jsonResponse({ error: { code: 'unavailable', message: 'no catalog' } }, 503));
    const model = new TreeModel(server.client());
    await model.refresh();
    expect(model.error).toBe('no catalog (HTTP 503)');
    expect(model.rows).toEqual([]);
  });
});
