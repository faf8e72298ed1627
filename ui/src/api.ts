/**
 * The one client of lakelab's REST API (`<base_url>lakelab/api/v1/`).
 *
 * Every JSON field name the frontend relies on is read here, so a change in the
 * server's field names is one edit in this file. The transport is injected (a
 * `Requester`), so the same parsing runs in JupyterLab (ServerConnection) and in
 * unit tests.
 */

import { parseJson } from './json';

export const API_PREFIX = 'lakelab/api/v1/';
/** The server extension version this frontend was built with (package.json). */
export const FRONTEND_VERSION = '0.1.0';

export type DatasetKind = 'table' | 'model' | 'report';

export interface IServerInfo {
  version: string;
  libraryVersion: string | null;
  /** 'unavailable' when the server runs but cannot open the catalog. */
  status: string;
  problem: string | null;
  catalog: string | null;
  engine: string | null;
  engines: string[];
  previewMaxRows: number | null;
}

export interface INamespace {
  name: string;
  parts: string[];
  datasetCount: number | null;
  hasChildren: boolean;
}

export interface IDatasetSummary {
  name: string;
  namespace: string;
  table: string;
  kind: DatasetKind;
  owner: string | null;
  description: string | null;
  tags: string[];
  rowCount: number | null;
  fileCount: number | null;
  totalBytes: number | null;
  lastUpdatedMs: number | null;
  snapshotId: string | null;
  /** Models and reports: how many versions (null for tables or when unknown). */
  versionCount: number | null;
}

export interface IDatasetPage {
  datasets: IDatasetSummary[];
  nextPageToken: string | null;
}

export interface IField {
  id: number | null;
  name: string;
  type: string;
  required: boolean;
  doc: string | null;
  fields: IField[];
}

/** One version of a model or report dataset. */
export interface IVersion {
  version: number;
  uri: string;
  bytes: number | null;
  createdAt: string | null;
  createdBy: string | null;
  format: string | null;
  sha256: string | null;
  /** Library name -> version needed to load a model. */
  libraries: Record<string, string>;
  inputs: string[];
}

export interface IDatasetDetail extends IDatasetSummary {
  schema: IField[];
  /** Models and reports only (empty for tables). */
  versions: IVersion[];
  partitionSpec: { name: string; source: string; transform: string }[];
  properties: Record<string, string>;
  location: string | null;
}

export interface ISnapshot {
  /** Snapshot ids are 64-bit: kept as text so no digit is lost in JavaScript. */
  snapshotId: string;
  parentId: string | null;
  timestampMs: number;
  operation: string | null;
  current: boolean;
  summary: Record<string, string>;
}

export type LineageDirection = 'self' | 'upstream' | 'downstream';

export interface ILineageNode {
  id: string;
  /** 'dataset' or 'source' (a file or URL outside the catalog). */
  type: string;
  exists: boolean;
  direction: LineageDirection;
}

/** `source` was an input of `target`. */
export interface ILineageEdge {
  source: string;
  target: string;
  type: string;
}

export interface ILineageGraph {
  dataset: string;
  depth: number;
  nodes: ILineageNode[];
  edges: ILineageEdge[];
}

export interface IPreviewColumn {
  name: string;
  type: string;
}

export interface IPreview {
  columns: IPreviewColumn[];
  rows: unknown[][];
  /** The snapshot read (null for a table with no data yet). */
  snapshotId: string | null;
}

export interface IPreviewOptions {
  limit: number;
  offset?: number;
  columns?: string[];
  snapshotId?: string | null;
}

export interface IMetadataPatch {
  description?: string;
  owner?: string;
  tags?: string[];
}

/** A failed request, with the server's error code and message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path: string
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** One line for the UI: what failed and why. */
  get display(): string {
    return this.status ? `${this.message} (HTTP ${this.status})` : this.message;
  }
}

/** Sends one request to a path relative to the API root (e.g. `namespaces`). */
export type Requester = (path: string, init?: RequestInit) => Promise<Response>;

// -- parsing: tolerant of absent optional fields, strict about the required ones --------

type Json = Record<string, unknown>;

function obj(value: unknown, what: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ApiError(0, 'bad_response', `the server sent an unexpected ${what}`, '');
  }
  return value as Json;
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function num(v: unknown): number | null {
  if (v === null || v === undefined || v === '') {
    return null;
  }
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function list(body: unknown, key: string): unknown[] {
  const value = obj(body, key)[key];
  if (!Array.isArray(value)) {
    throw new ApiError(0, 'bad_response', `the server's answer has no "${key}" list`, '');
  }
  return value;
}

function kindOf(v: unknown): DatasetKind {
  return v === 'model' || v === 'report' ? v : 'table';
}

function tagsOf(v: unknown): string[] {
  if (Array.isArray(v)) {
    return v.map(String).filter(t => t.length > 0);
  }
  if (typeof v === 'string') {
    return v
      .split(',')
      .map(t => t.trim())
      .filter(t => t.length > 0);
  }
  return [];
}

export function parseInfo(body: unknown): IServerInfo {
  const b = obj(body, 'info');
  const version = str(b.server_version);
  if (!version) {
    throw new ApiError(0, 'bad_response', 'the server info has no server_version', 'info');
  }
  const config = (b.config && typeof b.config === 'object' ? b.config : {}) as Json;
  const catalog = (config.catalog && typeof config.catalog === 'object' ? config.catalog : {}) as Json;
  const limits = (b.limits && typeof b.limits === 'object' ? b.limits : {}) as Json;
  return {
    version,
    libraryVersion: str(b.library_version),
    status: str(b.status) ?? 'ok',
    problem: str(b.problem),
    catalog: str(catalog.name),
    engine: str(config.engine),
    engines: Array.isArray(b.engines) ? b.engines.map(String) : [],
    previewMaxRows: num(limits.preview_max_rows)
  };
}

export function parseNamespace(value: unknown): INamespace {
  const b = obj(value, 'namespace');
  const name = str(b.name) ?? (Array.isArray(b.parts) ? b.parts.join('.') : null);
  if (!name) {
    throw new ApiError(0, 'bad_response', 'a namespace has no name', 'namespaces');
  }
  return {
    name,
    parts: Array.isArray(b.parts) ? b.parts.map(String) : name.split('.'),
    datasetCount: num(b.datasets),
    hasChildren: Boolean(b.has_children)
  };
}

export function parseSummary(value: unknown): IDatasetSummary {
  const b = obj(value, 'dataset');
  const name = str(b.name);
  if (!name) {
    throw new ApiError(0, 'bad_response', 'a dataset has no name', 'datasets');
  }
  const dot = name.lastIndexOf('.');
  const stats = (b.stats && typeof b.stats === 'object' ? b.stats : b) as Json;
  return {
    name,
    namespace: str(b.namespace) ?? name.slice(0, Math.max(dot, 0)),
    table: str(b.table) ?? name.slice(dot + 1),
    kind: kindOf(b.kind),
    owner: str(b.owner),
    description: str(b.description),
    tags: tagsOf(b.tags),
    rowCount: num(stats.row_count),
    fileCount: num(stats.file_count),
    totalBytes: num(stats.total_bytes),
    lastUpdatedMs: num(stats.last_updated_ms),
    snapshotId: str(b.stats ? stats.current_snapshot_id : b.snapshot_id),
    // a detail carries the versions themselves; a summary carries their number
    versionCount: Array.isArray(b.versions) ? b.versions.length : num(b.versions)
  };
}

export function parseField(value: unknown): IField {
  const b = obj(value, 'schema field');
  return {
    id: num(b.id),
    name: String(b.name ?? ''),
    type: String(b.type ?? ''),
    required: Boolean(b.required),
    doc: str(b.doc),
    fields: Array.isArray(b.fields) ? b.fields.map(parseField) : []
  };
}

export function parseDetail(body: unknown): IDatasetDetail {
  const b = obj(body, 'dataset');
  const schema = b.schema;
  const fields = Array.isArray(schema)
    ? schema
    : schema && typeof schema === 'object'
      ? ((schema as Json).fields as unknown[]) ?? []
      : [];
  const spec = Array.isArray(b.partition_spec) ? b.partition_spec : [];
  const props = b.properties && typeof b.properties === 'object' ? (b.properties as Json) : {};
  return {
    ...parseSummary(b),
    schema: fields.map(parseField),
    partitionSpec: spec.map(p => {
      const q = obj(p, 'partition field');
      return { name: String(q.name ?? ''), source: String(q.source ?? ''), transform: String(q.transform ?? '') };
    }),
    properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, String(v)])),
    location: str(b.location),
    versions: (Array.isArray(b.versions) ? b.versions : []).map(parseVersion)
  };
}

export function parseVersion(value: unknown): IVersion {
  const v = obj(value, 'version');
  const meta = v.metadata && typeof v.metadata === 'object' ? (v.metadata as Json) : {};
  return {
    version: num(v.version) ?? 0,
    uri: String(v.uri ?? ''),
    bytes: num(v.bytes),
    createdAt: str(v.created_at),
    createdBy: str(v.created_by),
    format: str(meta.format),
    sha256: str(v.sha256),
    libraries:
      meta.libraries && typeof meta.libraries === 'object' && !Array.isArray(meta.libraries)
        ? Object.fromEntries(Object.entries(meta.libraries as Json).map(([k, x]) => [k, String(x)]))
        : {},
    inputs: Array.isArray(meta.inputs)
      ? meta.inputs.map(i => (i && typeof i === 'object' ? String((i as Json).table ?? (i as Json).name ?? '') : String(i))).filter(Boolean)
      : []
  };
}

export function parseSnapshots(body: unknown): ISnapshot[] {
  return list(body, 'snapshots').map(v => {
    const s = obj(v, 'snapshot');
    const summary = s.summary && typeof s.summary === 'object' ? (s.summary as Json) : {};
    return {
      snapshotId: String(s.snapshot_id),
      parentId: str(s.parent_id),
      timestampMs: num(s.timestamp_ms) ?? 0,
      operation: str(s.operation),
      current: Boolean(s.current),
      summary: Object.fromEntries(Object.entries(summary).map(([k, x]) => [k, String(x)]))
    };
  });
}

export function parseLineageGraph(body: unknown): ILineageGraph {
  const b = obj(body, 'lineage');
  const dir = (v: unknown): LineageDirection => (v === 'upstream' || v === 'downstream' ? v : 'self');
  return {
    dataset: String(b.dataset ?? ''),
    depth: num(b.depth) ?? 1,
    nodes: list(b, 'nodes').map(v => {
      const n = obj(v, 'lineage node');
      return { id: String(n.id), type: String(n.type ?? 'dataset'), exists: n.exists !== false, direction: dir(n.direction) };
    }),
    edges: list(b, 'edges').map(v => {
      const e = obj(v, 'lineage edge');
      return { source: String(e.source), target: String(e.target), type: String(e.type ?? 'dataset') };
    })
  };
}

export function parsePreview(body: unknown): IPreview {
  const b = obj(body, 'preview');
  const columns: IPreviewColumn[] = list(b, 'columns').map(c => {
    const col = obj(c, 'preview column');
    return { name: String(col.name), type: String(col.type ?? '') };
  });
  const rows = list(b, 'rows').map(r => {
    if (!Array.isArray(r)) {
      throw new ApiError(0, 'bad_response', 'a preview row is not a list of values', 'preview');
    }
    return r;
  });
  return { columns, rows, snapshotId: str(b.snapshot_id) };
}

async function errorOf(resp: Response, path: string): Promise<ApiError> {
  let text = '';
  try {
    text = await resp.text();
  } catch {
    // the body is gone: the status alone has to explain
  }
  try {
    const body = JSON.parse(text);
    const err = body && typeof body === 'object' ? body.error : undefined;
    if (err && typeof err === 'object' && err.message) {
      return new ApiError(resp.status, String(err.code ?? 'error'), String(err.message), path);
    }
    if (body && typeof body.message === 'string') {
      // Jupyter Server's own errors (e.g. 403 without a token) use {"message"}
      return new ApiError(resp.status, 'server', body.message, path);
    }
  } catch {
    // not JSON: a proxy's or Jupyter's HTML page
  }
  if (resp.status === 404) {
    return new ApiError(404, 'not_found', `${path}: not found on the server`, path);
  }
  return new ApiError(resp.status, 'http', `${path}: ${resp.statusText || 'request failed'}`, path);
}

function qs(params: Record<string, string | number | null | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

const enc = encodeURIComponent;

/** A report version's page, relative to the API root (the iframe's src joins it to the base URL). */
export function reportPath(name: string, version: number): string {
  return `datasets/${enc(name)}/versions/${version}/report`;
}

export class LakelabClient {
  constructor(private readonly request: Requester) {}

  async get(path: string): Promise<unknown> {
    let resp: Response;
    try {
      resp = await this.request(path, { method: 'GET' });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the Jupyter server (${path}): ${e}`, path);
    }
    if (!resp.ok) {
      throw await errorOf(resp, path);
    }
    try {
      return parseJson(await resp.text());
    } catch {
      throw new ApiError(resp.status, 'bad_response', `${path}: the server did not answer JSON`, path);
    }
  }

  async info(): Promise<IServerInfo> {
    return parseInfo(await this.get('info'));
  }

  async namespaces(parent?: string | null): Promise<INamespace[]> {
    return list(await this.get(`namespaces${qs({ parent })}`), 'namespaces').map(parseNamespace);
  }

  async datasets(namespace: string, pageToken?: string | null, pageSize?: number): Promise<IDatasetPage> {
    const body = await this.get(
      `namespaces/${enc(namespace)}/datasets${qs({ page_token: pageToken, page_size: pageSize })}`
    );
    const b = obj(body, 'dataset page');
    return {
      datasets: list(b, 'datasets').map(parseSummary),
      nextPageToken: str(b.next_page_token)
    };
  }

  async dataset(name: string): Promise<IDatasetDetail> {
    return parseDetail(await this.get(`datasets/${enc(name)}`));
  }

  async snapshots(name: string): Promise<ISnapshot[]> {
    return parseSnapshots(await this.get(`datasets/${enc(name)}/snapshots`));
  }

  /** The lineage graph `depth` hops up and down from the dataset. */
  async lineageGraph(name: string, depth: number): Promise<ILineageGraph> {
    return parseLineageGraph(await this.get(`datasets/${enc(name)}/lineage${qs({ depth })}`));
  }

  /**
   * Rows [offset, offset + limit) of a dataset. The API serves the first N rows of a
   * snapshot (a bounded scan), so a later page asks for offset + limit rows and keeps
   * its tail; the server's preview_max_rows bounds how deep a preview can go.
   */
  async preview(name: string, opts: IPreviewOptions): Promise<IPreview> {
    const offset = opts.offset ?? 0;
    const query = qs({
      limit: offset + opts.limit,
      columns: opts.columns?.length ? opts.columns.join(',') : null,
      snapshot_id: opts.snapshotId ?? null
    });
    const page = parsePreview(await this.get(`datasets/${enc(name)}/preview${query}`));
    return offset ? { ...page, rows: page.rows.slice(offset) } : page;
  }

  async search(
    q: string,
    filters: { kind?: string; owner?: string; tag?: string } = {}
  ): Promise<IDatasetSummary[]> {
    return list(await this.get(`search${qs({ q, ...filters })}`), 'datasets').map(parseSummary);
  }

  async updateMetadata(name: string, patch: IMetadataPatch): Promise<IDatasetDetail> {
    const path = `datasets/${enc(name)}/metadata`;
    let resp: Response;
    try {
      resp = await this.request(path, { method: 'PATCH', body: JSON.stringify(patch) });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the Jupyter server (${path}): ${e}`, path);
    }
    if (!resp.ok) {
      throw await errorOf(resp, path);
    }
    return parseDetail(parseJson(await resp.text()));
  }
}
