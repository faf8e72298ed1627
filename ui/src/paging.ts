/**
 * A Lumino DataGrid model that pages through a dataset's preview: only the pages the
 * user scrolls to are fetched, and only a bounded number of them are kept in memory.
 */
import { DataModel } from '@lumino/datagrid';

import { ApiError, Preview, PreviewColumn } from './api';

/** Fetches rows [offset, offset + limit). */
export type PageFetcher = (offset: number, limit: number) => Promise<Preview>;

export interface IPagingOptions {
  pageSize: number;
  /** Never show more than this many rows (the server bounds previews too). */
  maxRows: number;
  /** Rows in the table when known (from its stats); the grid is sized from it. */
  totalRows?: number | null;
  /** Pages kept in memory at once. */
  cachePages?: number;
  /** The server's sort, shown as an arrow in its column's header. */
  sort?: { column: string; descending: boolean } | null;
}

export const LOADING = '…';

export class PagingDataModel extends DataModel {
  constructor(
    private readonly fetchPage: PageFetcher,
    options: IPagingOptions
  ) {
    super();
    this.pageSize = Math.max(1, options.pageSize);
    this.maxRows = Math.max(0, options.maxRows);
    this._cachePages = Math.max(2, options.cachePages ?? 20);
    this.sort = options.sort ?? null;
    const total = options.totalRows;
    this._rowCount = total === null || total === undefined ? this.pageSize : Math.min(total, this.maxRows);
  }

  readonly pageSize: number;
  readonly maxRows: number;
  readonly sort: { column: string; descending: boolean } | null;

  /** Nulls per column (from the first page's answer), null until known. */
  get nullCounts(): Record<string, number | null> | null {
    return this._nulls;
  }

  get columns(): readonly PreviewColumn[] {
    return this._columns;
  }

  /** The last failure, shown by the view (a failed page shows "!" cells). */
  get error(): string {
    return this._error;
  }

  /** Pages currently held. */
  get cachedPages(): number[] {
    return [...this._pages.keys()];
  }

  /** Load the first page: it tells the columns and, if short, the row count. */
  async init(): Promise<void> {
    await this._load(0);
  }

  rowCount(region: DataModel.RowRegion): number {
    // two header rows: the column's name (and sort arrow), then its null count
    return region === 'body' ? this._rowCount : 2;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === 'body' ? this._columns.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): unknown {
    if (region === 'column-header') {
      const name = this._columns[column]?.name ?? '';
      if (row === 1) {
        const n = this._nulls?.[name];
        return n === undefined || n === null ? '' : `${n.toLocaleString()} null${n === 1 ? '' : 's'}`;
      }
      const arrow = this.sort?.column === name ? (this.sort.descending ? ' ▼' : ' ▲') : '';
      return name + arrow;
    }
    if (region === 'row-header') {
      return String(row + 1);
    }
    if (region === 'corner-header') {
      return '#';
    }
    const page = Math.floor(row / this.pageSize);
    const rows = this._pages.get(page);
    if (rows === undefined) {
      if (this._failed.has(page)) {
        return '!';
      }
      void this._load(page);
      return LOADING;
    }
    this._touch(page);
    const value = rows[row - page * this.pageSize]?.[column];
    return formatCell(value, this._columns[column]?.type);
  }

  metadata(region: DataModel.CellRegion, row: number, column: number): DataModel.Metadata {
    return region === 'body' || region === 'column-header' ? { type: this._columns[column]?.type ?? '' } : {};
  }

  /** Resolves when every page requested so far has arrived (tests and screenshots). */
  async settled(): Promise<void> {
    while (this._inflight.size) {
      await Promise.all([...this._inflight.values()].map(p => p.catch(() => undefined)));
    }
  }

  private _load(page: number): Promise<void> {
    const existing = this._inflight.get(page);
    if (existing) {
      return existing;
    }
    const offset = page * this.pageSize;
    const limit = Math.min(this.pageSize, this.maxRows - offset);
    if (limit <= 0) {
      return Promise.resolve();
    }
    const p = this.fetchPage(offset, limit)
      .then(result => this._arrived(page, limit, result))
      .catch(e => {
        this._failed.add(page);
        this._error = e instanceof ApiError ? e.display : String(e);
        this.emitChanged({ type: 'model-reset' });
      })
      .finally(() => this._inflight.delete(page));
    this._inflight.set(page, p);
    return p;
  }

  private _arrived(page: number, limit: number, result: Preview): void {
    const offset = page * this.pageSize;
    const reset = this._columns.length === 0 && result.columns.length > 0;
    if (reset) {
      this._columns = result.columns;
    }
    if (result.null_counts && !this._nulls) {
      this._nulls = result.null_counts;
      this.emitChanged({ type: 'model-reset' });
    }
    this._pages.set(page, result.rows);
    this._touch(page);
    this._evict();
    // a short page ends the table; a full last page opens the next one
    let count = this._rowCount;
    if (result.rows.length < limit) {
      count = offset + result.rows.length;
    } else if (offset + limit >= this._rowCount) {
      count = Math.min(this.maxRows, offset + limit + this.pageSize);
    }
    if (reset || count !== this._rowCount) {
      this._rowCount = count;
      this.emitChanged({ type: 'model-reset' });
      return;
    }
    this.emitChanged({
      type: 'cells-changed',
      region: 'body',
      row: offset,
      column: 0,
      rowSpan: Math.min(result.rows.length, this._rowCount - offset),
      columnSpan: this._columns.length
    });
  }

  private _touch(page: number): void {
    // Map keeps insertion order: re-inserting marks the page as most recently used
    const rows = this._pages.get(page);
    if (rows !== undefined && this._pages.size > 1) {
      this._pages.delete(page);
      this._pages.set(page, rows);
    }
  }

  private _evict(): void {
    while (this._pages.size > this._cachePages) {
      const oldest = this._pages.keys().next().value as number;
      this._pages.delete(oldest);
    }
  }

  private _columns: PreviewColumn[] = [];
  private _rowCount: number;
  private _pages = new Map<number, unknown[][]>();
  private _inflight = new Map<number, Promise<void>>();
  private _failed = new Set<number>();
  private _cachePages: number;
  private _error = '';
  private _nulls: Record<string, number | null> | null = null;
}

const NUMERIC = /^(u?int|float|double|halffloat|decimal)/;

/** Whether an Arrow type (as the preview names it) holds numbers: shown right-aligned. */
export function isNumericType(type: string | undefined): boolean {
  return NUMERIC.test(type ?? '');
}

/**
 * Cell text: null shown as NULL, nested values as compact JSON, numbers readable: thousands
 * grouped from five digits on (a year stays 2013), fractions to at most 6 places.
 */
export function formatCell(value: unknown, type?: string): string {
  if (value === null || value === undefined) {
    return 'NULL';
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    const grouping = Math.abs(value) >= 10000;
    return value.toLocaleString('en-US', { maximumFractionDigits: 6, useGrouping: grouping });
  }
  if (typeof value === 'string' && type?.startsWith('decimal') && /^-?\d+(\.\d+)?$/.test(value)) {
    const [whole, frac] = value.split('.');
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return Math.abs(Number(whole)) >= 10000 ? (frac ? `${grouped}.${frac}` : grouped) : value;
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}
