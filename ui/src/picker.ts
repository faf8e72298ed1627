/**
 * The dataset picker: a dialog with a search box over the server's search (the sidebar's
 * syntax: words, kind:, owner:, tag:) and a list to choose from with the arrow keys.
 * Commands run from the palette ask through it rather than guess a dataset.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { ApiError, DatasetKind, DatasetSummary, LakelabClient } from './api';
import { kindIcon } from './icons';
import { parseSearch } from './tree';

const SEARCH_DELAY_MS = 200;
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
export type PickItem = Pick<DatasetSummary, 'name' | 'kind' | 'description'>;

/** The order a picker lists datasets in: `initial` first (when it is among them), then as found. */
export function pickOrder<T extends PickItem>(found: T[], initial: string | null | undefined): T[] {
  const first = found.filter(d => d.name === initial);
  return [...first, ...found.filter(d => d.name !== initial)].slice(0, SHOWN);
}

export class DatasetPicker extends Widget implements Dialog.IBodyWidget<string | null> {
  constructor(
    private readonly client: LakelabClient,
    private readonly options: IPickOptions
  ) {
    super();
    this.addClass('jp-lakelab-picker');
    this._input.type = 'search';
    this._input.className = 'jp-mod-styled jp-lakelab-picker-search';
    this._input.placeholder = options.kind ? `Search ${options.kind}s…` : 'Search datasets…';
    this._input.setAttribute('aria-label', 'Search datasets');
    this._list.className = 'jp-lakelab-picker-list';
    this._list.setAttribute('role', 'listbox');
    this._status.className = 'jp-lakelab-picker-status';
    this.node.append(this._input, this._status, this._list);
    this._input.addEventListener('input', () => {
      window.clearTimeout(this._timer);
      this._timer = window.setTimeout(() => void this.search(), SEARCH_DELAY_MS);
    });
    this._input.addEventListener('keydown', e => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        this._select(this._active + (e.key === 'ArrowDown' ? 1 : -1));
      }
    });
    this._list.addEventListener('click', e => {
      const li = (e.target as HTMLElement).closest('li');
      if (li) {
        this._select(Number(li.dataset.index));
      }
    });
  }

  /** The chosen dataset's name (null when nothing matched). */
  getValue(): string | null {
    return this._items[this._active]?.name ?? null;
  }

  async search(): Promise<void> {
    const gen = ++this._generation;
    const { text, filters } = parseSearch(this._input.value);
    if (this.options.kind) {
      filters.kind = this.options.kind;
    }
    const initial = this._input.value.trim() ? null : this.options.initial;
    let found: PickItem[];
    try {
      found = await this.client.search(text, filters);
      if (initial && !found.some(d => d.name === initial)) {
        // the dataset in view may be past the first page of an empty search: fetch it
        const d = await this.client.dataset(initial).catch(() => null);
        if (d && (!this.options.kind || d.kind === this.options.kind)) {
          found = [d, ...found];
        }
      }
    } catch (e) {
      if (gen === this._generation) {
        this._status.textContent = `Search failed: ${e instanceof ApiError ? e.display : e}`;
      }
      return;
    }
    if (gen !== this._generation) {
      return; // the user typed on
    }
    this._items = pickOrder(found, initial);
    this._status.textContent = this._items.length ? '' : 'No datasets match.';
    this._list.replaceChildren(
      ...this._items.map((d, i) => {
        const li = document.createElement('li');
        li.setAttribute('role', 'option');
        li.dataset.index = String(i);
        li.dataset.name = d.name;
        li.title = d.description ?? d.name;
        const icon = document.createElement('span');
        kindIcon(d.kind).element({ container: icon });
        const name = document.createElement('span');
        name.className = 'jp-lakelab-picker-name';
        name.textContent = d.name;
        const about = document.createElement('span');
        about.className = 'jp-lakelab-picker-about';
        about.textContent = d.description ?? '';
        li.append(icon, name, about);
        return li;
      })
    );
    this._select(0);
  }

  protected onAfterAttach(): void {
    void this.search();
  }

  private _select(index: number): void {
    if (!this._items.length) {
      this._active = -1;
      return;
    }
    this._active = Math.max(0, Math.min(index, this._items.length - 1));
    Array.from(this._list.children).forEach((li, i) => {
      li.classList.toggle('jp-mod-selected', i === this._active);
      li.setAttribute('aria-selected', String(i === this._active));
      if (i === this._active) {
        (li as HTMLElement).scrollIntoView?.({ block: 'nearest' });
      }
    });
  }

  private readonly _input = document.createElement('input');
  private readonly _status = document.createElement('div');
  private readonly _list = document.createElement('ul');
  private _items: PickItem[] = [];
  private _active = -1;
  private _timer = 0;
  private _generation = 0;
}

/** Ask the user for a dataset; null when they cancel or nothing matched. */
export async function pickDataset(client: LakelabClient, options: IPickOptions): Promise<string | null> {
  const result = await showDialog({
    title: options.title,
    body: new DatasetPicker(client, options),
    focusNodeSelector: 'input',
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: options.action })]
  });
  return result.button.accept ? result.value : null;
}
