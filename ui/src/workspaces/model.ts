/**
 * What the Workspaces panel shows, as plain functions of the REST records (no DOM), so the
 * formatting and the rules for which action is possible are unit-tested in isolation.
 */
import { IWorkspace, WorkspaceState } from './api';

/** "42 s", "3 min", "1.5 h", "2.0 d"; "-" when unknown (a workspace that is not running). */
export function age(seconds: number | null): string {
  if (seconds === null || seconds < 0) {
    return '-';
  }
  if (seconds >= 86400) {
    return `${(seconds / 86400).toFixed(1)} d`;
  }
  if (seconds >= 3600) {
    return `${(seconds / 3600).toFixed(1)} h`;
  }
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min` : `${Math.round(seconds)} s`;
}

/** Memory in the unit a person reads at a glance: MiB under 1 GiB, else GiB. */
export function memory(bytes: number | null): string {
  if (bytes === null) {
    return '-';
  }
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

function count(x: number | null): string {
  return x === null ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export interface IFact {
  label: string;
  value: string;
}

/** The card's figures. Live ones (nodes, CPUs, memory, tasks) come from the cluster of a
 * running workspace; before that the card shows the requested size, marked as such. */
export function facts(w: IWorkspace): IFact[] {
  const live = w.nodes !== null;
  const planned = 1 + w.workers;
  return [
    { label: 'Nodes', value: live ? count(w.nodes) : w.state === 'pending' ? `${planned} requested` : '-' },
    { label: 'CPUs', value: live ? count(w.cpus) : w.state === 'pending' ? `${planned * w.cpusPerNode} requested` : '-' },
    { label: 'Memory', value: memory(w.memoryBytes) },
    { label: 'Tasks', value: count(w.runningTasks) },
    { label: 'Uptime', value: age(w.uptimeS) },
    { label: 'Idle', value: age(w.idleS) }
  ];
}

export interface IActions {
  connect: boolean;
  dashboard: boolean;
  scale: boolean;
  stop: boolean;
  /** A stopped or failed workspace can be started again with its size. */
  start: boolean;
}

const ENDED: WorkspaceState[] = ['stopped', 'failed'];

export function actions(w: IWorkspace, busy: boolean): IActions {
  const running = w.state === 'running' && !busy;
  const lifecycle = w.backend !== 'attach'; // an attached cluster is not ours to scale or stop
  return {
    connect: w.state === 'running',
    dashboard: running && w.hasDashboard,
    scale: running && lifecycle,
    stop: !busy && lifecycle && !ENDED.includes(w.state),
    start: !busy && lifecycle && ENDED.includes(w.state)
  };
}

/** A workspace the panel stopped: the server forgets it on DELETE, the panel keeps a
 * "stopped" card so the user sees the outcome (and can start it again or dismiss it). */
export function stoppedRecord(w: IWorkspace): IWorkspace {
  return {
    ...w,
    state: 'stopped',
    uptimeS: null,
    idleS: null,
    nodes: null,
    cpus: null,
    memoryBytes: null,
    runningTasks: null,
    message: null
  };
}

/** The cards in order: the server's records, then the ones stopped here that the server
 * no longer lists (a record the server has again, e.g. restarted elsewhere, wins). */
export function merge(server: IWorkspace[], stopped: Map<string, IWorkspace>): IWorkspace[] {
  const names = new Set(server.map(w => w.name));
  return [...server, ...[...stopped.values()].filter(w => !names.has(w.name))];
}

/** Whole numbers from the form's inputs; anything else is sent as typed text so the
 * server's validation (the one source of the rules) answers with its message. */
export function formNumber(text: string): number | string {
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : t;
}
