/**
 * Every user action is a command (palette, context menu, buttons): open a dataset, open
 * its preview, query it in a notebook, copy its name or a SELECT, refresh.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { LakelabClient } from './api';
import { DatasetView } from './datasetView';
import { lakehouseIcon } from './icons';
import { OPEN_DASHBOARD } from './dashboard';
import { OPEN_REPORT, registerReports } from './report';
import { selectSql, trinoCell } from './text';
import { LakehouseSidebar } from './sidebar';

export const CommandIDs = {
  open: 'lakelab:open-dataset',
  openPreview: 'lakelab:open-preview',
  query: 'lakelab:query-in-notebook',
  copyName: 'lakelab:copy-name',
  copySelect: 'lakelab:copy-select',
  refresh: 'lakelab:refresh'
} as const;

export const LOAD_EXT = '%load_ext lakelab';

export interface ICommandContext {
  app: JupyterFrontEnd;
  client: LakelabClient;
  sidebar: LakehouseSidebar;
  tracker: WidgetTracker<MainAreaWidget<DatasetView>>;
  notebooks: INotebookTracker | null;
  docManager: IDocumentManager | null;
  palette: ICommandPalette | null;
  settings: () => { pageSize: number; maxRows: number };
}

/** The dataset a command acts on: its argument, the right-clicked row, the current view, the selection. */
function target(ctx: ICommandContext, args: Record<string, unknown>): string | null {
  if (typeof args.name === 'string' && args.name) {
    return args.name;
  }
  const hit = ctx.app.contextMenuHitTest(node => !!node.dataset?.lakelabDataset);
  if (hit?.dataset.lakelabDataset) {
    return hit.dataset.lakelabDataset;
  }
  const current = ctx.tracker.currentWidget;
  if (current && ctx.app.shell.currentWidget === current) {
    return current.content.name;
  }
  return ctx.sidebar.selected?.name ?? null;
}

export async function openDataset(ctx: ICommandContext, name: string): Promise<MainAreaWidget<DatasetView>> {
  const existing = ctx.tracker.find(w => w.content.name === name);
  if (existing) {
    ctx.app.shell.activateById(existing.id);
    return existing;
  }
  const { pageSize, maxRows } = ctx.settings();
  const view = new DatasetView({ client: ctx.client, name, pageSize, maxRows });
  const widget = new MainAreaWidget({ content: view });
  widget.id = `lakelab-dataset-${name}`;
  widget.title.label = name;
  widget.title.icon = lakehouseIcon;
  widget.title.closable = true;
  view.actionRequested.connect((_, req) => {
    const command = {
      open: CommandIDs.open,
      query: CommandIDs.query,
      'copy-select': CommandIDs.copySelect,
      'open-report': OPEN_REPORT,
      'open-dashboard': OPEN_DASHBOARD
    }[req.action];
    void ctx.app.commands.execute(command, {
      name: req.name,
      ...(req.version === undefined ? {} : { version: req.version }),
      ...(req.mode === undefined ? {} : { mode: req.mode })
    });
  });
  void ctx.tracker.add(widget);
  ctx.app.shell.add(widget, 'main');
  ctx.app.shell.activateById(widget.id);
  void view.load();
  return widget;
}

/** Insert the %%trino cell after the active cell of the current notebook, or in a new one. */
export async function queryInNotebook(ctx: ICommandContext, name: string): Promise<NotebookPanel> {
  let panel = ctx.notebooks?.currentWidget ?? null;
  if (!panel) {
    if (!ctx.docManager) {
      throw new Error('no document manager to create a notebook with');
    }
    const model = await ctx.app.serviceManager.contents.newUntitled({ type: 'notebook', path: '' });
    const kernel = ctx.app.serviceManager.kernelspecs.specs?.default ?? 'python3';
    panel = ctx.docManager.open(model.path, 'Notebook', { name: kernel }) as NotebookPanel;
    await panel.context.ready;
  }
  const notebook = panel.content;
  const shared = notebook.model!.sharedModel;
  const cells = shared.cells;
  // the magic needs the extension loaded once per kernel: add the line if no cell has it
  const loaded = cells.some(c => c.getSource().includes(LOAD_EXT));
  const fresh = [
    ...(loaded ? [] : [{ cell_type: 'code', source: LOAD_EXT, metadata: {} }]),
    { cell_type: 'code', source: trinoCell(name), metadata: {} }
  ];
  let index = notebook.activeCellIndex + 1;
  if (cells.length === 1 && cells[0].getSource().trim() === '') {
    // a new notebook's one empty cell is replaced rather than left above the query
    shared.deleteCell(0);
    index = 0;
  }
  shared.insertCells(Math.min(index, shared.cells.length), fresh as never);
  notebook.activeCellIndex = Math.min(index, shared.cells.length - 1) + fresh.length - 1;
  ctx.app.shell.activateById(panel.id);
  return panel;
}

export function registerCommands(ctx: ICommandContext, restorer: ILayoutRestorer | null = null): void {
  const { app } = ctx;
  registerReports({ app, client: ctx.client, palette: ctx.palette, target: args => target(ctx, args) }, restorer);
  const need = (args: Record<string, unknown>) => {
    const name = target(ctx, args);
    if (!name) {
      Notification.warning('Select a dataset in the Lakehouse sidebar first.', { autoClose: 4000 });
    }
    return name;
  };
  const label = (verb: string) => (args: Record<string, unknown>) =>
    typeof args.name === 'string' && args.name ? `${verb} ${args.name}` : verb;

  app.commands.addCommand(CommandIDs.open, {
    label: label('Open Dataset'),
    caption: 'Open the dataset view: metadata, schema, snapshots, lineage and a preview',
    execute: async args => {
      const name = need(args);
      return name ? openDataset(ctx, name) : undefined;
    }
  });
  app.commands.addCommand(CommandIDs.openPreview, {
    label: label('Open Preview'),
    caption: 'Open the dataset view scrolled to its preview',
    execute: async args => {
      const name = need(args);
      if (!name) {
        return;
      }
      const widget = await openDataset(ctx, name);
      widget.node.querySelector('.jp-lakelab-preview')?.scrollIntoView();
      return widget;
    }
  });
  app.commands.addCommand(CommandIDs.query, {
    label: label('Query in Notebook'),
    caption: 'Insert a %%trino SELECT cell for the dataset into the active notebook (or a new one)',
    execute: async args => {
      const name = need(args);
      if (!name) {
        return;
      }
      try {
        return await queryInNotebook(ctx, name);
      } catch (e) {
        Notification.error(`Could not insert the query: ${e}`);
      }
    }
  });
  app.commands.addCommand(CommandIDs.copyName, {
    label: label('Copy Dataset Name'),
    execute: args => {
      const name = need(args);
      if (name) {
        Clipboard.copyToSystem(name);
        Notification.info(`Copied ${name}`, { autoClose: 2000 });
      }
    }
  });
  app.commands.addCommand(CommandIDs.copySelect, {
    label: label('Copy SELECT'),
    execute: args => {
      const name = need(args);
      if (name) {
        Clipboard.copyToSystem(selectSql(name));
        Notification.info(`Copied ${selectSql(name)}`, { autoClose: 2000 });
      }
    }
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh Lakehouse',
    execute: () => ctx.sidebar.refresh()
  });

  const selector = '.jp-lakelab-row[data-kind="dataset"]';
  let rank = 0;
  for (const command of [
    CommandIDs.open,
    CommandIDs.openPreview,
    CommandIDs.query,
    CommandIDs.copyName,
    CommandIDs.copySelect
  ]) {
    app.contextMenu.addItem({ command, selector, rank: rank++ });
    ctx.palette?.addItem({ command, category: 'Lakehouse' });
  }
  app.contextMenu.addItem({ command: CommandIDs.refresh, selector: '.jp-lakelab-sidebar', rank: 100 });
  ctx.palette?.addItem({ command: CommandIDs.refresh, category: 'Lakehouse' });
}
