/** The versions of a model or report: newest first, with checksum, libraries and (reports) an Open button. */
import { DatasetDetail, Version } from './api';
import { el } from './dom';
import { formatBytes } from './text';

/** A version's artifact format (openapi.yaml leaves `metadata` an open object: checked here). */
export function versionFormat(v: Version): string | null {
  return typeof v.metadata.format === 'string' ? v.metadata.format : null;
}

/** Library name -> version needed to load a model, from the version's metadata. */
export function versionLibraries(v: Version): Record<string, string> {
  const libs = v.metadata.libraries;
  if (!libs || typeof libs !== 'object' || Array.isArray(libs)) {
    return {};
  }
  return Object.fromEntries(Object.entries(libs).map(([k, x]) => [k, String(x)]));
}

export function versionsTable(d: DatasetDetail, openReport: (version: number) => void): HTMLElement {
  const versions = d.versions ?? [];
  if (!versions.length) {
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
  for (const v of [...versions].reverse()) {
    const tr = el('tr', 'jp-lakelab-version');
    tr.dataset.version = String(v.version);
    tr.title = v.uri;
    const sha = el('td', 'jp-lakelab-mono jp-lakelab-sha', v.sha256 ? v.sha256.slice(0, 12) : '');
    sha.title = v.sha256 ?? '';
    const libs = Object.entries(versionLibraries(v))
      .map(([k, x]) => `${k} ${x}`)
      .join(', ');
    const last = el('td');
    if (d.kind === 'report' || d.kind === 'dashboard') {
      const open = el('button', 'jp-mod-styled jp-lakelab-button jp-lakelab-open-version', 'Open');
      open.title = `Open version ${v.version} of the report in a sandboxed tab`;
      open.addEventListener('click', () => openReport(v.version));
      last.append(open);
    }
    tr.append(
      el('td', '', String(v.version)),
      el('td', '', v.created_at ? new Date(v.created_at).toLocaleString() : ''),
      el('td', '', v.created_by),
      el('td', '', formatBytes(v.bytes)),
      sha,
      el(
        'td',
        d.kind === 'model' ? 'jp-lakelab-libraries' : 'jp-lakelab-format',
        d.kind === 'model' ? libs : (versionFormat(v) ?? '')
      ),
      last
    );
    table.tBodies[0].append(tr);
  }
  return table;
}
