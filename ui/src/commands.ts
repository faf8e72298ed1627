/**
 * Every user action is a command (palette, context menu, buttons): open a dataset, open
 * its preview, query it in a notebook, copy its name or a SELECT, refresh.
 */
import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, ICommandPalette, MainAreaWidget, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { DatasetKind, LakelabClient } from './api';
import { DatasetView } from './datasetView';
import { lakehouseIcon } from './icons';
import { OPEN_DASHBOARD } from './dashboard';
import { OPEN_REPORT, registerReports } from './report';
import { pickDataset } from './datasetPicker';
import { columnCell, namespaceCell, newDatasetCell, selectSql, trinoCell } from './text';
import { LakehouseSidebar } from './sidebar';

export const CommandIDs = {
  open: 'lakelab:open-dataset',
  openPreview: 'lakelab:open-preview',
  query: 'lakelab:query-in-notebook',
  copyName: 'lakelab:copy-name',
  copySelect: 'lakelab:copy-select',
  copyNamespace: 'lakelab:copy-namespace-name',
  newDatasetHere: 'lakelab:new-dataset-here',
  queryNamespace: 'lakelab:query-namespace',
  copyColumn: 'lakelab:copy-column-name',
  queryColumn: 'lakelab:query-column',
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

/** The dataset a command acts on: its argument, or the right-clicked row; otherwise (the
 * palette) the user picks one, offered the dataset in view or selected first. */
export async function target(
  ctx: ICommandContext,
  args: Record<string, unknown>,
  title: string,
  kind?: DatasetKind
): Promise<string | null> {
  if (typeof args.name === 'string' && args.name) {
    return args.name;
  }
  const hit = ctx.app.contextMenuHitTest(node => !!node.dataset?.lakelabDataset);
  if (hit?.dataset.lakelabDataset) {
    return hit.dataset.lakelabDataset;
  }
  const current = ctx.tracker.currentWidget;
  const inView = current && ctx.app.shell.currentWidget === current ? current.content.name : null;
  const initial = inView ?? ctx.sidebar.selected?.name ?? null;
  return pickDataset(ctx.client, { title, action: title.split(' ')[0], kind, initial });
}

/** The namespace or column a context-menu item was opened on. */
function hitData(ctx: ICommandContext, key: 'lakelabNamespace' | 'lakelabColumn'): DOMStringMap | null {
  return ctx.app.contextMenuHitTest(node => !!node.dataset?.[key])?.dataset ?? null;
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

/** The notebook the user is in: the main area's current widget, when it is a notebook
 * (not the notebook last active, which may be out of sight behind a dataset view). */
function notebookInView(ctx: ICommandContext): NotebookPanel | null {
  const current = ctx.app.shell.currentWidget;
  return current && ctx.notebooks?.has(current) ? (current as NotebookPanel) : null;
}

/**
 * Insert the %%trino cell below the active cell of the notebook the user is in, or into a
 * new notebook; `%load_ext lakelab` is ensured at the top and loaded in the kernel, so the
 * new cell runs as it is. No other notebook is touched.
 */
export function queryInNotebook(ctx: ICommandContext, name: string): Promise<NotebookPanel> {
  return insertCell(ctx, trinoCell(name));
}

/** Insert `source` as a code cell the way queryInNotebook does. */
export async function insertCell(ctx: ICommandContext, source: string): Promise<NotebookPanel> {
  let panel = notebookInView(ctx);
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
  const fresh = shared.cells.length === 1 && shared.cells[0].getSource().trim() === '';
  let index = fresh ? 0 : notebook.activeCellIndex + 1;
  if (fresh) {
    shared.deleteCell(0); // a new notebook's one empty cell is replaced, not left above the query
  }
  // the magic needs the extension loaded once per kernel: at the top, if no cell loads it
  if (!shared.cells.some(c => c.getSource().includes(LOAD_EXT))) {
    shared.insertCell(0, { cell_type: 'code', source: LOAD_EXT });
    index += 1;
  }
  index = Math.min(index, shared.cells.length);
  shared.insertCell(index, { cell_type: 'code', source });
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  ctx.app.shell.activateById(panel.id);
  void notebook.scrollToItem(index);
  loadExtension(panel).catch(e => console.warn('lakelab: could not load the extension in the kernel', e));
  return panel;
}

/** Load the extension in the notebook's kernel (quietly) so the inserted cell runs first time. */
async function loadExtension(panel: NotebookPanel): Promise<void> {
  const session = panel.sessionContext;
  await session.ready;
  const kernel = session.session?.kernel;
  if (kernel) {
    await kernel.requestExecute({ code: LOAD_EXT, silent: true, store_history: false }).done;
  }
}

export function registerCommands(ctx: ICommandContext, restorer: ILayoutRestorer | null = null): void {
  const { app } = ctx;
  registerReports(
    { app, client: ctx.client, palette: ctx.palette, target: args => target(ctx, args, 'Open Report', 'report') },
    restorer
  );
  // with a name (a button) the label names it; in the palette "…" says it asks (the
  // context menu passes `menu`: it acts on the row right-clicked)
  const label = (verb: string) => (args: Record<string, unknown>) =>
    typeof args.name === 'string' && args.name ? `${verb} ${args.name}` : args.menu ? verb : `${verb}…`;
  const copy = (text: string) => {
    Clipboard.copyToSystem(text);
    Notification.info(`Copied ${text}`, { autoClose: 2000 });
  };
  const insert = async (source: string) => {
    try {
      return await insertCell(ctx, source);
    } catch (e) {
      Notification.error(`Could not insert the cell: ${e}`);
    }
  };

  app.commands.addCommand(CommandIDs.open, {
    label: label('Open Dataset'),
    caption: 'Open the dataset view: metadata, schema, snapshots, lineage and a preview',
    execute: async args => {
      const name = await target(ctx, args, 'Open Dataset');
      return name ? openDataset(ctx, name) : undefined;
    }
  });
  app.commands.addCommand(CommandIDs.openPreview, {
    label: label('Open Preview'),
    caption: 'Open the dataset view scrolled to its preview',
    execute: async args => {
      const name = await target(ctx, args, 'Open Preview');
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
    caption: 'Insert a %%trino SELECT cell below the active cell of the notebook in view (or a new notebook)',
    execute: async args => {
      const name = await target(ctx, args, 'Query in Notebook');
      return name ? insert(trinoCell(name)) : undefined;
    }
  });
  app.commands.addCommand(CommandIDs.copyName, {
    label: label('Copy Dataset Name'),
    execute: async args => {
      const name = await target(ctx, args, 'Copy Dataset Name');
      if (name) {
        copy(name);
      }
    }
  });
  app.commands.addCommand(CommandIDs.copySelect, {
    label: label('Copy SELECT'),
    execute: async args => {
      const name = await target(ctx, args, 'Copy SELECT');
      if (name) {
        copy(selectSql(name));
      }
    }
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh Lakehouse',
    execute: () => ctx.sidebar.refresh()
  });

  // namespaces and columns (context menu only: they act on the row right-clicked)
  const namespaceOf = () => hitData(ctx, 'lakelabNamespace')?.lakelabNamespace ?? null;
  const columnOf = () => {
    const d = hitData(ctx, 'lakelabColumn');
    return d?.lakelabColumn && d.lakelabDataset ? { column: d.lakelabColumn, dataset: d.lakelabDataset } : null;
  };
  app.commands.addCommand(CommandIDs.copyNamespace, {
    label: 'Copy Namespace Name',
    isEnabled: () => namespaceOf() !== null,
    execute: () => {
      const ns = namespaceOf();
      if (ns) {
        copy(ns);
      }
    }
  });
  app.commands.addCommand(CommandIDs.newDatasetHere, {
    label: 'New Dataset Here',
    caption: 'Insert a %%trino --into cell that writes a new dataset in this namespace',
    isEnabled: () => namespaceOf() !== null,
    execute: () => {
      const ns = namespaceOf();
      return ns ? insert(newDatasetCell(ns)) : undefined;
    }
  });
  app.commands.addCommand(CommandIDs.queryNamespace, {
    label: 'Query Namespace in Notebook',
    caption: "Insert a %%trino cell listing the namespace's datasets",
    isEnabled: () => namespaceOf() !== null,
    execute: () => {
      const ns = namespaceOf();
      return ns ? insert(namespaceCell(ns)) : undefined;
    }
  });
  app.commands.addCommand(CommandIDs.copyColumn, {
    label: 'Copy Column Name',
    isEnabled: () => columnOf() !== null,
    execute: () => {
      const c = columnOf();
      if (c) {
        copy(c.column);
      }
    }
  });
  app.commands.addCommand(CommandIDs.queryColumn, {
    label: 'Query Column in Notebook',
    caption: "Insert a %%trino cell counting the column's values",
    isEnabled: () => columnOf() !== null,
    execute: () => {
      const c = columnOf();
      return c ? insert(columnCell(c.dataset, c.column)) : undefined;
    }
  });

  const datasetRow = '.jp-lakelab-row[data-kind="dataset"]';
  let rank = 0;
  for (const command of [
    CommandIDs.open,
    CommandIDs.openPreview,
    CommandIDs.query,
    CommandIDs.copyName,
    CommandIDs.copySelect
  ]) {
    app.contextMenu.addItem({ command, selector: datasetRow, rank: rank++, args: { menu: true } });
    ctx.palette?.addItem({ command, category: 'Lakehouse' });
  }
  for (const command of [CommandIDs.queryNamespace, CommandIDs.newDatasetHere, CommandIDs.copyNamespace]) {
    app.contextMenu.addItem({ command, selector: '.jp-lakelab-row[data-kind="namespace"]', rank: rank++ });
  }
  for (const command of [CommandIDs.queryColumn, CommandIDs.copyColumn]) {
    app.contextMenu.addItem({ command, selector: '.jp-lakelab-row[data-kind="column"]', rank: rank++ });
  }
  app.contextMenu.addItem({ command: CommandIDs.refresh, selector: '.jp-lakelab-sidebar', rank: 100 });
  ctx.palette?.addItem({ command: CommandIDs.refresh, category: 'Lakehouse' });
}
