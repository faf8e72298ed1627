/**
 * Dashboards: "Publish as Dashboard" on the open notebook, a dashboard tab with its pinned view
 * (the version's stored page, sandboxed exactly as reports are) and its live view (Voilà, a
 * fresh view-only kernel, inputs pinned or latest), and freshness: a stale dashboard is marked
 * in the sidebar and in its dataset view.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { API_PREFIX, ApiError } from './api';
import { serverRequester } from './connection';
import { el } from './dom';
import { kindIcon } from './icons';
import { REPORT_SANDBOX } from './report';
import { request, Requester } from './request';
import { components } from './generated/openapi';

export const OPEN_DASHBOARD = 'lakelab:open-dashboard';
export const PUBLISH_DASHBOARD = 'lakelab:publish-dashboard';
export type Freshness = components['schemas']['DashboardFreshness'];
export type DashboardMode = 'pinned' | 'live' | 'live-latest';
const POLL_MS = 30_000;

/** Freshness in one line: "v2 · current" or "v1 · stale: shop.orders has a newer snapshot". */
export function freshnessText(f: Freshness): string {
  if (!f.stale) {
    return `v${f.version} · current`;
  }
  const newer = f.inputs.filter(i => i.stale).map(i => i.table);
  return `v${f.version} · stale: ${newer.join(', ')} ${newer.length === 1 ? 'has' : 'have'} a newer snapshot`;
}

/** The address of a view, relative to the API root. */
export function dashboardPath(name: string, version: number, mode: DashboardMode): string {
  const base = `dashboards/${encodeURIComponent(name)}`;
  if (mode === 'pinned') {
    return `${base}/versions/${version}/page`;
  }
  return `${base}/live?version=${version}&inputs=${mode === 'live' ? 'pinned' : 'latest'}`;
}

export class DashboardView extends Widget {
  constructor(
    readonly name: string,
    readonly version: number,
    readonly mode: DashboardMode,
    baseUrl: string
  ) {
    super();
    this.addClass('jp-lakelab-report');
    this.addClass('jp-lakelab-dashboard');
    const frame = document.createElement('iframe');
    frame.className = 'jp-lakelab-report-frame';
    if (mode === 'pinned') {
      // the stored page: an opaque origin, no access to Jupyter or the network (as reports)
      frame.setAttribute('sandbox', REPORT_SANDBOX);
    }
    // the live view is Voilà's own page: it must reach its kernel's websocket with the login cookie
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.title = `Dashboard ${name}, version ${version} (${mode})`;
    frame.src = URLExt.join(baseUrl, API_PREFIX, dashboardPath(name, version, mode));
    this.node.append(frame);
  }
}

function freshness(send: Requester, name: string, version?: number): Promise<Freshness> {
  return request(send, 'get', '/dashboards/{name}', {
    path: { name },
    query: { version: version === undefined ? undefined : String(version) }
  });
}

/** Marks stale dashboards' rows in the sidebar (it re-renders rows, so marks are re-applied). */
class StaleMarks {
  private _stale = new Map<string, string>();
  private _observer = new MutationObserver(() => this.apply());

  constructor(private readonly send: Requester) {}

  watch(root: HTMLElement): void {
    this._observer.observe(root, { childList: true, subtree: true });
  }

  async poll(): Promise<void> {
    try {
      const body = await request(this.send, 'get', '/dashboards', {});
      this._stale = new Map(body.dashboards.filter(d => d.stale).map(d => [d.dataset, freshnessText(d)]));
      this.apply();
    } catch (e) {
      // the sidebar shows the server's state itself; a failed poll only leaves old marks
      console.debug('lakelab: dashboard freshness unavailable', e);
    }
  }

  apply(): void {
    document.querySelectorAll<HTMLElement>('.jp-lakelab-row[data-dataset-kind="dashboard"]').forEach(row => {
      const why = this._stale.get(row.dataset.lakelabDataset ?? '');
      if (row.classList.contains('jp-lakelab-stale') !== Boolean(why)) {
        row.classList.toggle('jp-lakelab-stale', Boolean(why));
      }
      if (why && !row.title.includes(why)) {
        row.title = `${row.title}\n${why}`;
      }
    });
  }
}

/** The dataset view's Dashboard section: freshness and the buttons that open the views. */
export function dashboardSection(name: string, open: (mode: DashboardMode) => void): HTMLElement {
  const root = el('div', 'jp-lakelab-dashboard-state');
  const status = el('span', 'jp-lakelab-dashboard-freshness', 'checking…');
  root.append(status);
  const button = (label: string, mode: DashboardMode) => {
    const b = el('button', `jp-mod-styled jp-lakelab-button jp-lakelab-open-${mode}`, label);
    b.addEventListener('click', () => open(mode));
    root.append(b);
  };
  button('Open pinned', 'pinned');
  button('Open live', 'live');
  button('Live on latest data', 'live-latest');
  freshness(serverRequester(), name)
    .then(f => {
      status.textContent = freshnessText(f);
      status.classList.toggle('jp-lakelab-stale', f.stale);
    })
    .catch(e => (status.textContent = e instanceof ApiError ? e.display : String(e)));
  return root;
}

export const dashboardsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'lakelab:dashboards',
  description: 'Publish notebooks as dashboards; pinned and live views; freshness.',
  autoStart: true,
  optional: [ICommandPalette, INotebookTracker],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null, notebooks: INotebookTracker | null) => {
    const send = serverRequester();
    const baseUrl = ServerConnection.makeSettings().baseUrl;
    const tracker = new WidgetTracker<MainAreaWidget<DashboardView>>({ namespace: 'lakelab-dashboard' });
    const marks = new StaleMarks(send);

    app.commands.addCommand(OPEN_DASHBOARD, {
      label: 'Open Dashboard',
      caption: 'Show a dashboard: its pinned page (sandboxed), or live in a fresh view-only kernel',
      execute: async args => {
        const hit = app.contextMenuHitTest(node => !!node.dataset?.lakelabDataset);
        const name = typeof args.name === 'string' ? args.name : (hit?.dataset.lakelabDataset ?? '');
        const mode = (
          ['pinned', 'live', 'live-latest'].includes(String(args.mode)) ? args.mode : 'pinned'
        ) as DashboardMode;
        let state: Freshness;
        try {
          state = await freshness(send, name, typeof args.version === 'number' ? args.version : undefined);
        } catch (e) {
          Notification.error(`Could not open dashboard ${name}: ${e instanceof ApiError ? e.display : e}`);
          return;
        }
        const id = `lakelab-dashboard-${name}-v${state.version}-${mode}`;
        const existing = tracker.find(w => w.id === id);
        if (existing) {
          app.shell.activateById(id);
          return existing;
        }
        const widget = new MainAreaWidget({ content: new DashboardView(name, state.version, mode, baseUrl) });
        const note = new Widget();
        note.addClass('jp-lakelab-report-note');
        note.node.textContent = `${name} · ${freshnessText(state)} · ${
          mode === 'pinned' ? 'pinned page, sandboxed' : mode === 'live' ? 'live, inputs pinned' : 'live, latest inputs'
        }`;
        note.node.classList.toggle('jp-lakelab-stale', state.stale);
        for (const [key, label, m] of [
          ['pinned', 'Pinned', 'pinned'],
          ['live', 'Live', 'live'],
          ['latest', 'Live on latest', 'live-latest']
        ] as const) {
          widget.toolbar.addItem(
            key,
            new ToolbarButton({
              label,
              className: `jp-lakelab-dashboard-${key}`,
              onClick: () => void app.commands.execute(OPEN_DASHBOARD, { name, version: state.version, mode: m })
            })
          );
        }
        widget.toolbar.addItem('note', note);
        widget.id = id;
        widget.title.label = `${name} v${state.version}${mode === 'pinned' ? '' : ' (live)'}`;
        widget.title.icon = kindIcon('dashboard');
        widget.title.closable = true;
        void tracker.add(widget);
        app.shell.add(widget, 'main');
        app.shell.activateById(id);
        return widget;
      }
    });

    app.commands.addCommand(PUBLISH_DASHBOARD, {
      label: 'Publish Notebook as Dashboard',
      caption: 'Save the notebook, run it top to bottom in a fresh kernel and publish a new dashboard version',
      isEnabled: () => Boolean(notebooks?.currentWidget),
      execute: async args => {
        const panel = notebooks?.currentWidget;
        if (!panel) {
          return;
        }
        let name = typeof args.name === 'string' ? args.name : '';
        if (!name) {
          const stem = panel.context.path
            .split('/')
            .pop()!
            .replace(/\.ipynb$/, '');
          const answer = await InputDialog.getText({
            title: 'Publish as dashboard',
            label: 'Dataset name',
            text: `dashboards.${stem}`
          });
          if (!answer.button.accept || !answer.value) {
            return;
          }
          name = answer.value;
        }
        await panel.context.save();
        const id = Notification.emit(`Publishing ${name}: running the notebook in a fresh kernel…`, 'in-progress', {
          autoClose: false
        });
        try {
          const state = await request(send, 'post', '/dashboards', { body: { notebook: panel.context.path, name } });
          Notification.update({
            id,
            message: `Published ${name} version ${state.version}`,
            type: 'success',
            autoClose: 4000
          });
          void marks.poll();
          await app.commands.execute(OPEN_DASHBOARD, { name, version: state.version, mode: 'pinned' });
        } catch (e) {
          Notification.update({
            id,
            message: `Could not publish ${name}: ${e instanceof ApiError ? e.display : e}`,
            type: 'error',
            autoClose: false
          });
        }
      }
    });
    palette?.addItem({ command: PUBLISH_DASHBOARD, category: 'Lakehouse' });
    app.contextMenu.addItem({ command: PUBLISH_DASHBOARD, selector: '.jp-Notebook', rank: 90 });
    app.contextMenu.addItem({
      command: OPEN_DASHBOARD,
      selector: '.jp-lakelab-row[data-dataset-kind="dashboard"]',
      rank: -1
    });

    // freshness is re-read whenever the sidebar is refreshed or a dashboard is opened or published
    app.commands.commandExecuted.connect((_, { id }) => {
      if (id === 'lakelab:refresh' || id === OPEN_DASHBOARD) {
        void marks.poll();
      }
    });
    void app.restored.then(() => {
      const sidebar = document.getElementById('lakelab-sidebar');
      if (sidebar) {
        marks.watch(sidebar);
      }
      void marks.poll();
      window.setInterval(() => {
        if (sidebar?.offsetParent) {
          void marks.poll(); // only while the sidebar is shown
        }
      }, POLL_MS);
    });
  }
};
