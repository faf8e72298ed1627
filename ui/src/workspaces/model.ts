/**
 * What the Workspaces panel shows, as plain functions of the REST records (no DOM), so the
 * formatting and the rules for which action is possible are unit-tested in isolation.
 */
import { ConnectedKernel, WorkspaceState, WorkspaceStatus } from './api';

/** "42 s", "3 min", "1.5 h", "2.0 d"; "-" when unknown (a workspace that is not running). */
export function age(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds < 0) {
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
export function memory(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) {
    return '-';
  }
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}

function count(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(1);
}

export interface IFact {
  label: string;
  value: string;
}

/** The card's figures. Live ones (nodes, CPUs, memory, tasks) come from the cluster of a
 * running workspace; before that the card shows the requested size, marked as such. */
export function facts(w: WorkspaceStatus): IFact[] {
  const live = w.cluster ?? null;
  const planned = 1 + (w.workers ?? 0);
  const requested = (n: number) => (w.state === 'pending' ? `${n} requested` : '-');
  return [
    { label: 'Nodes', value: live ? count(live.node_count) : requested(planned) },
    { label: 'CPUs', value: live ? count(live.cpus) : requested(planned * (w.cpus_per_node ?? 1)) },
    { label: 'Memory', value: memory(live?.memory_bytes) },
    { label: 'Tasks', value: count(live?.running_tasks) },
    { label: 'Uptime', value: age(w.uptime_s) },
    { label: 'Idle', value: age(w.idle_s) }
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

export function actions(w: WorkspaceStatus, busy: boolean): IActions {
  const running = w.state === 'running' && !busy;
  const lifecycle = w.backend !== 'attach'; // an attached cluster is not ours to scale or stop
  return {
    connect: w.state === 'running',
    dashboard: running && Boolean(w.has_dashboard),
    scale: running && lifecycle,
    stop: !busy && lifecycle && !ENDED.includes(w.state),
    start: !busy && lifecycle && ENDED.includes(w.state)
  };
}

/** Who a connected process is to the user: its notebook, else its kernel or process id. */
function who(k: ConnectedKernel): string {
  return k.notebook ?? (k.kernel_id ? `kernel ${k.kernel_id.slice(0, 8)}` : `process ${k.pid}`);
}

/** The confirmation a Stop asks for, naming the kernels it will disconnect. */
export function stopQuestion(name: string, connected: ConnectedKernel[]): { title: string; body: string } {
  const title = `Stop workspace ${name}?`;
  if (!connected.length) {
    return { title, body: `Every Ray process of ${name} ends. No notebook kernel is connected to it.` };
  }
  const names = connected.map(who).join(', ');
  const one = connected.length === 1;
  return {
    title,
    body:
      `Connected: ${names}. Stopping disconnects ${one ? 'it' : 'them'} from Ray first; ` +
      (one ? 'its kernel keeps running with its variables.' : 'their kernels keep running with their variables.')
  };
}

/** The line the panel shows after a stop. */
export function stoppedNote(name: string, disconnected: ConnectedKernel[]): string {
  return disconnected.length
    ? `Stopped ${name}; disconnected ${disconnected.map(who).join(', ')} (kernels still running).`
    : `Stopped ${name}.`;
}

/** A form field's whole number: undefined when left empty, null when it is not a whole
 * number (the API takes integers). Its range is the server's to judge: a number out of
 * range is sent, and the server's message shown. */
export function formNumber(text: string): number | null | undefined {
  const t = text.trim();
  if (!t) {
    return undefined;
  }
  return /^-?\d+$/.test(t) ? Number(t) : null;
}
