/**
 * The Lakehouse sidebar: handshake banner, debounced search, refresh, and the tree drawn
 * as a windowed list (only the rows in view exist in the DOM, so thousands stay smooth).
 */
import { caretDownIcon, caretRightIcon, refreshIcon } from '@jupyterlab/ui-components';
import { MimeData } from '@lumino/coreutils';
import { Drag } from '@lumino/dragdrop';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { DatasetSummary, versionCount } from './api';
import { configSummary, Handshake } from './handshake';
import { columnIcon, kindIcon, lakehouseIcon, namespaceIcon } from './icons';
import { formatBytes, trinoCell } from './text';
import { ITreeRow, TreeModel } from './tree';

export const ROW_HEIGHT = 24;
/** The MIME type notebooks accept cells under (as dask-labextension's cards use). */
export const CELLS_MIME = 'application/vnd.jupyter.cells';
const OVERSCAN = 8;
const SEARCH_DELAY_MS = 300;
const DRAG_THRESHOLD = 5;
/** How often a visible sidebar asks whether the catalog changed (one cheap request). */
const WATCH_INTERVAL_MS = 3000;

/** The notebook cells a dataset becomes when dropped on a notebook. */
export function datasetCells(name: string): Record<string, unknown>[] {
  return [{ cell_type: 'code', source: trinoCell(name), metadata: {}, outputs: [], execution_count: null }];
}

/**
 * What a dataset row shows on its right: a table's rows, a model's or report's versions
 * (its kind is its icon, and the row's tooltip names it: the sidebar is too narrow for both).
 */
export function datasetDetail(d: DatasetSummary): string {
  if (d.kind !== 'table') {
    const n = versionCount(d);
    return n === null ? d.kind : `${n} ${n === 1 ? 'version' : 'versions'}`;
  }
  if (d.row_count === null) {
    return '';
  }
  return d.row_count === 1 ? '1 row' : `${compact(d.row_count)} rows`;
}

function compact(n: number): string {
  if (n < 1000) {
    return String(n);
  }
  const units = ['k', 'M', 'B', 'T'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')}${units[i]}`;
}

export class LakehouseSidebar extends Widget {
  constructor(readonly model: TreeModel) {
    super();
    this.id = 'lakelab-sidebar';
    this.addClass('jp-lakelab-sidebar');
    this.title.icon = lakehouseIcon;
    this.title.caption = 'Lakehouse';

    const header = document.createElement('div');
    header.className = 'jp-lakelab-header';
    const title = document.createElement('span');
    title.className = 'jp-lakelab-title';
    title.textContent = 'Lakehouse';
    this._refreshButton = document.createElement('button');
    this._refreshButton.className = 'jp-lakelab-icon-button jp-lakelab-refresh';
    this._refreshButton.title = 'Refresh the lakehouse';
    this._refreshButton.setAttribute('aria-label', 'Refresh');
    refreshIcon.element({ container: this._refreshButton });
    this._refreshButton.addEventListener('click', () => void this.refresh());
    header.append(title, this._refreshButton);

    this._status = document.createElement('div');
    this._status.className = 'jp-lakelab-status';
    this._status.textContent = 'Connecting to the lakelab server…';

    this._banner = document.createElement('div');
    this._banner.className = 'jp-lakelab-banner';
    this._banner.setAttribute('role', 'alert');
    this._banner.hidden = true;

    this._search = document.createElement('input');
    this._search.type = 'search';
    this._search.className = 'jp-lakelab-search jp-mod-styled';
    this._search.placeholder = 'Search datasets, columns, tags, owners…';
    this._search.setAttribute('aria-label', 'Search datasets');
    this._search.title =
      'Every word must match a name, description, tag, owner or column.\nFilters: kind:model, kind:report, kind:dashboard, owner:NAME, tag:TAG';
    this._search.addEventListener('input', () => this._scheduleSearch());
    this._search.addEventListener('keydown', e => {
      if (e.key === 'Enter') {
        this._runSearch();
      } else if (e.key === 'Escape') {
        this._search.value = '';
        this._runSearch();
      }
    });

    this._viewport = document.createElement('div');
    this._viewport.className = 'jp-lakelab-tree';
    this._viewport.setAttribute('role', 'tree');
    this._spacer = document.createElement('div');
    this._spacer.className = 'jp-lakelab-tree-spacer';
    this._viewport.appendChild(this._spacer);
    this._viewport.addEventListener('scroll', () => this._render());
    this._viewport.addEventListener('click', e => this._onClick(e));
    this._viewport.addEventListener('dblclick', e => this._onDblClick(e));
    this._viewport.addEventListener('keydown', e => this._onKey(e));
    this._viewport.addEventListener('pointerdown', e => this._onPointerDown(e));

    this.node.append(header, this._status, this._banner, this._search, this._viewport);
    model.changed.connect(() => this._render(), this);
  }

  /** Emitted when the user opens a dataset (click on its name). */
  get openRequested(): ISignal<this, string> {
    return this._openRequested;
  }

  /** The dataset last clicked in the tree (commands fall back to it). */
  get selected(): DatasetSummary | null {
    return this._selected;
  }

  get searchInput(): HTMLInputElement {
    return this._search;
  }

  /** Show the outcome of the version handshake; only 'ok' enables browsing. */
  setHandshake(result: Handshake): void {
    this._handshake = result;
    if (result.state === 'ok') {
      this._banner.hidden = true;
      const info = result.info;
      const { catalog, engine } = configSummary(info);
      this._status.textContent = [
        catalog ? `catalog ${catalog}` : '',
        engine ? `engine ${engine}` : '',
        `server ${info.server_version}`
      ]
        .filter(Boolean)
        .join(' · ');
    } else {
      this._banner.hidden = false;
      this._banner.dataset.state = result.state;
      this._banner.textContent = result.message;
      this._status.textContent = '';
    }
    this._search.disabled = result.state !== 'ok';
    this._render();
  }

  async refresh(): Promise<void> {
    if (this._handshake && this._handshake.state !== 'ok' && this._recheck) {
      this.setHandshake(await this._recheck());
    }
    if (this._handshake?.state === 'ok') {
      await this.model.refresh();
    }
  }

  /**
   * Keep the tree current by itself: while the sidebar is on screen, ask for the catalog's
   * fingerprint every `intervalMs` and reload (keeping expansion) only when it moved.
   */
  watch(fingerprint: () => Promise<string>, intervalMs = WATCH_INTERVAL_MS): void {
    let last: string | null = null;
    this._poll?.dispose();
    this._poll = new Poll({
      factory: async () => {
        if (this._handshake?.state !== 'ok') {
          return;
        }
        const now = await fingerprint();
        if (last !== null && now !== last) {
          await this.model.refresh();
        }
        last = now;
      },
      frequency: { interval: intervalMs, backoff: true, max: 60_000 },
      standby: () => !this.isVisible || 'when-hidden',
      name: 'lakelab:catalog-fingerprint'
    });
  }

  dispose(): void {
    this._poll?.dispose();
    super.dispose();
  }

  /** How the refresh button re-runs the handshake after a failed one. */
  set recheck(fn: () => Promise<Handshake>) {
    this._recheck = fn;
  }

  protected onAfterShow(): void {
    this._render();
    void this._poll?.refresh(); // shown again: catch up at once
  }

  protected onResize(): void {
    this._render();
  }

  private _scheduleSearch(): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => this._runSearch(), SEARCH_DELAY_MS);
  }

  private _runSearch(): void {
    window.clearTimeout(this._timer);
    this._viewport.scrollTop = 0;
    void this.model.search(this._search.value);
  }

  private _rowAt(target: EventTarget | null): { row: ITreeRow; el: HTMLElement } | null {
    const el = (target as HTMLElement | null)?.closest?.('.jp-lakelab-row') as HTMLElement | null;
    if (!el) {
      return null;
    }
    const row = this.model.rows[Number(el.dataset.index)];
    return row && row.key === el.dataset.key ? { row, el } : null;
  }

  private _onClick(e: MouseEvent): void {
    if (this._dragged) {
      this._dragged = false;
      return;
    }
    const hit = this._rowAt(e.target);
    if (!hit) {
      return;
    }
    const { row } = hit;
    if (row.dataset) {
      this._selected = row.dataset;
    }
    const onCaret = (e.target as HTMLElement).closest('.jp-lakelab-caret') !== null;
    if (row.kind === 'dataset' && !onCaret) {
      this._openRequested.emit(row.dataset!.name);
      this._render();
      return;
    }
    void this.model.activate(row);
  }

  private _onDblClick(e: MouseEvent): void {
    const hit = this._rowAt(e.target);
    if (hit?.row.kind === 'column' && hit.row.dataset) {
      this._openRequested.emit(hit.row.dataset.name);
    }
  }

  private _onKey(e: KeyboardEvent): void {
    const hit = this._rowAt(e.target);
    if (!hit) {
      return;
    }
    if (e.key === 'Enter' && hit.row.kind === 'dataset') {
      this._openRequested.emit(hit.row.dataset!.name);
    } else if (e.key === 'Enter' || e.key === ' ' || e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      if (e.key === 'ArrowRight' && hit.row.expanded) {
        return;
      }
      if (e.key === 'ArrowLeft' && !hit.row.expanded) {
        return;
      }
      e.preventDefault();
      void this.model.activate(hit.row);
    }
  }

  /** Dragging a dataset row onto a notebook drops a %%trino cell there. */
  private _onPointerDown(e: PointerEvent): void {
    const hit = this._rowAt(e.target);
    if (e.button !== 0 || !hit || hit.row.kind !== 'dataset') {
      return;
    }
    const name = hit.row.dataset!.name;
    const x0 = e.clientX;
    const y0 = e.clientY;
    const move = (ev: PointerEvent) => {
      if (Math.abs(ev.clientX - x0) + Math.abs(ev.clientY - y0) < DRAG_THRESHOLD) {
        return;
      }
      cleanup();
      this._dragged = true;
      const mimeData = new MimeData();
      mimeData.setData(CELLS_MIME, datasetCells(name));
      mimeData.setData('text/plain', name);
      const image = document.createElement('div');
      image.className = 'jp-lakelab-drag-image';
      image.textContent = name;
      const drag = new Drag({
        mimeData,
        dragImage: image,
        proposedAction: 'copy',
        supportedActions: 'copy',
        source: this
      });
      void drag.start(ev.clientX, ev.clientY).then(() => {
        // the click that ends a drag must not open the dataset
        window.setTimeout(() => (this._dragged = false), 0);
      });
    };
    const cleanup = () => {
      document.removeEventListener('pointermove', move, true);
      document.removeEventListener('pointerup', cleanup, true);
    };
    document.addEventListener('pointermove', move, true);
    document.addEventListener('pointerup', cleanup, true);
  }

  private _render(): void {
    if (!this.isVisible) {
      return;
    }
    const rows = this.model.rows;
    const error = this.model.error;
    const notice = error ? `Could not load the lakehouse: ${error}` : this.model.loading ? 'Loading…' : '';
    this._viewport.dataset.state = error ? 'error' : this.model.loading ? 'loading' : 'ready';
    this._spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const top = this._viewport.scrollTop;
    const height = this._viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);

    const keep = new Map<string, HTMLElement>();
    for (const el of Array.from(this._spacer.children) as HTMLElement[]) {
      if (el.classList.contains('jp-lakelab-row')) {
        keep.set(el.dataset.key!, el);
      }
    }
    const wanted = new Set<string>();
    for (let i = first; i < last; i++) {
      const row = rows[i];
      wanted.add(row.key);
      const sig = this._signature(row, i);
      let el = keep.get(row.key);
      if (!el || el.dataset.sig !== sig) {
        const fresh = this._rowElement(row, i);
        fresh.dataset.sig = sig;
        if (el) {
          el.replaceWith(fresh);
        } else {
          this._spacer.appendChild(fresh);
        }
        el = fresh;
      }
      el.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
    }
    for (const [key, el] of keep) {
      if (!wanted.has(key)) {
        el.remove();
      }
    }
    let noticeEl = this._viewport.querySelector('.jp-lakelab-notice') as HTMLElement | null;
    if (notice) {
      if (!noticeEl) {
        noticeEl = document.createElement('div');
        noticeEl.className = 'jp-lakelab-notice';
        this._viewport.insertBefore(noticeEl, this._spacer);
      }
      noticeEl.dataset.state = error ? 'error' : 'loading';
      noticeEl.textContent = notice;
    } else {
      noticeEl?.remove();
    }
  }

  private _signature(row: ITreeRow, index: number): string {
    const selected = row.dataset && row.kind === 'dataset' && this._selected?.name === row.dataset.name;
    return `${index}|${row.label}|${row.detail}|${row.expanded}|${selected ? 1 : 0}`;
  }

  private _rowElement(row: ITreeRow, index: number): HTMLElement {
    const el = document.createElement('div');
    el.className = `jp-lakelab-row jp-lakelab-row-${row.kind}`;
    el.dataset.key = row.key;
    el.dataset.index = String(index);
    el.dataset.kind = row.kind;
    el.setAttribute('role', 'treeitem');
    el.tabIndex = -1;
    if (row.expandable) {
      el.setAttribute('aria-expanded', String(row.expanded));
    }
    if (row.dataset) {
      el.dataset.lakelabDataset = row.dataset.name;
    }
    if (row.namespace) {
      el.dataset.lakelabNamespace = row.namespace.name; // the namespace's context menu acts on it
    }
    if (row.field) {
      el.dataset.lakelabColumn = row.field.name;
    }
    if (row.kind === 'dataset') {
      el.tabIndex = 0;
      el.dataset.datasetKind = row.dataset!.kind;
      if (this._selected?.name === row.dataset!.name) {
        el.classList.add('jp-mod-selected');
      }
      const d = row.dataset!;
      el.title = [
        d.name,
        d.description ?? '',
        d.owner ? `owner: ${d.owner}` : '',
        d.tags.length ? `tags: ${d.tags.join(', ')}` : '',
        d.kind !== 'table' ? `${d.kind}, ${datasetDetail(d)}` : '',
        d.kind === 'table' && d.row_count !== null
          ? `${d.row_count.toLocaleString()} rows, ${formatBytes(d.total_bytes)}`
          : ''
      ]
        .filter(Boolean)
        .join('\n');
    }
    if (row.kind === 'namespace') {
      el.tabIndex = 0;
      el.title = row.namespace!.name;
    }
    el.style.paddingLeft = `${4 + row.depth * 14}px`;
    el.style.height = `${ROW_HEIGHT}px`;

    const caret = document.createElement('span');
    caret.className = 'jp-lakelab-caret';
    if (row.expandable) {
      (row.expanded ? caretDownIcon : caretRightIcon).element({ container: caret });
    }
    const icon = document.createElement('span');
    icon.className = 'jp-lakelab-row-icon';
    const ic =
      row.kind === 'namespace'
        ? namespaceIcon
        : row.kind === 'dataset'
          ? kindIcon(row.dataset!.kind)
          : row.kind === 'column'
            ? columnIcon
            : null;
    ic?.element({ container: icon });
    const label = document.createElement('span');
    label.className = 'jp-lakelab-label';
    label.textContent = row.label;
    const detail = document.createElement('span');
    detail.className = 'jp-lakelab-detail';
    detail.textContent = row.kind === 'dataset' ? datasetDetail(row.dataset!) : row.detail;
    el.append(caret, icon, label, detail);
    return el;
  }

  private _status: HTMLElement;
  private _banner: HTMLElement;
  private _search: HTMLInputElement;
  private _viewport: HTMLElement;
  private _spacer: HTMLElement;
  private _refreshButton: HTMLButtonElement;
  private _timer = 0;
  private _selected: DatasetSummary | null = null;
  private _handshake: Handshake | null = null;
  private _recheck: (() => Promise<Handshake>) | null = null;
  private _dragged = false;
  private _poll: Poll | null = null;
  private _openRequested = new Signal<this, string>(this);
}
