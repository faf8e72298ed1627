import { Preview } from '../src/api';
import { LOADING, PagingDataModel, formatCell, isNumericType } from '../src/paging';

/** A table of `n` rows (id, label) served page by page; records what was asked. */
function table(n: number) {
  const asked: [number, number][] = [];
  const fetch = async (offset: number, limit: number): Promise<Preview> => {
    asked.push([offset, limit]);
    const rows = [];
    for (let i = offset; i < Math.min(n, offset + limit); i++) {
      rows.push([i, `row ${i}`]);
    }
    return {
      dataset: 'demo.t',
      snapshot_id: '1',
      limit,
      offset,
      columns: [
        { name: 'id', type: 'int64' },
        { name: 'label', type: 'string' }
      ],
      rows,
      row_count: rows.length
    };
  };
  return { fetch, asked };
}

describe('PagingDataModel', () => {
  it('loads the first page for columns and sizes the grid from the known row count', async () => {
    const t = table(10000);
    const model = new PagingDataModel(t.fetch, { pageSize: 100, maxRows: 1000, totalRows: 10000 });
    await model.init();
    expect(model.columnCount('body')).toBe(2);
    expect(model.data('column-header', 0, 1)).toBe('label');
    expect(model.rowCount('body')).toBe(1000);
    expect(model.data('body', 5, 1)).toBe('row 5');
    expect(t.asked).toEqual([[0, 100]]);
  });

  it('fetches only the page a cell belongs to, once, while it is loading', async () => {
    const t = table(10000);
    const model = new PagingDataModel(t.fetch, { pageSize: 100, maxRows: 1000, totalRows: 10000 });
    await model.init();
    expect(model.data('body', 750, 0)).toBe(LOADING);
    expect(model.data('body', 799, 1)).toBe(LOADING);
    await model.settled();
    expect(model.data('body', 750, 0)).toBe('750');
    expect(t.asked).toEqual([
      [0, 100],
      [700, 100]
    ]);
  });

  it('grows page by page when the row count is unknown and stops at a short page', async () => {
    const t = table(250);
    const model = new PagingDataModel(t.fetch, { pageSize: 100, maxRows: 1000, totalRows: null });
    await model.init();
    expect(model.rowCount('body')).toBe(200);
    model.data('body', 150, 0);
    await model.settled();
    expect(model.rowCount('body')).toBe(300);
    model.data('body', 250, 0);
    await model.settled();
    expect(model.rowCount('body')).toBe(250);
  });

  it('never goes past the row limit', async () => {
    const t = table(100000);
    const model = new PagingDataModel(t.fetch, { pageSize: 400, maxRows: 1000, totalRows: null });
    await model.init();
    model.data('body', 500, 0);
    await model.settled();
    model.data('body', 900, 0);
    await model.settled();
    expect(model.rowCount('body')).toBe(1000);
    expect(t.asked[t.asked.length - 1]).toEqual([800, 200]);
  });

  it('keeps a bounded number of pages in memory', async () => {
    const t = table(100000);
    const model = new PagingDataModel(t.fetch, { pageSize: 10, maxRows: 10000, totalRows: 100000, cachePages: 3 });
    await model.init();
    for (const row of [100, 200, 300, 400]) {
      model.data('body', row, 0);
      await model.settled();
    }
    expect(model.cachedPages.sort((a, b) => a - b)).toEqual([20, 30, 40]);
  });

  it('marks the cells of a failed page and keeps the error to show', async () => {
    const model = new PagingDataModel(
      async offset => {
        if (offset > 0) {
          throw new Error('boom');
        }
        const rows = Array.from({ length: 10 }, (_, i) => [i]);
        return {
          dataset: 't',
          snapshot_id: null,
          limit: 10,
          offset,
          columns: [{ name: 'id', type: 'int64' }],
          rows,
          row_count: 10
        };
      },
      { pageSize: 10, maxRows: 100, totalRows: 100 }
    );
    await model.init();
    model.data('body', 50, 0);
    await model.settled();
    expect(model.data('body', 50, 0)).toBe('!');
    expect(model.error).toBe('Error: boom');
  });

  it('formats NULLs, nested values and numbers readably', () => {
    expect(formatCell(null)).toBe('NULL');
    expect(formatCell({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatCell(1.5)).toBe('1.5');
    expect(formatCell(2013)).toBe('2013');
    expect(formatCell(336776)).toBe('336,776');
    expect(formatCell(0.1 + 0.2)).toBe('0.3');
    expect(formatCell('1234567.50', 'decimal128(12, 2)')).toBe('1,234,567.50');
    expect(isNumericType('double') && isNumericType('int64') && !isNumericType('string')).toBe(true);
  });

  it('shows the sort arrow and each column null count in a second header row', async () => {
    const t = table(10);
    const fetch = async (offset: number, limit: number): Promise<Preview> => ({
      ...(await t.fetch(offset, limit)),
      null_counts: { id: 0, label: 1234 }
    });
    const model = new PagingDataModel(fetch, {
      pageSize: 10,
      maxRows: 100,
      sort: { column: 'label', descending: true }
    });
    await model.init();
    expect(model.rowCount('column-header')).toBe(2);
    expect([model.data('column-header', 0, 0), model.data('column-header', 0, 1)]).toEqual(['id', 'label ▼']);
    expect([model.data('column-header', 1, 0), model.data('column-header', 1, 1)]).toEqual(['0 nulls', '1,234 nulls']);
  });
});
