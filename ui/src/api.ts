/**
 * lakelab's REST API as the frontend uses it: the types of its answers (generated from
 * server/lakelab_server/openapi.yaml, never written by hand) and `LakelabClient`, the
 * catalog calls, each one `request` of the one request function.
 */
import type { components } from './generated/openapi';
import { Requester, request } from './request';

export { API_PREFIX, ApiError, Requester } from './request';

/** The server extension version this frontend was built with (package.json). */
export const FRONTEND_VERSION = '0.1.0';

type Schemas = components['schemas'];

export type ServerInfo = Schemas['Info'];
export type Namespace = Schemas['Namespace'];
export type DatasetSummary = Schemas['DatasetSummary'];
export type DatasetPage = Schemas['DatasetPage'];
export type DatasetDetail = Schemas['DatasetDetail'];
export type DatasetKind = DatasetSummary['kind'];
export type Field = Schemas['Field'];
export type Version = Schemas['Version'];
export type Snapshot = Schemas['Snapshot'];
export type LineageGraph = Schemas['LineageGraph'];
export type Usage = Schemas['Usage'];
export type LineageNode = LineageGraph['nodes'][number];
/** `source` was an input of `target`. */
export type LineageEdge = LineageGraph['edges'][number];
export type LineageDirection = LineageNode['direction'];
export type Preview = Schemas['Preview'];
export type PreviewColumn = Preview['columns'][number];
export type MetadataPatch = Schemas['MetadataPatch'];

export interface IPreviewOptions {
  limit: number;
  offset?: number;
  columns?: string[];
  snapshotId?: string | null;
  /** Order by this column on the server (other columns break ties, nulls last). */
  sort?: { column: string; descending: boolean } | null;
  /** Ask for each column's null count (from the data files' statistics). */
  nullCounts?: boolean;
}

export type SearchResult = Schemas['SearchResult'];
export type FacetCount = Schemas['FacetCount'];

/** The search box's filters (query parameters of GET search besides `q`). */
export interface ISearchFilters {
  kind?: DatasetKind;
  owner?: string;
  tag?: string;
}

/** A report version's page, relative to the API root (the iframe's src joins it to the base URL). */
export function reportPath(name: string, version: number): string {
  return `datasets/${encodeURIComponent(name)}/versions/${version}/report`;
}

export class LakelabClient {
  constructor(private readonly send: Requester) {}

  info(): Promise<ServerInfo> {
    return request(this.send, 'get', '/info', {});
  }

  async namespaces(parent?: string | null): Promise<Namespace[]> {
    const body = await request(this.send, 'get', '/namespaces', { query: { parent: parent ?? undefined } });
    return body.namespaces;
  }

  datasets(namespace: string, pageToken?: string | null, pageSize?: number): Promise<DatasetPage> {
    return request(this.send, 'get', '/namespaces/{namespace}/datasets', {
      path: { namespace },
      query: { page_token: pageToken ?? undefined, page_size: pageSize }
    });
  }

  dataset(name: string): Promise<DatasetDetail> {
    return request(this.send, 'get', '/datasets/{name}', { path: { name } });
  }

  async snapshots(name: string): Promise<Snapshot[]> {
    return (await request(this.send, 'get', '/datasets/{name}/snapshots', { path: { name } })).snapshots;
  }

  /** Who queried the dataset and how over the last `days` days (the Insights section). */
  usage(name: string, days: number): Promise<Usage> {
    return request(this.send, 'get', '/datasets/{name}/usage', { path: { name }, query: { days } });
  }

  /** The lineage graph `depth` hops up and down from the dataset. */
  lineageGraph(name: string, depth: number): Promise<LineageGraph> {
    return request(this.send, 'get', '/datasets/{name}/lineage', { path: { name }, query: { depth } });
  }

  /**
   * Rows [offset, offset + limit) of a dataset, read from that offset on the server (sorted
   * there when `sort` is given), so a deep page never re-reads the rows before it.
   */
  preview(name: string, opts: IPreviewOptions): Promise<Preview> {
    return request(this.send, 'get', '/datasets/{name}/preview', {
      path: { name },
      query: {
        limit: opts.limit,
        offset: opts.offset || undefined,
        columns: opts.columns?.length ? opts.columns.join(',') : undefined,
        snapshot_id: opts.snapshotId ?? undefined,
        sort: opts.sort?.column,
        order: opts.sort ? (opts.sort.descending ? 'desc' : 'asc') : undefined,
        null_counts: opts.nullCounts || undefined
      }
    });
  }

  /** Changes whenever the catalog's datasets change: polled to keep the sidebar current. */
  async fingerprint(): Promise<string> {
    return (await request(this.send, 'get', '/fingerprint', {})).fingerprint;
  }

  async search(q: string, filters: ISearchFilters = {}): Promise<DatasetSummary[]> {
    return (await request(this.send, 'get', '/search', { query: { q, ...filters } })).datasets;
  }

  /** A search with its kind/owner/tag facet counts, and the corrected text if q was misspelt. */
  searchWithFacets(q: string, limit = 50): Promise<SearchResult> {
    return request(this.send, 'get', '/search', { query: { q, facets: true, limit } });
  }

  updateMetadata(name: string, patch: MetadataPatch): Promise<DatasetDetail> {
    return request(this.send, 'patch', '/datasets/{name}/metadata', { path: { name }, body: patch });
  }
}

// -- what the UI derives from the answers ------------------------------------------------

/** How many versions a model or report has (a detail lists them, a summary counts them); null for a table. */
export function versionCount(d: DatasetSummary | DatasetDetail): number | null {
  if (Array.isArray(d.versions)) {
    return d.versions.length;
  }
  return typeof d.versions === 'number' ? d.versions : null;
}
