/**
 * The one dataset picker ("Go to Dataset…", and every palette command that needs a dataset):
 * a dialog over the catalog's search. Type a name (typos are forgiven: the server answers with
 * what it searched instead), narrow it with the sidebar's `kind:`, `owner:` and `tag:` words or
 * the facet buttons (counts among every match), and `tag:` alone lists the tags. With the box
 * empty, the dataset in view is offered first. Arrow keys move, Enter or a click chooses.
 */
import { Dialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { DatasetKind, DatasetSummary, FacetCount, LakelabClient, SearchResult } from './api';
import { el } from './dom';
import { FacetKey, pendingFacet } from './searchSuggest';

const DELAY_MS = 150;
const FACETS_SHOWN = 6;
const SHOWN = 50;

export interface IPickOptions {
  /** The dialog's title, e.g. "Open Dataset". */
  title: string;
  /** The accept button's label. */
  action: string;
  /** Only datasets of this kind (reports for "Open Report"). */
  kind?: DatasetKind;
  /** A dataset offered first (the one in view or selected), when the box is empty. */
  initial?: string | null;
}

/** What the picker lists of a dataset. */
export type PickItem = Pick<DatasetSummary, 'name' | 'kind' | 'owner' | 'tags'>;

/** The order a picker lists datasets in: `initial` first (when it is among them), then as found. */
export function pickOrder<T extends PickItem>(found: T[], initial: string | null | undefined): T[] {
  const first = found.filter(d => d.name === initial);
  return [...first, ...found.filter(d => d.name !== initial)].slice(0, SHOWN);
}

class PickerBody extends Widget {
  constructor(
    private readonly client: LakelabClient,
    private readonly options: IPickOptions
  ) {
    super({ node: el('div', 'jp-lakelab-picker') });
    this.input = el('input', 'jp-mod-styled jp-lakelab-picker-input');
    this.input.placeholder = options.kind
      ? `${options.kind[0].toUpperCase()}${options.kind.slice(1)} name… (owner: tag: narrow it)`
      : 'Dataset name… (kind: owner: tag: narrow it)';
    this.input.setAttribute('aria-label', 'Find a dataset');
    this._note = el('div', 'jp-lakelab-picker-note');
    this._facets = el('div', 'jp-lakelab-picker-facets');
    this._list = el('ul', 'jp-lakelab-picker-list');
    this._list.setAttribute('role', 'listbox');
    this.node.append(this.input, this._facets, this._note, this._list);
    this.input.addEventListener('input', () => this._schedule());
    this.input.addEventListener('keydown', e => this._onKey(e));
    // the dialog takes Enter in its capture phase; completing a tag must come first
    window.addEventListener('keydown', this._completeOnEnter, true);
    void this._search();
  }

  dispose(): void {
    window.removeEventListener('keydown', this._completeOnEnter, true);
    super.dispose();
  }

  readonly input: HTMLInputElement;
  dialog: Dialog<string | null> | null = null;

  getValue(): string | null {
    const item = this._items[this._active];
    return item && item.kind === 'dataset' ? item.value : null;
  }

  private _schedule(): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => void this._search(), DELAY_MS);
  }

  private async _search(): Promise<void> {
    const text = this.input.value;
    const pending = pendingFacet(text);
    const ticket = ++this._ticket;
    let result: SearchResult;
    let datasets: PickItem[];
    try {
      // `tag:` alone: the facets of everything else typed, as suggestions
      const words = pending ? text.replace(/\S+:$/, '').trim() : text;
      const only = this.options.kind ? ` kind:${this.options.kind}` : '';
      result = await this.client.searchWithFacets(`${words}${only}`.trim());
      const initial = text.trim() ? null : this.options.initial;
      datasets = result.datasets;
      if (initial && !datasets.some(d => d.name === initial)) {
        // the dataset in view may be past the first page of an empty search: fetch it
        const d = await this.client.dataset(initial).catch(() => null);
        if (d && (!this.options.kind || d.kind === this.options.kind)) {
          datasets = [d, ...datasets];
        }
      }
      datasets = pickOrder(datasets, initial);
    } catch (e) {
      if (ticket === this._ticket) {
        this._note.textContent = `Search failed: ${String((e as Error).message ?? e)}`;
      }
      return;
    }
    if (ticket !== this._ticket) {
      return;
    }
    this._note.textContent = result.corrected ? `No dataset matches "${text}": showing "${result.corrected}".` : '';
    this._renderFacets(result.facets);
    if (pending) {
      const values = result.facets?.[pending] ?? [];
      this._items = values.map(f => ({ kind: 'facet' as const, value: `${pending}:${f.value}`, count: f.count }));
      if (!values.length) {
        this._note.textContent = `No ${pending}s among the matches.`;
      }
    } else {
      this._items = datasets.map(d => ({ kind: 'dataset' as const, value: d.name, summary: d }));
      if (!datasets.length) {
        this._note.textContent = 'No dataset matches.';
      }
    }
    this._active = 0;
    this._renderList();
  }

  private _renderFacets(facets: SearchResult['facets']): void {
    this._facets.textContent = '';
    if (!facets) {
      return;
    }
    for (const key of ['kind', 'owner', 'tag'] as FacetKey[]) {
      const values: FacetCount[] = facets[key].slice(0, FACETS_SHOWN);
      if (!values.length) {
        continue;
      }
      const group = el('span', 'jp-lakelab-picker-facet-group');
      group.append(el('span', 'jp-lakelab-picker-facet-key', `${key}:`));
      for (const f of values) {
        const b = el('button', 'jp-lakelab-picker-facet', `${f.value} (${f.count})`);
        b.dataset.facet = `${key}:${f.value}`;
        b.title = `Only datasets with ${key} ${f.value}`;
        b.addEventListener('click', () => this._addToken(`${key}:${f.value}`));
        group.append(b);
      }
      this._facets.append(group);
    }
  }

  private _renderList(): void {
    this._list.textContent = '';
    this._items.forEach((item, i) => {
      const li = el('li', 'jp-lakelab-picker-item');
      li.setAttribute('role', 'option');
      li.dataset.value = item.value;
      li.classList.toggle('jp-mod-active', i === this._active);
      li.setAttribute('aria-selected', String(i === this._active));
      if (item.kind === 'dataset') {
        li.append(el('span', 'jp-lakelab-picker-name', item.value));
        const d = item.summary!;
        li.append(
          el('span', 'jp-lakelab-picker-meta', [d.kind, d.owner, d.tags.join(', ')].filter(Boolean).join(' · '))
        );
      } else {
        li.append(
          el('span', 'jp-lakelab-picker-name', item.value),
          el('span', 'jp-lakelab-picker-meta', `${item.count}`)
        );
      }
      li.addEventListener('mousedown', e => e.preventDefault()); // keep the input focused
      li.addEventListener('click', () => this._choose(i));
      this._list.append(li);
    });
  }

  private _choose(i: number): void {
    const item = this._items[i];
    if (!item) {
      return;
    }
    if (item.kind === 'facet') {
      this._addToken(item.value, true);
      return;
    }
    this._active = i;
    this.dialog?.resolve(1);
  }

  /** Put a filter word into the query (replacing a pending `tag:`) and search again. */
  private _addToken(token: string, replacePending = false): void {
    const base = replacePending ? this.input.value.replace(/\S+:$/, '') : this.input.value;
    this.input.value = `${base.trim()} ${token} `.trimStart();
    this.input.focus();
    void this._search();
  }

  private _onKey(e: KeyboardEvent): void {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = this._items.length;
      if (n) {
        this._active = (this._active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
        this._renderList();
      }
    }
  }

  private _completeOnEnter = (e: KeyboardEvent): void => {
    const item = this._items[this._active];
    if (e.key === 'Enter' && e.target === this.input && item?.kind === 'facet') {
      e.preventDefault();
      e.stopImmediatePropagation(); // completing a tag is not choosing a dataset
      this._addToken(item.value, true);
    }
  };

  private _note: HTMLElement;
  private _facets: HTMLElement;
  private _list: HTMLUListElement;
  private _items: { kind: 'dataset' | 'facet'; value: string; summary?: PickItem; count?: number }[] = [];
  private _active = 0;
  private _timer = 0;
  private _ticket = 0;
}

/** Ask for a dataset; resolves to its name, or null when the user cancels. */
export async function pickDataset(
  client: LakelabClient,
  options: IPickOptions = { title: 'Go to Dataset', action: 'Open' }
): Promise<string | null> {
  const body = new PickerBody(client, options);
  const dialog = new Dialog<string | null>({
    title: options.title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: options.action })],
    focusNodeSelector: '.jp-lakelab-picker-input'
  });
  dialog.addClass('jp-lakelab-picker-dialog');
  body.dialog = dialog;
  const result = await dialog.launch();
  return result.button.accept ? result.value : null;
}
