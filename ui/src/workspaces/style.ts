/**
 * The panel's styles, added once to the document by the panel. They live with the panel
 * (not in ui/style) so the workspaces feature stays in one folder; only JupyterLab theme
 * variables are used, so light and dark themes both work.
 */
const CSS = `
.lakelab-WorkspacePanel {
  display: flex; flex-direction: column; gap: 8px; padding: 8px 10px;
  background: var(--jp-layout-color1); color: var(--jp-ui-font-color1);
  font-size: var(--jp-ui-font-size1); overflow-y: auto;
}
.lakelab-WorkspacePanel [hidden] { display: none !important; }
.lakelab-ws-title { display: flex; align-items: center; justify-content: space-between; }
.lakelab-ws-title h2 {
  margin: 0; font-size: var(--jp-ui-font-size1); font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.05em; color: var(--jp-ui-font-color1);
}
.lakelab-WorkspacePanel button.jp-mod-styled { height: 24px; line-height: 22px; padding: 0 10px; }
.lakelab-WorkspacePanel input {
  box-sizing: border-box; height: 24px; padding: 0 6px; min-width: 0;
  background: var(--jp-input-background, var(--jp-layout-color1)); color: var(--jp-ui-font-color1);
  border: 1px solid var(--jp-border-color1); border-radius: 2px; font-size: var(--jp-ui-font-size1);
}
.lakelab-WorkspacePanel input:focus { outline: 1px solid var(--jp-brand-color1); outline-offset: -1px; }
.lakelab-ws-form {
  display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr) auto; gap: 6px; align-items: end;
  padding: 8px; border: 1px solid var(--jp-border-color2); border-radius: 4px;
  background: var(--jp-layout-color2);
}
.lakelab-ws-form label { display: flex; flex-direction: column; gap: 2px; color: var(--jp-ui-font-color2);
  font-size: var(--jp-ui-font-size0); min-width: 0; }
.lakelab-ws-form label.lakelab-ws-name-field { grid-column: 1 / -1; }
.lakelab-ws-form input { width: 100%; }
.lakelab-ws-limits { grid-column: 1 / -1; color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.lakelab-ws-error:empty, .lakelab-ws-info:empty { display: none; }
.lakelab-ws-error {
  padding: 6px 8px; border-radius: 4px; border-left: 3px solid var(--jp-error-color1);
  background: var(--jp-layout-color2); color: var(--jp-error-color1); white-space: pre-wrap; word-break: break-word;
}
.lakelab-ws-info {
  padding: 6px 8px; border-radius: 4px; border-left: 3px solid var(--jp-success-color1);
  background: var(--jp-layout-color2); color: var(--jp-ui-font-color1);
}
.lakelab-ws-list { display: flex; flex-direction: column; gap: 8px; }
.lakelab-ws-empty { color: var(--jp-ui-font-color2); padding: 8px 2px; }
.lakelab-ws-card {
  border: 1px solid var(--jp-border-color2); border-left: 4px solid var(--jp-border-color1);
  border-radius: 4px; padding: 8px; background: var(--jp-layout-color1);
  display: flex; flex-direction: column; gap: 6px;
}
.lakelab-ws-card.lakelab-ws-running { border-left-color: var(--jp-success-color1); }
.lakelab-ws-card.lakelab-ws-pending, .lakelab-ws-card.lakelab-ws-stopping { border-left-color: var(--jp-warn-color1); }
.lakelab-ws-card.lakelab-ws-failed { border-left-color: var(--jp-error-color1); }
.lakelab-ws-card.lakelab-ws-stopped { opacity: 0.85; }
.lakelab-ws-head { display: flex; align-items: center; gap: 8px; }
.lakelab-ws-name { font-weight: 600; font-size: var(--jp-ui-font-size2); overflow: hidden; text-overflow: ellipsis; }
.lakelab-ws-backend { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.lakelab-ws-state {
  margin-left: auto; padding: 1px 8px; border-radius: 10px; font-size: var(--jp-ui-font-size0);
  font-weight: 600; color: var(--jp-ui-inverse-font-color1); background: var(--jp-border-color1);
}
.lakelab-ws-running .lakelab-ws-state { background: var(--jp-success-color1); }
.lakelab-ws-pending .lakelab-ws-state, .lakelab-ws-stopping .lakelab-ws-state { background: var(--jp-warn-color1); }
.lakelab-ws-failed .lakelab-ws-state { background: var(--jp-error-color1); }
.lakelab-ws-stopped .lakelab-ws-state {
  background: transparent; color: var(--jp-ui-font-color2); border: 1px solid var(--jp-border-color1);
}
.lakelab-ws-facts { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 4px 8px; margin: 0; }
.lakelab-ws-fact { display: flex; flex-direction: column; min-width: 0; }
.lakelab-ws-fact dt { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.lakelab-ws-fact dd { margin: 0; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.lakelab-ws-message { color: var(--jp-ui-font-color2); font-style: italic; word-break: break-word; }
.lakelab-ws-actions { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.lakelab-ws-actions:empty, .lakelab-ws-actions:not(:has(> :not([hidden]))) { display: none; }
.lakelab-ws-actions input { width: 44px; }
.lakelab-ws-card button.jp-mod-styled {
  padding: 0 6px; white-space: nowrap; font-size: var(--jp-ui-font-size0); min-width: 0;
  overflow: hidden; text-overflow: ellipsis;
}
.lakelab-ws-use { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.lakelab-ws-actions .lakelab-ws-workers-label { color: var(--jp-ui-font-color2); font-size: var(--jp-ui-font-size0); }
.lakelab-ws-actions .lakelab-ws-sep { flex: 1; }
`;

export function ensureStyle(doc: Document = document): void {
  if (doc.getElementById('lakelab-ws-style')) {
    return;
  }
  const style = doc.createElement('style');
  style.id = 'lakelab-ws-style';
  style.textContent = CSS;
  doc.head.appendChild(style);
}
