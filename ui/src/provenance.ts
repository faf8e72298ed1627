/**
 * What made a snapshot, from the lineage its write recorded: the SQL text, the notebook and
 * cell, the user, the engine, the upstream datasets at their snapshots and the source files.
 * The dataset view shows it under each snapshot's row.
 */
import { Snapshot } from './api';
import { el } from './dom';

/** One line saying how a snapshot was made ("transform by ana on duckdb"). */
export function madeBy(s: Snapshot): string {
  const lin = s.lineage;
  if (!lin) {
    return s.operation ?? '';
  }
  const parts = [lin.operation];
  if (lin.user) {
    parts.push(`by ${lin.user}`);
  }
  if (lin.engine) {
    parts.push(`on ${lin.engine}`);
  }
  return parts.join(' ');
}

/**
 * The details block of a snapshot; `onOpen` opens an upstream dataset (at the snapshot it
 * was read at: the link says which).
 */
export function provenanceDetails(s: Snapshot, onOpen: (name: string) => void): HTMLElement {
  const box = el('div', 'jp-lakelab-provenance');
  const lin = s.lineage;
  if (!lin) {
    box.append(el('div', 'jp-lakelab-muted', 'No lineage recorded: this snapshot was written outside lakelab.'));
    return box;
  }
  const row = (label: string, value: HTMLElement | string, cls = '') => {
    const r = el('div', `jp-lakelab-provenance-row ${cls}`);
    r.append(el('span', 'jp-lakelab-provenance-label', label));
    r.append(typeof value === 'string' ? el('span', 'jp-lakelab-provenance-value', value) : value);
    box.append(r);
  };
  row('made by', lin.operation, 'jp-lakelab-provenance-operation');
  if (lin.user) {
    row('user', lin.user, 'jp-lakelab-provenance-user');
  }
  if (lin.engine) {
    row('engine', lin.engine, 'jp-lakelab-provenance-engine');
  }
  if (lin.notebook || lin.cell) {
    row('notebook', [lin.notebook, lin.cell].filter(Boolean).join(' · '), 'jp-lakelab-provenance-notebook');
  }
  if (lin.upstream.length) {
    const list = el('span', 'jp-lakelab-provenance-value');
    lin.upstream.forEach((u, i) => {
      const link = el('button', 'jp-lakelab-link jp-lakelab-provenance-upstream', u.table);
      link.title = `Open ${u.table}` + (u.snapshot_id ? ` (read at snapshot ${u.snapshot_id})` : '');
      link.addEventListener('click', () => onOpen(u.table));
      list.append(link);
      if (u.snapshot_id) {
        list.append(el('span', 'jp-lakelab-mono jp-lakelab-muted', ` @ ${u.snapshot_id}`));
      }
      if (i < lin.upstream.length - 1) {
        list.append(', ');
      }
    });
    row('upstream', list, 'jp-lakelab-provenance-upstreams');
  }
  if (lin.sources.length) {
    row('sources', lin.sources.join(', '), 'jp-lakelab-provenance-sources');
  }
  if (lin.code) {
    row('code', lin.code, 'jp-lakelab-provenance-code');
  }
  if (lin.sql) {
    const pre = el('pre', 'jp-lakelab-provenance-sql', lin.sql);
    row('SQL', pre, 'jp-lakelab-provenance-sql-row');
  }
  return box;
}
