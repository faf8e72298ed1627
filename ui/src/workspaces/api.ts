/**
 * The workspaces part of lakelab's REST API (`<base_url>lakelab/api/v1/workspaces`).
 * Field names the panel relies on are read here only; the transport is the same injected
 * `Requester` the catalog client uses, so unit tests can run it without a server.
 */
import { ApiError, Requester } from '../api';

export type WorkspaceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface IWorkspace {
  name: string;
  backend: string;
  state: WorkspaceState;
  workers: number;
  cpusPerNode: number;
  uptimeS: number | null;
  idleS: number | null;
  hasDashboard: boolean;
  message: string | null;
  /** Live figures, only from `status()` of a running workspace. */
  nodes: number | null;
  cpus: number | null;
  memoryBytes: number | null;
  runningTasks: number | null;
}

export interface IWorkspaceLimits {
  maxWorkers: number;
  maxCpusPerNode: number;
}

type Json = Record<string, unknown>;

function n(v: unknown): number | null {
  const x = v === null || v === undefined ? NaN : Number(v);
  return Number.isFinite(x) ? x : null;
}

export function parseWorkspace(body: unknown): IWorkspace {
  const b = (body ?? {}) as Json;
  if (typeof b.name !== 'string' || typeof b.state !== 'string') {
    throw new ApiError(0, 'bad_response', 'the server sent a workspace without name or state', 'workspaces');
  }
  const c = (b.cluster && typeof b.cluster === 'object' ? b.cluster : null) as Json | null;
  return {
    name: b.name,
    backend: String(b.backend ?? 'local'),
    state: b.state as WorkspaceState,
    workers: n(b.workers) ?? 0,
    cpusPerNode: n(b.cpus_per_node) ?? 1,
    uptimeS: n(b.uptime_s),
    idleS: n(b.idle_s),
    hasDashboard: Boolean(b.has_dashboard),
    message: b.message === null || b.message === undefined ? null : String(b.message),
    nodes: c ? n(c.node_count) : null,
    cpus: c ? n(c.cpus) : null,
    memoryBytes: c ? n(c.memory_bytes) : null,
    runningTasks: c ? n(c.running_tasks) : null
  };
}

async function fail(resp: Response, path: string): Promise<ApiError> {
  let message = `${path}: ${resp.statusText || 'request failed'}`;
  let code = 'http';
  try {
    const err = (await resp.json())?.error;
    if (err?.message) {
      message = String(err.message);
      code = String(err.code ?? 'error');
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(resp.status, code, message, path);
}

export class WorkspacesClient {
  constructor(private readonly request: Requester) {}

  private async call(path: string, method = 'GET', body?: unknown): Promise<unknown> {
    let resp: Response;
    try {
      resp = await this.request(path, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? undefined : { 'Content-Type': 'application/json' }
      });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the Jupyter server (${path}): ${e}`, path);
    }
    if (!resp.ok) {
      throw await fail(resp, path);
    }
    return resp.json();
  }

  async list(): Promise<{ workspaces: IWorkspace[]; limits: IWorkspaceLimits }> {
    const b = (await this.call('workspaces')) as Json;
    const limits = (b.limits ?? {}) as Json;
    return {
      workspaces: (Array.isArray(b.workspaces) ? b.workspaces : []).map(parseWorkspace),
      limits: { maxWorkers: n(limits.max_workers) ?? 0, maxCpusPerNode: n(limits.max_cpus_per_node) ?? 1 }
    };
  }

  async status(name: string): Promise<IWorkspace> {
    return parseWorkspace(await this.call(`workspaces/${encodeURIComponent(name)}`));
  }

  async create(name: string, cpus: number | string, workers: number | string): Promise<IWorkspace> {
    return parseWorkspace(await this.call('workspaces', 'POST', { name, cpus, workers }));
  }

  async scale(name: string, workers: number | string): Promise<IWorkspace> {
    return parseWorkspace(await this.call(`workspaces/${encodeURIComponent(name)}/scale`, 'POST', { workers }));
  }

  async stop(name: string): Promise<void> {
    await this.call(`workspaces/${encodeURIComponent(name)}`, 'DELETE');
  }
}

/** The code a notebook runs to use a workspace (inserted by the panel). The name is a
 * Python string literal (JSON's quoting is valid Python for workspace names). */
export function connectCode(name: string): string {
  return `import lakelab\nlakelab.workspace(${JSON.stringify(name)}).connect()`;
}
