/**
 * The Workspaces panel: a create form, an error/info line, and a card per workspace (name,
 * state, nodes, CPUs, memory, tasks, uptime, idle time) with connect / dashboard / scale /
 * stop actions. Cards are updated in place (keyed by name) so a poll never steals focus
 * from a field being typed in. Polling runs only while the panel is visible.
 */
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { ApiError } from '../api';
import { el } from '../dom';
import { ConnectedKernel, IWorkspaceLimits, Workspace, WorkspacesClient, WorkspaceStatus } from './api';
import { actions, facts, formNumber, stopQuestion, stoppedNote } from './model';
import { ensureStyle } from './style';

export interface IWorkspacePanelOptions {
  client: WorkspacesClient;
  /** The URL of a workspace's proxied dashboard (under the server's base_url). */
  dashboardUrl: (name: string) => string;
  /** Puts connect code into the active notebook; returns its name, or null when there is none. */
  insertConnect: (name: string) => string | null;
  /** Asks the user to confirm (JupyterLab's dialog); resolves true to go ahead. */
  confirm: (title: string, body: string, action: string) => Promise<boolean>;
  /** Opens a URL in a new browser tab (window.open in JupyterLab). */
  openUrl?: (url: string) => void;
  intervalMs?: number;
}

function numberInput(label: string, value: string, min: string): HTMLInputElement {
  const input = el('input');
  input.type = 'number';
  input.min = min;
  input.step = '1';
  input.value = value;
  input.setAttribute('aria-label', label);
  return input;
}

/** What is wrong with a field that holds no whole number (null when it holds one or is empty). */
function notWhole(label: string, input: HTMLInputElement): string | null {
  return formNumber(input.value) === null
    ? `${label} must be a whole number, not ${JSON.stringify(input.value.trim())}`
    : null;
}

/** One workspace's card; `update` rewrites texts and button states only. */
class Card {
  readonly node = el('div', 'lakelab-ws-card');
  private readonly name = el('span', 'lakelab-ws-name');
  private readonly backend = el('span', 'lakelab-ws-backend');
  private readonly state = el('span', 'lakelab-ws-state');
  private readonly facts = el('dl', 'lakelab-ws-facts');
  private readonly message = el('div', 'lakelab-ws-message');
  private readonly buttons: Record<string, HTMLButtonElement> = {};
  readonly scaleInput: HTMLInputElement;
  private readonly workersLabel: HTMLSpanElement;
  workspace: WorkspaceStatus;

  constructor(w: WorkspaceStatus, on: Record<string, (card: Card) => void>) {
    this.workspace = w;
    this.node.dataset.name = w.name;
    const head = el('div', 'lakelab-ws-head');
    head.append(this.name, this.backend, this.state);
    // two rows: using the workspace (connect, dashboard), then sizing it (scale, stop/start)
    const use = el('div', 'lakelab-ws-actions lakelab-ws-use');
    const size = el('div', 'lakelab-ws-actions');
    const add = (row: HTMLElement, key: string, label: string, title: string): void => {
      const b = el('button', `jp-mod-styled lakelab-ws-${key}`, label);
      b.title = title;
      b.addEventListener('click', () => on[key](this));
      this.buttons[key] = b;
      row.appendChild(b);
    };
    add(use, 'connect', 'Connect code', 'insert code that connects the active notebook to this workspace');
    add(use, 'dashboard', 'Dashboard', 'open the Ray dashboard in a new tab (through the Jupyter server)');
    this.scaleInput = numberInput(`workers of ${w.name}`, String(w.workers ?? 0), '0');
    this.scaleInput.title = 'worker nodes';
    this.workersLabel = el('span', 'lakelab-ws-workers-label', 'Workers');
    size.append(this.workersLabel, this.scaleInput);
    add(size, 'scale', 'Scale', 'set the number of worker nodes');
    size.append(el('span', 'lakelab-ws-sep'));
    add(size, 'stop', 'Stop', 'stop every Ray process of this workspace');
    add(size, 'start', 'Start', 'start this workspace again with the same size');
    add(size, 'dismiss', 'Dismiss', 'remove this card');
    this.node.append(head, this.facts, this.message, use, size);
    this.update(w, false);
  }

  update(w: WorkspaceStatus, busy: boolean): void {
    const scaleChanged = w.workers !== this.workspace.workers;
    this.workspace = w;
    this.node.className = `lakelab-ws-card lakelab-ws-${w.state}`;
    this.name.textContent = w.name;
    this.name.title = w.name;
    this.backend.textContent = w.backend === 'local' ? '' : w.backend;
    this.state.textContent = busy && w.state === 'running' ? 'working…' : w.state;
    this.facts.replaceChildren(
      ...facts(w).map(f => {
        const d = el('div', `lakelab-ws-fact lakelab-ws-fact-${f.label.toLowerCase()}`);
        d.append(el('dt', '', f.label), el('dd', '', f.value));
        return d;
      })
    );
    this.facts.hidden = w.state === 'stopped' || w.state === 'failed'; // nothing live to show
    this.message.textContent = w.message ?? '';
    this.message.hidden = !w.message;
    const can = actions(w, busy);
    const ended = w.state === 'stopped' || w.state === 'failed';
    for (const key of ['connect', 'dashboard', 'scale', 'stop'] as const) {
      this.buttons[key].disabled = !can[key];
      this.buttons[key].hidden = ended;
    }
    this.scaleInput.hidden = ended || w.backend === 'attach';
    this.buttons.scale.hidden = this.scaleInput.hidden;
    this.workersLabel.hidden = this.scaleInput.hidden;
    this.scaleInput.disabled = !can.scale;
    this.buttons.start.hidden = !ended;
    this.buttons.start.disabled = !can.start;
    this.buttons.dismiss.hidden = !ended;
    this.buttons.dismiss.disabled = busy;
    // keep what the user is typing; follow the server otherwise
    if (scaleChanged && document.activeElement !== this.scaleInput) {
      this.scaleInput.value = String(w.workers ?? 0);
    }
  }
}

export class WorkspacePanel extends Widget {
  readonly poll: Poll;
  private readonly list = el('div', 'lakelab-ws-list');
  private readonly error = el('div', 'lakelab-ws-error');
  private readonly info = el('div', 'lakelab-ws-info');
  private readonly limitsLine = el('div', 'lakelab-ws-limits');
  private readonly nameInput = el('input');
  private readonly cpusInput = numberInput('CPUs per node', '1', '1');
  private readonly workersInput = numberInput('workers', '0', '0');
  private readonly cards = new Map<string, Card>();
  private readonly creating = new Map<string, WorkspaceStatus>();
  private readonly busy = new Set<string>();
  private server: WorkspaceStatus[] = [];

  constructor(private readonly options: IWorkspacePanelOptions) {
    super();
    ensureStyle();
    this.id = 'lakelab-workspaces';
    this.addClass('lakelab-WorkspacePanel');
    this.title.caption = 'Ray workspaces';
    this.error.setAttribute('role', 'alert');
    this.info.setAttribute('role', 'status');
    const title = el('div', 'lakelab-ws-title');
    title.append(el('h2', '', 'Ray workspaces'));
    this.node.append(title, this.form(), this.error, this.info, this.list);
    this.poll = new Poll({
      factory: () => this.refresh(),
      frequency: { interval: options.intervalMs ?? 5000, backoff: true, max: 60000 },
      standby: () => !this.shouldPoll() || 'when-hidden',
      name: 'lakelab:workspaces'
    });
  }

  /** Poll only while the panel is on screen (not collapsed, not another sidebar tab). */
  shouldPoll(): boolean {
    return this.isVisible;
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
    form.setAttribute('aria-label', 'create a workspace');
    this.nameInput.placeholder = 'e.g. analysis';
    this.nameInput.setAttribute('aria-label', 'workspace name');
    this.nameInput.spellcheck = false;
    const field = (label: string, input: HTMLInputElement): HTMLLabelElement => {
      const l = el('label', '', label);
      l.appendChild(input);
      return l;
    };
    const create = el('button', 'jp-mod-styled jp-mod-accept', 'Create');
    create.type = 'submit';
    const nameField = field('Name', this.nameInput);
    nameField.classList.add('lakelab-ws-name-field');
    form.append(nameField, field('CPUs', this.cpusInput), field('Workers', this.workersInput), create, this.limitsLine);
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      const name = this.nameInput.value.trim();
      const problem = notWhole('CPUs', this.cpusInput) ?? notWhole('workers', this.workersInput);
      if (problem) {
        this.say(problem);
        return;
      }
      const cpus = formNumber(this.cpusInput.value) ?? undefined;
      const workers = formNumber(this.workersInput.value) ?? undefined;
      this.start(name, cpus, workers, () => (this.nameInput.value = ''));
    });
    return form;
  }

  private start(name: string, cpus: number | undefined, workers: number | undefined, onDone?: () => void): void {
    const key = name || ' ';
    if (name) {
      this.creating.set(name, {
        name,
        backend: 'local',
        state: 'pending',
        workers: workers ?? 0,
        cpus_per_node: cpus ?? 1,
        uptime_s: null,
        idle_s: null,
        has_dashboard: false,
        message: 'starting Ray…',
        cluster: null
      });
    }
    void this.act(key, async () => {
      try {
        await this.options.client.create(name, cpus, workers);
        onDone?.();
      } finally {
        this.creating.delete(name);
      }
    });
  }

  /** One action at a time per workspace; errors land in the error line. */
  private async act(name: string, fn: () => Promise<void>): Promise<void> {
    this.busy.add(name);
    this.say(null);
    this.render();
    try {
      await fn();
    } catch (e) {
      this.say(e);
    } finally {
      this.busy.delete(name);
      await this.refresh().catch(() => undefined);
    }
  }

  /** Shows an error (or clears both lines with null); `info` for a success note. */
  private say(e: unknown, info = ''): void {
    this.error.textContent = e === null ? '' : e instanceof ApiError ? e.display : String(e);
    this.info.textContent = info;
  }

  async refresh(): Promise<void> {
    let listed: { workspaces: Workspace[]; limits: IWorkspaceLimits };
    try {
      listed = await this.options.client.list();
    } catch (e) {
      this.say(e);
      throw e; // the poll backs off
    }
    const { client } = this.options;
    // live figures (nodes, CPUs, memory, tasks) are only in a running workspace's status
    this.server = await Promise.all(
      listed.workspaces.map(w => (w.state === 'running' ? client.status(w.name).catch(() => w) : w))
    );
    const { maxWorkers, maxCpusPerNode } = listed.limits;
    this.limitsLine.textContent =
      `Limits: ${maxCpusPerNode} CPU${maxCpusPerNode === 1 ? '' : 's'} per node, ` +
      `${maxWorkers} worker${maxWorkers === 1 ? '' : 's'}`;
    this.render();
  }

  private render(): void {
    const pending = [...this.creating.values()].filter(c => !this.server.some(w => w.name === c.name));
    // the server's records only: the panel, `%workspace list` and the CLI show the same
    const shown = [...this.server, ...pending];
    const names = new Set(shown.map(w => w.name));
    for (const [name, card] of this.cards) {
      if (!names.has(name)) {
        card.node.remove();
        this.cards.delete(name);
      }
    }
    if (!shown.length) {
      this.list.replaceChildren(el('div', 'lakelab-ws-empty', 'No workspaces yet: create one above.'));
      return;
    }
    this.list.querySelector('.lakelab-ws-empty')?.remove();
    shown.forEach((w, i) => {
      let card = this.cards.get(w.name);
      if (!card) {
        card = new Card(w, this.handlers);
        this.cards.set(w.name, card);
      }
      card.update(w, this.busy.has(w.name));
      if (this.list.children[i] !== card.node) {
        this.list.insertBefore(card.node, this.list.children[i] ?? null);
      }
    });
  }

  private readonly handlers: Record<string, (card: Card) => void> = {
    connect: card => {
      const notebook = this.options.insertConnect(card.workspace.name);
      if (notebook) {
        this.say(null, `Connect code for ${card.workspace.name} inserted into ${notebook}: run the cell.`);
      } else {
        this.say('Open a notebook first: the connect code goes into the active notebook.');
      }
    },
    dashboard: card => {
      const url = this.options.dashboardUrl(card.workspace.name);
      (this.options.openUrl ?? (u => window.open(u, '_blank', 'noopener')))(url);
    },
    scale: card => {
      const { name } = card.workspace;
      const workers = formNumber(card.scaleInput.value);
      if (workers === null || workers === undefined) {
        this.say(notWhole('workers', card.scaleInput) ?? 'workers: give the number of worker nodes');
        return;
      }
      void this.act(name, () => this.options.client.scale(name, workers).then());
    },
    stop: card => void this.stop(card.workspace.name),
    start: card => {
      const w = card.workspace;
      this.start(w.name, w.cpus_per_node, w.workers);
    },
    dismiss: card => {
      // a record the server keeps (culled or failed): forget it there
      const { name } = card.workspace;
      void this.act(name, () => this.options.client.stop(name).then());
    }
  };

  /** Confirm (naming the connected kernels: the stop disconnects them), then stop. */
  private async stop(name: string): Promise<void> {
    let connected: ConnectedKernel[];
    try {
      connected = (await this.options.client.status(name)).connected ?? [];
    } catch (e) {
      this.say(e);
      return;
    }
    const { title, body } = stopQuestion(name, connected);
    if (!(await this.options.confirm(title, body, 'Stop'))) {
      return;
    }
    let note = '';
    await this.act(name, async () => {
      note = stoppedNote(name, await this.options.client.stop(name));
    });
    if (note) {
      this.say(null, note);
    }
  }
}
