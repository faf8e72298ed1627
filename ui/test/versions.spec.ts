/**
 * @jest-environment node
 */
import { DatasetDetail, Version, reportPath, versionCount } from '../src/api';
import { versionFormat, versionLibraries } from '../src/versions';
import { summary } from './fakeServer';

function version(extra: Partial<Version> = {}): Version {
  return {
    version: 2,
    uri: 'file:///w/ml/churn/artifacts/v2-ab/model.joblib',
    sha256: 'a'.repeat(64),
    bytes: 577,
    created_at: '2026-01-31T12:00:00+00:00',
    created_by: 'ana',
    metadata: {},
    ...extra
  };
}

describe('models and reports in the API client', () => {
  it('reads the version count of a summary, and none for a table', () => {
    expect(versionCount(summary('ml.churn', { kind: 'model', versions: 3 }))).toBe(3);
    expect(versionCount(summary('demo.t', { versions: null }))).toBeNull();
  });

  it('counts the versions a detail lists', () => {
    const { name, namespace, table, owner, description, tags } = summary('r.x');
    const d: DatasetDetail = {
      ...{ name, namespace, table, owner, description, tags, kind: 'report' },
      ...{ schema: [], partition_spec: [], sort_order: [], properties: {}, location: 'x', format_version: 2 },
      stats: { row_count: 2, file_count: 2, total_bytes: 10, current_snapshot_id: '1', last_updated_ms: 1 },
      versions: [version({ version: 1 }), version()]
    };
    expect(versionCount(d)).toBe(2);
  });

  it('reads the format and the libraries from a version', () => {
    const v = version({
      metadata: {
        format: 'joblib',
        libraries: { joblib: '1.6.0', 'sklearn (scikit-learn)': '1.9.1' },
        inputs: [{ table: 'demo.customers', snapshot_id: '1' }]
      }
    });
    expect(versionLibraries(v)).toEqual({ joblib: '1.6.0', 'sklearn (scikit-learn)': '1.9.1' });
    expect(versionFormat(v)).toBe('joblib');
  });

  it('shows no format and no libraries for a version whose metadata has none', () => {
    const v = version({ metadata: { libraries: ['not', 'a', 'map'] } });
    expect([versionFormat(v), versionLibraries(v)]).toEqual([null, {}]);
  });

  it('escapes the dataset name in a report page path', () => {
    expect(reportPath('reports.q1 sales', 3)).toBe('datasets/reports.q1%20sales/versions/3/report');
  });
});
