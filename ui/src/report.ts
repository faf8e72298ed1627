/**
 * A report version in a JupyterLab tab. The page is the server's own response (served with
 * a sandboxing CSP) in an iframe sandboxed to `allow-scripts` only: never
 * `allow-same-origin`, so the report runs in an opaque origin and cannot reach the Jupyter
 * server, its cookies or this page.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';

import { API_PREFIX, ApiError, LakelabClient, reportPath } from './api';
import { kindIcon } from './icons';

export const OPEN_REPORT = 'lakelab:open-report';
export const REPORT_SANDBOX = 'allow-scripts';

export class ReportView extends Widget {
  constructor(
    readonly name: string,
    readonly version: number,
    baseUrl: string
  ) {
    super();
    this.addClass('jp-lakelab-report');
    const frame = document.createElement('iframe');
    frame.className = 'jp-lakelab-report-frame';
    frame.setAttribute('sandbox', REPORT_SANDBOX);
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.title = `Report ${name}, version ${version}`;
    // a plain GET of the page: the browser sends Jupyter's login cookie with it
    frame.src = URLExt.join(baseUrl, API_PREFIX, reportPath(name, version));
    this.node.append(frame);
  }
}

export interface IReportContext {
  app: JupyterFrontEnd;
  client: LakelabClient;
  palette: ICommandPalette | null;
  /** The report a command acts on: its argument, the right-clicked row, or one the user picks. */
  target: (args: Record<string, unknown>) => Promise<string | null>;
}

/** The "Open report" command, its tracker (restored on reload), palette and context-menu items. */
export function registerReports(
  ctx: IReportContext,
  restorer: ILayoutRestorer | null
): WidgetTracker<MainAreaWidget<ReportView>> {
  const { app, client } = ctx;
  const tracker = new WidgetTracker<MainAreaWidget<ReportView>>({ namespace: 'lakelab-report' });
  const baseUrl = ServerConnection.makeSettings().baseUrl;

  app.commands.addCommand(OPEN_REPORT, {
    label: args =>
      typeof args.name === 'string' && args.name
        ? `Open Report ${args.name}${typeof args.version === 'number' ? ` v${args.version}` : ''}`
        : args.menu
          ? 'Open Report'
          : 'Open Report…',
    caption: 'Show a report dataset (latest version unless one is given) in a sandboxed tab',
    execute: async args => {
      const name = await ctx.target(args);
      if (!name) {
        return; // the picker was cancelled
      }
      let version = typeof args.version === 'number' ? args.version : null;
      try {
        const detail = await client.dataset(name);
        if (detail.kind !== 'report') {
          Notification.warning(`${name} is a ${detail.kind}, not a report.`, { autoClose: 4000 });
          return;
        }
        const versions = detail.versions ?? [];
        if (version === null) {
          if (!versions.length) {
            Notification.warning(`${name} has no versions yet.`, { autoClose: 4000 });
            return;
          }
          version = Math.max(...versions.map(v => v.version));
        }
      } catch (e) {
        Notification.error(`Could not open report ${name}: ${e instanceof ApiError ? e.display : e}`);
        return;
      }
      const id = `lakelab-report-${name}-v${version}`;
      const existing = tracker.find(w => w.id === id);
      if (existing) {
        app.shell.activateById(existing.id);
        return existing;
      }
      const widget = new MainAreaWidget({ content: new ReportView(name, version, baseUrl) });
      const note = new Widget();
      note.addClass('jp-lakelab-report-note');
      note.node.textContent = `${name} · version ${version} · sandboxed: no access to Jupyter or the network`;
      widget.toolbar.addItem(
        'open-dataset',
        new ToolbarButton({
          label: 'Open dataset',
          tooltip: `Open the dataset view of ${name}: versions and lineage`,
          className: 'jp-lakelab-report-dataset',
          onClick: () => void app.commands.execute('lakelab:open-dataset', { name })
        })
      );
      widget.toolbar.addItem('note', note);
      widget.id = id;
      widget.title.label = `${name} v${version}`;
      widget.title.caption = `Report ${name}, version ${version} (sandboxed)`;
      widget.title.icon = kindIcon('report');
      widget.title.closable = true;
      void tracker.add(widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    }
  });
  app.contextMenu.addItem({
    command: OPEN_REPORT,
    selector: '.jp-lakelab-row[data-dataset-kind="report"]',
    rank: -1,
    args: { menu: true }
  });
  ctx.palette?.addItem({ command: OPEN_REPORT, category: 'Lakehouse' });
  if (restorer) {
    void restorer.restore(tracker, {
      command: OPEN_REPORT,
      args: w => ({ name: w.content.name, version: w.content.version }),
      name: w => `${w.content.name}@${w.content.version}`
    });
  }
  return tracker;
}
