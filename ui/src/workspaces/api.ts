/**
 * The workspaces part of lakelab's REST API (`<base_url>lakelab/api/v1/workspaces`): the
 * answers' types come from the generated openapi types, and every call is one `request`
 * of the one request function (the same injected `Requester` the catalog client uses).
 */
import type { components } from '../generated/openapi';
import { Requester, request } from '../request';

type Schemas = components['schemas'];

/** A workspace record (list, create, scale). */
export type Workspace = Schemas['Workspace'];
/** A record plus live cluster figures (`status()` of a running workspace). */
export type WorkspaceStatus = Schemas['WorkspaceStatus'];
export type WorkspaceState = Workspace['state'];
/** A notebook kernel (or other process) connected to a workspace. */
export type ConnectedKernel = Schemas['ConnectedKernel'];

export interface IWorkspaceLimits {
  maxWorkers: number;
  maxCpusPerNode: number;
}

/** openapi.yaml leaves WorkspaceList.limits an open object: the two figures the form shows, checked. */
function limitsOf(limits: Record<string, unknown> | undefined): IWorkspaceLimits {
  const whole = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
  return { maxWorkers: whole(limits?.max_workers, 0), maxCpusPerNode: whole(limits?.max_cpus_per_node, 1) };
}

export class WorkspacesClient {
  constructor(private readonly send: Requester) {}

  async list(): Promise<{ workspaces: Workspace[]; limits: IWorkspaceLimits }> {
    const body = await request(this.send, 'get', '/workspaces', {});
    return { workspaces: body.workspaces ?? [], limits: limitsOf(body.limits) };
  }

  status(name: string): Promise<WorkspaceStatus> {
    return request(this.send, 'get', '/workspaces/{name}', { path: { name } });
  }

  /** Start a workspace; `cpus` and `workers` left out take the server's defaults. */
  create(name: string, cpus?: number, workers?: number): Promise<Workspace> {
    return request(this.send, 'post', '/workspaces', { body: { name, cpus, workers } });
  }

  scale(name: string, workers: number): Promise<Workspace> {
    return request(this.send, 'post', '/workspaces/{name}/scale', { path: { name }, body: { workers } });
  }

  /** Stop a workspace; the kernels that were connected to it (now disconnected, alive). */
  async stop(name: string): Promise<ConnectedKernel[]> {
    const body = await request(this.send, 'delete', '/workspaces/{name}', { path: { name } });
    return body.disconnected ?? [];
  }
}

/** The code a notebook runs to use a workspace (inserted by the panel). The name is a
 * Python string literal (JSON's quoting is valid Python for workspace names). */
export function connectCode(name: string): string {
  return `import lakelab\nlakelab.workspace(${JSON.stringify(name)}).connect()`;
}
