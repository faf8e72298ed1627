/** The versions of a model or report: newest first, with checksum, libraries and (reports) an Open button. */
import { IDatasetDetail } from './api';
import { el } from './dom';
import { formatBytes } from './text';

export function versionsTable(d: IDatasetDetail, openReport: (version: number) => void): HTMLElement {
  if (!d.versions.length) {
    return el('div', 'jp-lakelab-muted', `No versions of this ${d.kind} yet.`);
  }
  const table = el('table', 'jp-lakelab-table');
  const head = el('tr');
  const cols = ['version', 'created', 'by', 'size', 'sha256', d.kind === 'model' ? 'libraries' : 'format', ''];
  for (const h of cols) {
    head.append(el('th', '', h));
  }
  table.append(el('thead'), el('tbody'));
  table.tHead!.append(head);
  for (const v of [...d.versions].reverse()) {
    const tr = el('tr', 'jp-lakelab-version');
    tr.dataset.version = String(v.version);
    tr.title = v.uri;
    const sha = el('td', 'jp-lakelab-mono jp-lakelab-sha', v.sha256 ? v.sha256.slice(0, 12) : '');
    sha.title = v.sha256 ?? '';
    const libs = Object.entries(v.libraries).map(([k, x]) => `${k} ${x}`).join(', ');
    const last = el('td');
    if (d.kind === 'report') {
      const open = el('button', 'jp-mod-styled jp-lakelab-button jp-lakelab-open-version', 'Open');
      open.title = `Open version ${v.version} of the report in a sandboxed tab`;
      open.addEventListener('click', () => openReport(v.version));
      last.append(open);
    }
    tr.append(
      el('td', '', String(v.version)),
      el('td', '', v.createdAt ? new Date(v.createdAt).toLocaleString() : ''),
      el('td', '', v.createdBy ?? ''),
      el('td', '', formatBytes(v.bytes)),
      sha,
      el('td', d.kind === 'model' ? 'jp-lakelab-libraries' : 'jp-lakelab-format', d.kind === 'model' ? libs : v.format ?? ''),
      last
    );
    table.tBodies[0].append(tr);
  }
  return table;
}
