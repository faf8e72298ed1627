/**
 * The Workspaces panel: a card per workspace (name, state, nodes, CPUs, memory, uptime,
 * idle time) with scale / stop / dashboard / insert-connect-code actions, a create form,
 * and an error line. Polling runs only while the panel is visible.
 */
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { ApiError } from '../api';
import { IWorkspace, WorkspacesClient, age } from './api';

export interface IWorkspacePanelOptions {
  client: WorkspacesClient;
  /** The URL of a workspace's proxied dashboard (under the server's base_url). */
  dashboardUrl: (name: string) => string;
  /** Puts connect code into the active notebook; false when there is none. */
  insertConnect: (name: string) => boolean;
  intervalMs?: number;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (cls) {
    node.className = cls;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function gib(bytes: number | null): string {
  return bytes === null ? '-' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

export class WorkspacePanel extends Widget {
  readonly poll: Poll;
  private readonly list = el('div', 'lakelab-ws-list');
  private readonly error = el('div', 'lakelab-ws-error');
  private readonly nameInput = el('input');
  private readonly cpusInput = el('input');
  private readonly workersInput = el('input');
  private busy = new Set<string>();

  constructor(private readonly options: IWorkspacePanelOptions) {
    super();
    this.id = 'lakelab-workspaces';
    this.addClass('lakelab-WorkspacePanel');
    this.title.caption = 'Ray workspaces';
    this.node.appendChild(this.form());
    this.node.appendChild(this.error);
    this.node.appendChild(this.list);
    this.poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: options.intervalMs ?? 5000, backoff: true, max: 60000 },
      standby: () => (this.isVisible ? false : 'when-hidden'),
      name: 'lakelab:workspaces'
    });
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.poll.refresh();
  }

  private form(): HTMLElement {
    const form = el('form', 'lakelab-ws-form');
    this.nameInput.placeholder = 'name';
    this.nameInput.setAttribute('aria-label', 'workspace name');
    for (const [input, label, value] of [
      [this.cpusInput, 'CPUs per node', '1'],
      [this.workersInput, 'workers', '0']
    ] as [HTMLInputElement, string, string][]) {
      input.type = 'number';
      input.min = label === 'workers' ? '0' : '1';
      input.value = value;
      input.title = label;
      input.setAttribute('aria-label', label);
    }
    const create = el('button', 'jp-mod-styled jp-mod-accept', 'Create');
    create.type = 'submit';
    form.append(this.nameInput, this.cpusInput, this.workersInput, create);
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      const name = this.nameInput.value.trim();
      void this.act(name, async () => {
        await this.options.client.create(name, Number(this.cpusInput.value), Number(this.workersInput.value));
        this.nameInput.value = '';
      });
    });
    return form;
  }

  /** One action at a time per workspace; errors land in the error line. */
  private async act(name: string, fn: () => Promise<void>): Promise<void> {
    this.busy.add(name);
    this.showError(null);
    void this.refresh();
    try {
      await fn();
    } catch (e) {
      this.showError(e);
    } finally {
      this.busy.delete(name);
      await this.refresh();
    }
  }

  private showError(e: unknown): void {
    this.error.textContent = e === null ? '' : e instanceof ApiError ? e.display : String(e);
  }

  async refresh(): Promise<void> {
    try {
      const { workspaces } = await this.options.client.list();
      const detailed = await Promise.all(
        workspaces.map(w => (w.state === 'running' ? this.options.client.status(w.name).catch(() => w) : w))
      );
      this.render(detailed);
    } catch (e) {
      this.showError(e);
      throw e; // the poll backs off
    }
  }

  private render(workspaces: IWorkspace[]): void {
    this.list.replaceChildren();
    if (!workspaces.length && !this.busy.size) {
      this.list.appendChild(el('div', 'lakelab-ws-empty', 'No workspaces yet: create one above.'));
    }
    for (const name of this.busy) {
      if (!workspaces.some(w => w.name === name)) {
        this.list.appendChild(el('div', 'lakelab-ws-card lakelab-ws-pending', `${name}: starting…`));
      }
    }
    for (const w of workspaces) {
      this.list.appendChild(this.card(w));
    }
  }

  private card(w: IWorkspace): HTMLElement {
    const card = el('div', `lakelab-ws-card lakelab-ws-${w.state}`);
    card.dataset.name = w.name;
    const head = el('div', 'lakelab-ws-head');
    head.append(el('b', '', w.name), el('span', 'lakelab-ws-state', this.busy.has(w.name) ? 'working…' : w.state));
    const facts = el('div', 'lakelab-ws-facts');
    facts.textContent = [
      `nodes ${w.nodes ?? 1 + w.workers}`,
      `CPUs ${w.cpus ?? '-'}`,
      `memory ${gib(w.memoryBytes)}`,
      `tasks ${w.runningTasks ?? '-'}`,
      `up ${age(w.uptimeS)}`,
      `idle ${age(w.idleS)}`
    ].join(' · ');
    card.append(head, facts);
    if (w.message) {
      card.appendChild(el('div', 'lakelab-ws-message', w.message));
    }
    const actions = el('div', 'lakelab-ws-actions');
    const button = (label: string, onClick: () => void, enabled = true): void => {
      const b = el('button', 'jp-mod-styled', label);
      b.disabled = !enabled || this.busy.has(w.name);
      b.addEventListener('click', onClick);
      actions.appendChild(b);
    };
    const running = w.state === 'running';
    button('Connect code', () => {
      if (!this.options.insertConnect(w.name)) {
        this.showError('open a notebook first: the connect code goes into the active notebook');
      }
    }, running);
    button('Dashboard', () => window.open(this.options.dashboardUrl(w.name), '_blank'), running && w.hasDashboard);
    const scale = el('input');
    scale.type = 'number';
    scale.min = '0';
    scale.value = String(w.workers);
    scale.title = 'workers';
    scale.setAttribute('aria-label', `workers of ${w.name}`);
    actions.appendChild(scale);
    button('Scale', () => void this.act(w.name, () => this.options.client.scale(w.name, Number(scale.value)).then()), running);
    button('Stop', () => void this.act(w.name, () => this.options.client.stop(w.name)));
    card.appendChild(actions);
    return card;
  }
}
