/**
 * lakelab's JupyterLab plugins. `plugins` is the list JupyterLab loads: add a panel (e.g.
 * workspaces/) by appending its plugin here.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IThemeManager, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { EditorExtensionRegistry, IEditorExtensionRegistry, IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LanguageSupport } from '@codemirror/language';

import { CommandIDs, ICommandContext, openDataset, registerCommands } from './commands';
import { serverClient } from './connection';
import { pickDataset } from './datasetPicker';
import { DatasetView } from './datasetView';
import { handshake } from './handshake';
import { attachSearchSuggestions } from './searchSuggest';
import { LakehouseSidebar } from './sidebar';
import { TreeModel } from './tree';
import { trinoSqlExtension } from './trino';
import { dashboardsPlugin } from './dashboard';
import { workspacesPlugin } from './workspaces/plugin';

export const PLUGIN_ID = 'lakelab:plugin';
export const GO_TO_DATASET = 'lakelab:go-to-dataset';

interface ISettings {
  previewRows: number;
  maxPreviewRows: number;
  hiddenNamespaces: string[];
  pageSize: number;
}

const DEFAULTS: ISettings = { previewRows: 100, maxPreviewRows: 1000000, hiddenNamespaces: [], pageSize: 200 };

const catalogPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The Lakehouse sidebar, dataset views and their commands.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, INotebookTracker, IDocumentManager, ISettingRegistry, IThemeManager],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    docManager: IDocumentManager | null,
    settingRegistry: ISettingRegistry | null,
    themes: IThemeManager | null
  ) => {
    let settings: ISettings = { ...DEFAULTS };
    let serverMaxRows = DEFAULTS.maxPreviewRows;
    const client = serverClient();
    const model = new TreeModel(client, { pageSize: settings.pageSize });
    const sidebar = new LakehouseSidebar(model);
    const tracker = new WidgetTracker<MainAreaWidget<DatasetView>>({ namespace: 'lakelab-dataset' });
    const ctx: ICommandContext = {
      app,
      client,
      sidebar,
      tracker,
      notebooks,
      docManager,
      palette,
      settings: () => ({
        // a page is one request (bounded by the server); pages are read at server offsets, so
        // the grid reaches as deep as the setting allows
        pageSize: Math.min(settings.previewRows, serverMaxRows),
        maxRows: settings.maxPreviewRows
      })
    };
    registerCommands(ctx, restorer);
    app.commands.addCommand(GO_TO_DATASET, {
      label: 'Go to Dataset…',
      caption: 'Find a dataset by name (typos forgiven), kind, owner or tag, and open it',
      execute: async () => {
        const name = await pickDataset(client);
        if (name) {
          await openDataset(ctx, name);
        }
      }
    });
    palette?.addItem({ command: GO_TO_DATASET, category: 'Lakehouse' });
    sidebar.openRequested.connect((_, name) => void openDataset(ctx, name));
    const check = async () => {
      const result = await handshake(client);
      if (result.state === 'ok' && result.info.limits.preview_max_rows) {
        serverMaxRows = result.info.limits.preview_max_rows;
      }
      return result;
    };
    sidebar.recheck = check;
    const searchBox = sidebar.node.querySelector<HTMLInputElement>('input.jp-lakelab-search');
    if (searchBox) {
      attachSearchSuggestions(searchBox, client);
    }
    app.shell.add(sidebar, 'left', { rank: 450 });
    if (restorer) {
      restorer.add(sidebar, sidebar.id);
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: w => ({ name: w.content.name }),
        name: w => w.content.name
      });
    }
    void app.restored.then(() => showOnFirstStart(app, sidebar.id));
    themes?.themeChanged.connect(() => tracker.forEach(w => w.content.applyTheme()));

    // the handshake and the first listing run in the background: a slow or missing
    // server must not hold up JupyterLab's start
    const start = async () => {
      if (settingRegistry) {
        try {
          const loaded = await settingRegistry.load(PLUGIN_ID);
          const apply = () => {
            settings = { ...DEFAULTS, ...(loaded.composite as Partial<ISettings>) };
            model.pageSize = settings.pageSize;
            model.hiddenNamespaces = settings.hiddenNamespaces;
          };
          apply();
          loaded.changed.connect(apply);
        } catch (e) {
          console.warn('lakelab: settings could not be loaded, using defaults', e);
        }
      }
      const result = await check();
      sidebar.setHandshake(result);
      if (result.state === 'ok') {
        await model.refresh();
      }
      sidebar.watch(() => client.fingerprint());
    };
    void start();
  }
};

const FIRST_START_KEY = 'lakelab:sidebar-shown';

/** The first time lakelab's UI starts in a browser (`lakelab lab`'s URL opening the
 * tutorial), the Lakehouse sidebar is the one showing; after that JupyterLab restores
 * whatever the user left open. */
function showOnFirstStart(app: JupyterFrontEnd, id: string): void {
  try {
    if (window.localStorage.getItem(FIRST_START_KEY)) {
      return;
    }
    window.localStorage.setItem(FIRST_START_KEY, '1');
  } catch {
    return; // no storage (a locked-down browser): leave the layout as it is
  }
  app.shell.activateById(id);
}

/** `%%trino` cells highlighted as SQL. */
const trinoPlugin: JupyterFrontEndPlugin<void> = {
  id: 'lakelab:trino-highlighting',
  description: 'Highlights %%trino cells as SQL.',
  autoStart: true,
  requires: [IEditorExtensionRegistry, IEditorLanguageRegistry],
  activate: (app: JupyterFrontEnd, extensions: IEditorExtensionRegistry, languages: IEditorLanguageRegistry) => {
    let support: LanguageSupport | null = null;
    const ready = languages
      .getLanguage('sql')
      .then(lang => (support = lang?.support ?? null))
      .catch(e => {
        console.warn('lakelab: SQL highlighting unavailable', e);
        return null;
      });
    const source = { current: () => support, ready };
    extensions.addExtension({
      name: 'lakelab:trino-sql',
      factory: options => {
        // markdown cells never run magics (a code cell's mime type may still be
        // text/plain while its kernel starts, so only markdown is left out)
        const mime = options.model.mimeType;
        if (mime.includes('markdown') || mime.includes('gfm')) {
          return null;
        }
        return EditorExtensionRegistry.createImmutableExtension(trinoSqlExtension(source));
      }
    });
  }
};

export const plugins: JupyterFrontEndPlugin<any>[] = [catalogPlugin, trinoPlugin, workspacesPlugin, dashboardsPlugin];
export default plugins;
