/**
 * The Workspaces panel plugin: the panel in the left area, and commands for its actions.
 * Register it by adding `workspacesPlugin` to the `plugins` list in src/index.ts.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';

import { API_PREFIX } from '../api';
import { serverRequester } from '../connection';
import { WorkspacesClient, connectCode } from './api';
import { WorkspacePanel } from './panel';

export const WORKSPACES_PLUGIN_ID = 'lakelab:workspaces';

const icon = new LabIcon({
  name: 'lakelab:workspaces',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<circle cx="12" cy="5" r="3"/><circle cx="5" cy="18" r="3"/><circle cx="19" cy="18" r="3"/>' +
    '<path d="M11 8h2v4l5 4-1 1.5-5-4-5 4-1-1.5 5-4z"/></g></svg>'
});

export const workspacesPlugin: JupyterFrontEndPlugin<void> = {
  id: WORKSPACES_PLUGIN_ID,
  description: 'Ray workspaces: create, watch, scale, stop, open the dashboard, insert connect code',
  autoStart: true,
  optional: [INotebookTracker, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    notebooks: INotebookTracker | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const settings = ServerConnection.makeSettings();
    // the notebook last active in the main area (clicking the sidebar does not change it)
    const insertConnect = (name: string): string | null => {
      const panel = notebooks?.currentWidget;
      if (!panel?.content.model) {
        return null;
      }
      const shared = panel.content.model.sharedModel;
      const active = panel.content.activeCellIndex;
      const current = shared.cells[active];
      if (current && current.cell_type === 'code' && !current.getSource().trim()) {
        current.setSource(connectCode(name)); // an empty code cell (a new notebook's): fill it
      } else {
        const at = Math.min(active + 1, shared.cells.length);
        shared.insertCell(at, { cell_type: 'code', source: connectCode(name) });
        panel.content.activeCellIndex = at;
      }
      return panel.title.label || panel.context.path;
    };
    const panel = new WorkspacePanel({
      client: new WorkspacesClient(serverRequester(settings)),
      dashboardUrl: name =>
        URLExt.join(settings.baseUrl, API_PREFIX, 'workspaces', encodeURIComponent(name), 'dashboard/'),
      insertConnect,
      confirm: async (title, body, action) =>
        (
          await showDialog({
            title,
            body,
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: action })]
          })
        ).button.accept
    });
    panel.title.icon = icon;
    app.shell.add(panel, 'left', { rank: 210 });
    restorer?.add(panel, WORKSPACES_PLUGIN_ID);

    app.commands.addCommand('lakelab:workspaces-refresh', {
      label: 'Refresh Ray workspaces',
      execute: () => panel.poll.refresh()
    });
    app.commands.addCommand('lakelab:workspaces-open', {
      label: 'Show Ray workspaces',
      execute: () => app.shell.activateById(panel.id)
    });
    for (const command of ['lakelab:workspaces-refresh', 'lakelab:workspaces-open']) {
      palette?.addItem({ command, category: 'lakelab' });
    }
  }
};

export default workspacesPlugin;
