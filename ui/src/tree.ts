/**
 * The sidebar's tree as data: namespaces -> datasets -> columns, loaded level by level,
 * flattened into the rows a windowed list draws. No DOM here, so it is unit-tested alone.
 *
 * Two modes: browsing (the tree) and searching (a flat list of matching datasets whose
 * columns can still be expanded). Responses that arrive after the user moved on (a newer
 * search, a refresh) are dropped by generation counters.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, DatasetKind, DatasetSummary, Field, ISearchFilters, LakelabClient, Namespace } from './api';

export type RowKind = 'namespace' | 'dataset' | 'column' | 'more' | 'loading' | 'error' | 'empty';

export interface ITreeRow {
  /** Stable across reloads: used as the DOM key and in tests. */
  key: string;
  kind: RowKind;
  depth: number;
  label: string;
  detail: string;
  expandable: boolean;
  expanded: boolean;
  namespace?: Namespace;
  dataset?: DatasetSummary;
  field?: Field;
  /** For 'more' rows: the namespace whose next page to load. */
  owner?: NamespaceNode;
}

type LoadState = 'idle' | 'loading' | 'loaded' | 'error';

export class DatasetNode {
  expanded = false;
  state: LoadState = 'idle';
  columns: Field[] = [];
  error = '';
  constructor(readonly summary: DatasetSummary) {}
}

export class NamespaceNode {
  expanded = false;
  state: LoadState = 'idle';
  children: NamespaceNode[] = [];
  datasets: DatasetNode[] = [];
  nextPageToken: string | null = null;
  loadingMore = false;
  error = '';
  constructor(readonly info: Namespace) {}
}

export interface ITreeOptions {
  pageSize?: number;
  hiddenNamespaces?: string[];
}

function message(e: unknown): string {
  return e instanceof ApiError ? e.display : String(e);
}

const KINDS: DatasetKind[] = ['table', 'model', 'report', 'dashboard'];

function isKind(word: string): word is DatasetKind {
  return (KINDS as string[]).includes(word);
}

/**
 * A search box query: `kind:model`, `owner:ana` and `tag:ml` tokens become the API's
 * filters, the rest is the free text (`churn kind:report` finds reports about churn); a
 * `kind:` that names no kind stays in the text.
 */
export function parseSearch(query: string): { text: string; filters: ISearchFilters } {
  const filters: ISearchFilters = {};
  const words: string[] = [];
  for (const word of query.split(/\s+/).filter(Boolean)) {
    const m = /^(kind|owner|tag):(.+)$/i.exec(word);
    const key = m?.[1].toLowerCase();
    const kind = m?.[2].toLowerCase() ?? '';
    if (key === 'kind' && isKind(kind)) {
      filters.kind = kind;
    } else if (m && (key === 'owner' || key === 'tag')) {
      filters[key] = m[2];
    } else {
      words.push(word);
    }
  }
  return { text: words.join(' '), filters };
}

export class TreeModel {
  constructor(
    private readonly client: LakelabClient,
    options: ITreeOptions = {}
  ) {
    this.pageSize = options.pageSize ?? 200;
    this._hidden = new Set(options.hiddenNamespaces ?? []);
  }

  /** Datasets fetched per page when a namespace opens (a setting). */
  pageSize: number;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get query(): string {
    return this._query;
  }

  /** Top-level error (the root listing or the search failed). */
  get error(): string {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  get rows(): readonly ITreeRow[] {
    if (this._rows === null) {
      this._rows = this._flatten();
    }
    return this._rows;
  }

  set hiddenNamespaces(names: string[]) {
    this._hidden = new Set(names);
    this._emit();
  }

  /**
   * (Re)load what is shown. The namespaces and datasets that were expanded are reloaded
   * expanded, and the new tree replaces the old one only when it is complete, so a refresh
   * (the button, or the catalog changing) keeps the user's place without a "Loading…" flash.
   */
  async refresh(): Promise<void> {
    const gen = ++this._generation;
    const open = this._expandedNames();
    const first = this._query ? false : this._roots === null;
    this._error = '';
    if (first || this._loading) {
      this._loading = true; // a first load or a new search: say so while it runs
      this._emit();
    }
    try {
      if (this._query) {
        const { text, filters } = parseSearch(this._query);
        const found = (await this.client.search(text, filters)).map(s => new DatasetNode(s));
        await this._reopen([], found, open);
        if (gen !== this._generation) {
          return;
        }
        this._results = found;
      } else {
        const roots = (await this.client.namespaces()).map(n => new NamespaceNode(n));
        await this._reopen(roots, [], open);
        if (gen !== this._generation) {
          return;
        }
        this._roots = roots;
      }
    } catch (e) {
      if (gen !== this._generation) {
        return;
      }
      this._error = message(e);
    }
    this._loading = false;
    this._emit();
  }

  /** The namespaces and datasets now expanded (by name). */
  private _expandedNames(): Set<string> {
    const open = new Set<string>();
    const walk = (n: NamespaceNode) => {
      if (n.expanded) {
        open.add(`n:${n.info.name}`);
        n.children.forEach(walk);
        n.datasets.filter(d => d.expanded).forEach(d => open.add(`d:${d.summary.name}`));
      }
    };
    (this._roots ?? []).forEach(walk);
    this._results.filter(d => d.expanded).forEach(d => open.add(`d:${d.summary.name}`));
    return open;
  }

  /** Expand and load, in fresh nodes, what `open` names (without drawing anything yet). */
  private async _reopen(namespaces: NamespaceNode[], datasets: DatasetNode[], open: Set<string>): Promise<void> {
    const work: Promise<void>[] = [];
    for (const n of namespaces.filter(n => open.has(`n:${n.info.name}`))) {
      n.expanded = true;
      work.push(this._fetchNamespace(n).then(() => this._reopen(n.children, n.datasets, open)));
    }
    for (const d of datasets.filter(d => open.has(`d:${d.summary.name}`))) {
      d.expanded = true;
      work.push(this._fetchColumns(d));
    }
    await Promise.all(work);
  }
  /** Switch to search results for `query` (empty: back to the tree). */
  async search(query: string): Promise<void> {
    const q = query.trim();
    if (q === this._query) {
      return;
    }
    this._query = q;
    this._results = [];
    this._loading = !!q;
    if (!q) {
      // back to the tree as it was, or load it if it never was
      this._generation++;
      this._loading = false;
      this._error = '';
      if (this._roots === null) {
        return this.refresh();
      }
      this._emit();
      return;
    }
    return this.refresh();
  }

  async toggleNamespace(node: NamespaceNode): Promise<void> {
    node.expanded = !node.expanded;
    this._emit();
    if (node.expanded && (node.state === 'idle' || node.state === 'error')) {
      await this._loadNamespace(node);
    }
  }

  async toggleDataset(node: DatasetNode): Promise<void> {
    node.expanded = !node.expanded;
    this._emit();
    if (node.expanded && (node.state === 'idle' || node.state === 'error')) {
      node.state = 'loading';
      this._emit();
      const gen = this._generation;
      await this._fetchColumns(node);
      if (gen === this._generation) {
        this._emit();
      }
    }
  }

  private async _fetchColumns(node: DatasetNode): Promise<void> {
    try {
      node.columns = (await this.client.dataset(node.summary.name)).schema;
      node.state = 'loaded';
    } catch (e) {
      node.error = message(e);
      node.state = 'error';
    }
  }

  /** Fetch the next page of a namespace's datasets (the "load more" row). */
  async loadMore(node: NamespaceNode): Promise<void> {
    if (!node.nextPageToken || node.loadingMore) {
      return;
    }
    node.loadingMore = true;
    this._emit();
    try {
      const page = await this.client.datasets(node.info.name, node.nextPageToken, this.pageSize);
      node.datasets.push(...page.datasets.map(s => new DatasetNode(s)));
      node.nextPageToken = page.next_page_token;
    } catch (e) {
      node.error = message(e);
    }
    node.loadingMore = false;
    this._emit();
  }

  activate(row: ITreeRow): Promise<void> {
    switch (row.kind) {
      case 'namespace':
        return this.toggleNamespace(this._nsNode(row)!);
      case 'dataset':
        return this.toggleDataset(this._dsNode(row)!);
      case 'more':
        return row.owner ? this.loadMore(row.owner) : Promise.resolve();
      default:
        return Promise.resolve();
    }
  }

  private async _loadNamespace(node: NamespaceNode): Promise<void> {
    node.state = 'loading';
    node.error = '';
    this._emit();
    const gen = this._generation;
    await this._fetchNamespace(node);
    if (gen === this._generation) {
      this._emit();
    }
  }

  /** A namespace's children and first page of datasets, into the node (nothing drawn). */
  private async _fetchNamespace(node: NamespaceNode): Promise<void> {
    try {
      const [children, page] = await Promise.all([
        node.info.has_children ? this.client.namespaces(node.info.name) : Promise.resolve([]),
        this.client.datasets(node.info.name, null, this.pageSize)
      ]);
      node.children = children.map(n => new NamespaceNode(n));
      node.datasets = page.datasets.map(s => new DatasetNode(s));
      node.nextPageToken = page.next_page_token;
      node.state = 'loaded';
    } catch (e) {
      node.error = message(e);
      node.state = 'error';
    }
  }

  private _nsNode(row: ITreeRow): NamespaceNode | null {
    return this._nsIndex.get(row.key) ?? null;
  }

  private _dsNode(row: ITreeRow): DatasetNode | null {
    return this._dsIndex.get(row.key) ?? null;
  }

  private _isHidden(ns: string): boolean {
    for (const h of this._hidden) {
      if (ns === h || ns.startsWith(`${h}.`)) {
        return true;
      }
    }
    return false;
  }

  private _flatten(): ITreeRow[] {
    const rows: ITreeRow[] = [];
    this._nsIndex.clear();
    this._dsIndex.clear();
    const status = (key: string, kind: RowKind, depth: number, label: string) =>
      rows.push({ key, kind, depth, label, detail: '', expandable: false, expanded: false });

    const dataset = (d: DatasetNode, depth: number, prefix: string) => {
      const key = `${prefix}d:${d.summary.name}`;
      this._dsIndex.set(key, d);
      rows.push({
        key,
        kind: 'dataset',
        depth,
        label: this._query ? d.summary.name : d.summary.table,
        detail: d.summary.description ?? '',
        expandable: true,
        expanded: d.expanded,
        dataset: d.summary
      });
      if (!d.expanded) {
        return;
      }
      if (d.state === 'loading') {
        status(`${key}/loading`, 'loading', depth + 1, 'Loading columns…');
      } else if (d.state === 'error') {
        status(`${key}/error`, 'error', depth + 1, d.error);
      } else {
        for (const f of d.columns) {
          rows.push({
            key: `${key}/c:${f.name}`,
            kind: 'column',
            depth: depth + 1,
            label: f.name,
            detail: f.type,
            expandable: false,
            expanded: false,
            field: f,
            dataset: d.summary
          });
        }
      }
    };

    const namespace = (n: NamespaceNode, depth: number) => {
      if (this._isHidden(n.info.name)) {
        return;
      }
      const key = `n:${n.info.name}`;
      this._nsIndex.set(key, n);
      rows.push({
        key,
        kind: 'namespace',
        depth,
        label: n.info.parts[n.info.parts.length - 1] ?? n.info.name,
        detail: String(n.info.datasets),
        expandable: true,
        expanded: n.expanded,
        namespace: n.info
      });
      if (!n.expanded) {
        return;
      }
      if (n.state === 'loading') {
        status(`${key}/loading`, 'loading', depth + 1, 'Loading…');
        return;
      }
      if (n.state === 'error') {
        status(`${key}/error`, 'error', depth + 1, n.error);
        return;
      }
      n.children.forEach(c => namespace(c, depth + 1));
      n.datasets.forEach(d => dataset(d, depth + 1, ''));
      if (n.children.length === 0 && n.datasets.length === 0) {
        status(`${key}/empty`, 'empty', depth + 1, 'No datasets');
      }
      if (n.nextPageToken) {
        rows.push({
          key: `${key}/more`,
          kind: 'more',
          depth: depth + 1,
          label: n.loadingMore ? 'Loading…' : 'Load more…',
          detail: '',
          expandable: false,
          expanded: false,
          owner: n
        });
      } else if (n.loadingMore) {
        status(`${key}/loading`, 'loading', depth + 1, 'Loading…');
      }
    };

    if (this._query) {
      this._results.filter(d => !this._isHidden(d.summary.namespace)).forEach(d => dataset(d, 0, 's:'));
      if (!this._loading && !this._error && rows.length === 0) {
        status('s:/empty', 'empty', 0, `No datasets match “${this._query}”`);
      }
    } else if (this._roots) {
      this._roots.forEach(n => namespace(n, 0));
      if (!this._loading && !this._error && rows.length === 0) {
        status('n:/empty', 'empty', 0, 'The lakehouse has no datasets yet. Try `lakelab demo`.');
      }
    }
    return rows;
  }

  private _emit(): void {
    this._rows = null;
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _roots: NamespaceNode[] | null = null;
  private _results: DatasetNode[] = [];
  private _query = '';
  private _error = '';
  private _loading = false;
  private _generation = 0;
  private _hidden: Set<string>;
  private _rows: ITreeRow[] | null = null;
  private _nsIndex = new Map<string, NamespaceNode>();
  private _dsIndex = new Map<string, DatasetNode>();
}
