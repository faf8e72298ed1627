/**
 * The dataset view: about (editable description/owner/tags), stats, schema, snapshots
 * (pick one to preview it: time travel), versions of a model or report, the lineage graph
 * (several hops up and down, each node opens its dataset) and a paged preview grid.
 */
import { dashboardSection, DashboardMode } from './dashboard';
import { DataGrid, TextRenderer } from '@lumino/datagrid';
import { ISignal, Signal } from '@lumino/signaling';
import { BoxPanel, SplitPanel, Widget } from '@lumino/widgets';

import { ApiError, DatasetDetail, DatasetKind, Field, LakelabClient, LineageGraph, Snapshot } from './api';
import { el } from './dom';
import { insightsSection } from './insights';
import { kindIcon } from './icons';
import { drawLineage } from './lineageGraph';
import { layoutLineage } from './lineageLayout';
import { PagingDataModel } from './paging';
import { GridSort, gridRenderers, nextSort, previewGrid } from './previewGrid';
import { madeBy, provenanceDetails } from './provenance';
import { versionsTable } from './versions';
import { formatBytes } from './text';

export interface IDatasetViewOptions {
  client: LakelabClient;
  name: string;
  pageSize: number;
  maxRows: number;
}

/** What the view asks its host to do (open another dataset, insert a query…). */
export type DatasetAction = {
  action: 'open' | 'query' | 'copy-select' | 'open-report' | 'open-dashboard';
  name: string;
  version?: number;
  mode?: DashboardMode;
};

/** Hops of lineage drawn up and down (the depth selector's choices). */
export const LINEAGE_DEPTHS = [1, 2, 3];
export const DEFAULT_LINEAGE_DEPTH = 2;
// kinds are looked up per node for their icons: bounded, a huge graph draws the rest as tables
const MAX_KIND_LOOKUPS = 40;

function when(ms: number | null): string {
  return ms ? new Date(ms).toLocaleString() : '–';
}

function errText(e: unknown): string {
  return e instanceof ApiError ? e.display : String(e);
}

/** The grid's colours come from the theme's CSS variables, read again on theme change. */
export function themedGridStyle(): { style: DataGrid.Style; text: TextRenderer; header: TextRenderer } {
  const css = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const font = `${v('--jp-code-font-size', '13px')} ${v('--jp-code-font-family', 'monospace')}`;
  const style: DataGrid.Style = {
    ...DataGrid.defaultStyle,
    voidColor: v('--jp-layout-color0', '#fff'),
    backgroundColor: v('--jp-layout-color0', '#fff'),
    rowBackgroundColor: i => (i % 2 === 0 ? v('--jp-layout-color0', '#fff') : v('--jp-layout-color1', '#fafafa')),
    gridLineColor: v('--jp-border-color3', '#eee'),
    headerBackgroundColor: v('--jp-layout-color2', '#eee'),
    headerGridLineColor: v('--jp-border-color2', '#ddd'),
    selectionFillColor: 'rgba(33, 150, 243, 0.2)'
  };
  const text = new TextRenderer({ textColor: v('--jp-content-font-color1', '#000'), font });
  const header = new TextRenderer({
    textColor: v('--jp-ui-font-color1', '#000'),
    font: `bold ${font}`
  });
  return { style, text, header };
}

export class DatasetView extends SplitPanel {
  constructor(private readonly options: IDatasetViewOptions) {
    super({ orientation: 'vertical', spacing: 4 });
    this.addClass('jp-lakelab-dataset');
    this.id = `lakelab-dataset-${options.name}`;
    this.title.label = options.name;
    this.title.caption = `Dataset ${options.name}`;
    this.title.closable = true;

    this._info = new Widget();
    this._info.addClass('jp-lakelab-info');
    this._previewPanel = new BoxPanel({ direction: 'top-to-bottom', spacing: 0 });
    this._previewPanel.addClass('jp-lakelab-preview');
    this._previewHeader = new Widget({ node: el('div', 'jp-lakelab-preview-header') });
    this._grid = previewGrid(column => this._sortBy(column));
    this._previewPanel.addWidget(this._previewHeader);
    this._previewPanel.addWidget(this._grid);
    BoxPanel.setStretch(this._previewHeader, 0);
    BoxPanel.setSizeBasis(this._previewHeader, 28);
    BoxPanel.setStretch(this._grid, 1);
    this.addWidget(this._info);
    this.addWidget(this._previewPanel);
    this.setRelativeSizes([1, 1]);
    this.applyTheme();
  }

  get name(): string {
    return this.options.name;
  }

  get actionRequested(): ISignal<this, DatasetAction> {
    return this._action;
  }

  get detail(): DatasetDetail | null {
    return this._detail;
  }

  /** The preview's data model (null until the first page arrived). */
  get previewModel(): PagingDataModel | null {
    return this._model;
  }

  applyTheme(): void {
    const { style, text, header } = themedGridStyle();
    this._grid.style = style;
    const r = gridRenderers(text.textColor as string, header.textColor as string, text.font as string);
    this._grid.cellRenderers.update({
      body: r.body,
      'column-header': r.columnHeader,
      'row-header': r.header,
      'corner-header': r.header
    });
  }

  /** The server-side sort of the preview (null: the table's own order). */
  get sort(): GridSort {
    return this._sort;
  }

  /** A header click: sort by that column on the server (again: descending; a third time: unsorted). */
  private _sortBy(column: number): void {
    const name = this._model?.columns[column]?.name;
    if (name !== undefined) {
      this._sort = nextSort(this._sort, name);
      void this.preview(this._snapshotId);
    }
  }

  /** Load everything; each part fails on its own and says so where it would be. */
  async load(): Promise<void> {
    const { client, name } = this.options;
    this._info.node.textContent = '';
    this._info.node.appendChild(el('div', 'jp-lakelab-loading', `Loading ${name}…`));
    try {
      this._detail = await client.dataset(name);
    } catch (e) {
      this._info.node.textContent = '';
      const box = el('div', 'jp-lakelab-error', `Could not load dataset ${name}: ${errText(e)}`);
      box.setAttribute('role', 'alert');
      this._info.node.appendChild(box);
      // no grid at all rather than an empty one that looks like an empty table
      this._previewPanel.hide();
      return;
    }
    this._previewPanel.show();
    this._renderInfo();
    const [snapshots] = await Promise.allSettled([client.snapshots(name), this.loadLineage(this._lineageDepth)]);
    this._renderSnapshots(snapshots.status === 'fulfilled' ? snapshots.value : errText(snapshots.reason));
    await this.preview(null);
  }

  /** Preview the current snapshot (null) or an older one (time travel). */
  async preview(snapshotId: string | null): Promise<void> {
    const { client, name, pageSize, maxRows } = this.options;
    if (snapshotId !== this._snapshotId) {
      this._sort = null; // another snapshot starts in its own order
    }
    this._snapshotId = snapshotId;
    const current = snapshotId === null || snapshotId === this._detail?.stats.current_snapshot_id;
    const snap = this._snapshots.find(s => s.snapshot_id === snapshotId);
    const total = current ? this._detail?.stats.row_count : snap ? Number(snap.summary['total-records'] ?? NaN) : null;
    const sort = this._sort;
    // every page is read at its offset on the server (sorted there); the first brings null counts
    const fetch = (offset: number, limit: number) =>
      client.preview(name, { limit, offset, snapshotId, sort, nullCounts: offset === 0 });
    const model = new PagingDataModel(fetch, {
      pageSize,
      maxRows,
      totalRows: Number.isFinite(total) ? total : null,
      sort
    });
    this._model = model;
    this._setPreviewHeader(
      current ? 'current snapshot' : `snapshot ${snapshotId} (${when(snap?.timestamp_ms ?? null)})`,
      ''
    );
    this._highlightSnapshot();
    await model.init();
    if (this._model !== model) {
      return;
    }
    const widths = this._grid.dataModel === null ? null : this._columnWidths();
    this._grid.dataModel = model;
    if (widths) {
      widths.forEach((w, i) => this._grid.resizeColumn('body', i, w)); // a re-sort keeps the user's widths
    } else {
      this._grid.fitColumnNames('body', 24);
    }
    const rows = model.rowCount('body');
    const more =
      this._detail && total !== null && total !== undefined && total > rows ? ` of ${total.toLocaleString()}` : '';
    this._setPreviewHeader(
      current ? 'current snapshot' : `snapshot ${snapshotId} (${when(snap?.timestamp_ms ?? null)}) — time travel`,
      model.error
        ? `Preview failed: ${model.error}`
        : `${rows.toLocaleString()}${more} ${rows === 1 && !more ? 'row' : 'rows'}`
    );
    model.changed.connect(() => {
      if (model.error && this._model === model) {
        this._setPreviewHeader('', `Preview failed: ${model.error}`);
      }
    });
  }

  private _columnWidths(): number[] {
    const n = this._grid.dataModel?.columnCount('body') ?? 0;
    return Array.from({ length: n }, (_, i) => this._grid.columnSize('body', i));
  }

  private _setPreviewHeader(what: string, status: string): void {
    const node = this._previewHeader.node;
    if (what) {
      node.textContent = '';
      node.append(el('span', 'jp-lakelab-preview-title', `Preview — ${what}`));
      node.append(el('span', 'jp-lakelab-preview-status'));
    }
    const s = node.querySelector('.jp-lakelab-preview-status') as HTMLElement;
    s.textContent = status;
    s.classList.toggle('jp-lakelab-error', status.startsWith('Preview failed'));
    if (status.startsWith('Preview failed')) {
      s.setAttribute('role', 'alert');
    }
  }

  private _renderInfo(): void {
    const d = this._detail!;
    const root = this._info.node;
    root.textContent = '';

    const head = el('div', 'jp-lakelab-dataset-head');
    const icon = el('span', 'jp-lakelab-dataset-icon');
    kindIcon(d.kind).element({ container: icon });
    head.append(
      icon,
      el('h2', 'jp-lakelab-dataset-name', d.name),
      el('span', `jp-lakelab-badge jp-lakelab-kind-${d.kind}`, d.kind)
    );
    const actions = el('span', 'jp-lakelab-actions');
    const button = (label: string, action: DatasetAction['action'], cls: string) => {
      const b = el('button', `jp-mod-styled jp-lakelab-button ${cls}`, label);
      b.addEventListener('click', () => this._action.emit({ action, name: d.name }));
      return b;
    };
    const versions = d.versions ?? [];
    if (d.kind === 'report' && versions.length) {
      actions.append(button('Open report', 'open-report', 'jp-mod-accept jp-lakelab-open-report'));
    }
    actions.append(
      button('Query in notebook', 'query', `${d.kind === 'report' ? '' : 'jp-mod-accept '}jp-lakelab-query`),
      button('Copy SELECT', 'copy-select', 'jp-lakelab-copy-select')
    );
    const reload = el('button', 'jp-mod-styled jp-lakelab-button jp-lakelab-reload', 'Reload');
    reload.addEventListener('click', () => void this.load());
    actions.append(reload);
    head.append(actions);
    root.append(head);

    root.append(this._aboutSection(d));
    if (d.kind === 'dashboard') {
      const open = (mode: DashboardMode) => this._action.emit({ action: 'open-dashboard', name: d.name, mode });
      root.append(this._section('Dashboard', dashboardSection(d.name, open), 'jp-lakelab-dashboard-section'));
    }

    const stats = el('div', 'jp-lakelab-stats');
    const stat = (label: string, value: string) => {
      const s = el('div', 'jp-lakelab-stat');
      s.append(el('div', 'jp-lakelab-stat-value', value), el('div', 'jp-lakelab-stat-label', label));
      stats.append(s);
    };
    if (d.kind !== 'table') {
      stat('versions', versions.length.toLocaleString());
    } else {
      stat('rows', d.stats.row_count.toLocaleString());
    }
    stat('files', d.stats.file_count.toLocaleString());
    stat('size', formatBytes(d.stats.total_bytes));
    stat('last update', when(d.stats.last_updated_ms));
    root.append(this._section('Stats', stats));

    if (d.kind !== 'table') {
      root.append(
        this._section(
          'Versions',
          versionsTable(d, v =>
            this._action.emit({
              action: d.kind === 'dashboard' ? 'open-dashboard' : 'open-report',
              name: d.name,
              version: v
            })
          ),
          'jp-lakelab-versions'
        )
      );
    }
    root.append(this._section('Schema', this._schemaTable(d.schema), 'jp-lakelab-schema'));
    if (d.partition_spec.length) {
      root.append(
        this._section(
          'Partitioning',
          el(
            'div',
            'jp-lakelab-partitioning',
            d.partition_spec.map(p => `${p.transform}(${p.source ?? p.name})`).join(', ')
          )
        )
      );
    }
    this._snapshotsBox = el('div', 'jp-lakelab-snapshots', 'Loading snapshots…');
    root.append(this._section('Snapshots', this._snapshotsBox));
    this._lineageBox = el('div', 'jp-lakelab-lineage', 'Loading lineage…');
    const lineage = this._section('Lineage', this._lineageBox, 'jp-lakelab-lineage-section');
    const depth = el('select', 'jp-lakelab-lineage-depth');
    depth.setAttribute('aria-label', 'Lineage depth (hops)');
    for (const n of LINEAGE_DEPTHS) {
      const o = el('option', '', `${n} ${n === 1 ? 'hop' : 'hops'}`);
      o.value = String(n);
      o.selected = n === this._lineageDepth;
      depth.append(o);
    }
    depth.addEventListener('change', () => void this.loadLineage(Number(depth.value)));
    lineage.firstElementChild!.append(depth);
    root.append(lineage);
    root.append(insightsSection(this.options.client, d.name));
  }

  private _section(title: string, body: HTMLElement, cls = ''): HTMLElement {
    const s = el('section', `jp-lakelab-section ${cls}`);
    s.append(el('h3', '', title), body);
    return s;
  }

  private _aboutSection(d: DatasetDetail): HTMLElement {
    const form = el('form', 'jp-lakelab-about');
    const field = (label: string, input: HTMLInputElement | HTMLTextAreaElement, name: string) => {
      const row = el('label', 'jp-lakelab-field');
      input.name = name;
      input.classList.add('jp-mod-styled');
      row.append(el('span', 'jp-lakelab-field-label', label), input);
      form.append(row);
      return input;
    };
    const desc = field('Description', el('textarea'), 'description') as HTMLTextAreaElement;
    desc.rows = 2;
    desc.value = d.description ?? '';
    const owner = field('Owner', el('input'), 'owner') as HTMLInputElement;
    owner.value = d.owner ?? '';
    const tags = field('Tags', el('input'), 'tags') as HTMLInputElement;
    tags.value = d.tags.join(', ');
    tags.placeholder = 'comma, separated, tags';
    const save = el('button', 'jp-mod-styled jp-mod-accept jp-lakelab-save', 'Save');
    save.type = 'submit';
    save.disabled = true;
    const status = el('span', 'jp-lakelab-save-status');
    const bar = el('div', 'jp-lakelab-about-bar');
    bar.append(save, status);
    form.append(bar);
    form.addEventListener('input', () => {
      save.disabled = false;
      status.textContent = '';
    });
    form.addEventListener('submit', async e => {
      e.preventDefault();
      save.disabled = true;
      status.className = 'jp-lakelab-save-status';
      status.textContent = 'Saving…';
      try {
        const updated = await this.options.client.updateMetadata(d.name, {
          description: desc.value,
          owner: owner.value,
          tags: tags.value
            .split(',')
            .map(t => t.trim())
            .filter(Boolean)
        });
        this._detail = { ...this._detail!, description: updated.description, owner: updated.owner, tags: updated.tags };
        tags.value = updated.tags.join(', ');
        status.textContent = 'Saved (recorded as a catalog commit)';
      } catch (err) {
        save.disabled = false;
        status.classList.add('jp-lakelab-error');
        status.setAttribute('role', 'alert');
        status.textContent = `Not saved: ${errText(err)}`;
      }
    });
    return this._section('About', form);
  }

  private _schemaTable(fields: Field[]): HTMLElement {
    const table = el('table', 'jp-lakelab-table');
    const head = el('tr');
    for (const h of ['id', 'column', 'type', 'required', 'doc']) {
      head.append(el('th', '', h));
    }
    table.append(el('thead'), el('tbody'));
    table.tHead!.append(head);
    const add = (f: Field, depth: number) => {
      const tr = el('tr', 'jp-lakelab-schema-row');
      tr.dataset.column = f.name;
      const name = el('td', 'jp-lakelab-col-name', f.name);
      name.style.paddingLeft = `${4 + depth * 14}px`;
      tr.append(
        el('td', 'jp-lakelab-col-id', String(f.id)),
        name,
        el('td', 'jp-lakelab-col-type', f.type),
        el('td', '', f.required ? 'yes' : ''),
        el('td', 'jp-lakelab-col-doc', f.doc ?? '')
      );
      table.tBodies[0].append(tr);
      f.fields?.forEach(c => add(c, depth + 1));
    };
    fields.forEach(f => add(f, 0));
    return table;
  }

  private _renderSnapshots(snaps: Snapshot[] | string): void {
    const box = this._snapshotsBox!;
    box.textContent = '';
    if (typeof snaps === 'string') {
      box.append(el('div', 'jp-lakelab-error', `Could not load snapshots: ${snaps}`));
      return;
    }
    this._snapshots = snaps;
    if (!snaps.length) {
      box.textContent = 'No snapshots: the table is empty.';
      return;
    }
    const table = el('table', 'jp-lakelab-table');
    const head = el('tr');
    for (const h of ['', 'committed', 'snapshot id', 'operation', 'made by', 'rows', '']) {
      head.append(el('th', '', h));
    }
    table.append(el('thead'), el('tbody'));
    table.tHead!.append(head);
    for (const s of snaps) {
      const tr = el('tr', 'jp-lakelab-snapshot');
      tr.dataset.snapshotId = s.snapshot_id;
      const btn = el('button', 'jp-mod-styled jp-lakelab-button jp-lakelab-preview-snapshot', 'Preview');
      btn.title = s.current ? 'Preview the current snapshot' : 'Preview the table as it was at this snapshot';
      btn.addEventListener('click', () => void this.preview(s.current ? null : s.snapshot_id));
      const details = el('tr', 'jp-lakelab-snapshot-details');
      details.hidden = true;
      const cell = el('td');
      cell.colSpan = 7;
      cell.append(provenanceDetails(s, other => this._action.emit({ action: 'open', name: other })));
      details.append(cell);
      const toggle = el('button', 'jp-mod-styled jp-lakelab-button jp-lakelab-snapshot-toggle', '▸');
      toggle.title = 'What made this snapshot: SQL, notebook and cell, user, engine, upstream datasets';
      toggle.setAttribute('aria-expanded', 'false');
      toggle.addEventListener('click', () => {
        details.hidden = !details.hidden;
        toggle.textContent = details.hidden ? '▸' : '▾';
        toggle.setAttribute('aria-expanded', String(!details.hidden));
      });
      const mark = el('td', 'jp-lakelab-snapshot-mark', s.current ? 'current' : '');
      mark.prepend(toggle);
      tr.append(
        mark,
        el('td', '', when(s.timestamp_ms)),
        el('td', 'jp-lakelab-mono', s.snapshot_id),
        el('td', '', s.operation ?? ''),
        el('td', 'jp-lakelab-snapshot-made-by', madeBy(s)),
        el('td', '', s.summary['total-records'] ? Number(s.summary['total-records']).toLocaleString() : ''),
        el('td', '', '')
      );
      tr.lastElementChild!.append(btn);
      table.tBodies[0].append(tr, details);
    }
    box.append(table);
    this._highlightSnapshot();
  }

  private _highlightSnapshot(): void {
    const current = this._snapshots.find(s => s.current)?.snapshot_id ?? null;
    const shown = this._snapshotId ?? current;
    this._snapshotsBox?.querySelectorAll<HTMLElement>('.jp-lakelab-snapshot').forEach(tr => {
      tr.classList.toggle('jp-mod-selected', tr.dataset.snapshotId === shown);
    });
  }

  /** Fetch and draw the lineage graph `depth` hops up and down. */
  async loadLineage(depth: number): Promise<void> {
    const { client, name } = this.options;
    this._lineageDepth = depth;
    const ticket = ++this._lineageTicket;
    let graph: LineageGraph;
    try {
      graph = await client.lineageGraph(name, depth);
    } catch (e) {
      if (ticket === this._lineageTicket) {
        this._renderLineage(errText(e));
      }
      return;
    }
    const kinds = new Map<string, DatasetKind>();
    if (this._detail) {
      kinds.set(name, this._detail.kind);
    }
    const others = graph.nodes
      .filter(n => n.type === 'dataset' && n.exists && n.id !== name)
      .slice(0, MAX_KIND_LOOKUPS);
    const found = await Promise.allSettled(others.map(n => client.dataset(n.id)));
    found.forEach((r, i) => r.status === 'fulfilled' && kinds.set(others[i].id, r.value.kind));
    if (ticket === this._lineageTicket) {
      this._graph = graph;
      this._kinds = kinds;
      this._expanded = new Set();
      this._renderLineage(graph, kinds);
    }
  }

  /** Grow the drawn graph by one hop around `other` (its ⊕ button), without leaving the view. */
  async expandLineage(other: string): Promise<void> {
    const ticket = this._lineageTicket;
    const base = this._graph;
    if (!base) {
      return;
    }
    let more: LineageGraph;
    try {
      more = await this.options.client.lineageGraph(other, 1);
    } catch (e) {
      this._renderLineage(errText(e));
      return;
    }
    if (ticket !== this._lineageTicket) {
      return;
    }
    const nodes = new Map(base.nodes.map(n => [n.id, n]));
    for (const n of more.nodes) {
      if (!nodes.has(n.id)) {
        nodes.set(n.id, { ...n, direction: n.direction === 'self' ? 'upstream' : n.direction });
      }
    }
    const key = (e: LineageGraph['edges'][number]) => `${e.source}\u0000${e.target}`;
    const edges = new Map(base.edges.map(e => [key(e), e]));
    more.edges.forEach(e => edges.has(key(e)) || edges.set(key(e), e));
    this._expanded.add(other);
    this._graph = { ...base, nodes: [...nodes.values()], edges: [...edges.values()] };
    this._renderLineage(this._graph, this._kinds);
  }

  private _renderLineage(graph: LineageGraph | string, kinds = new Map<string, DatasetKind>()): void {
    const box = this._lineageBox;
    if (!box) {
      return;
    }
    box.textContent = '';
    if (typeof graph === 'string') {
      box.append(el('div', 'jp-lakelab-error', `Could not load lineage: ${graph}`));
      return;
    }
    const name = this.options.name;
    if (!graph.edges.length) {
      box.append(
        el(
          'div',
          'jp-lakelab-muted',
          'No lineage recorded: nothing was made from this dataset, and it was not made from another.'
        )
      );
      return;
    }
    const layout = layoutLineage(name, graph.nodes, graph.edges);
    const scroller = el('div', 'jp-lakelab-lineage-scroll');
    scroller.append(
      drawLineage(layout, {
        self: name,
        kinds,
        onOpen: other => this._action.emit({ action: 'open', name: other }),
        onExpand: other => void this.expandLineage(other),
        expanded: this._expanded
      })
    );
    box.append(scroller);
  }

  private _info: Widget;
  private _previewPanel: BoxPanel;
  private _previewHeader: Widget;
  private _grid: DataGrid;
  private _model: PagingDataModel | null = null;
  private _detail: DatasetDetail | null = null;
  private _snapshots: Snapshot[] = [];
  private _snapshotId: string | null = null;
  private _snapshotsBox: HTMLElement | null = null;
  private _lineageBox: HTMLElement | null = null;
  private _lineageDepth = DEFAULT_LINEAGE_DEPTH;
  private _lineageTicket = 0;
  private _graph: LineageGraph | null = null;
  private _kinds = new Map<string, DatasetKind>();
  private _expanded = new Set<string>();
  private _sort: GridSort = null;
  private _action = new Signal<this, DatasetAction>(this);
}
