/**
 * @jest-environment node
 */
import { parseDetail, parseSummary, parseVersion, reportPath } from '../src/api';
import { summary } from './fakeServer';

describe('models and reports in the API client', () => {
  it('reads the version count of a summary, and none for a table', () => {
    expect(parseSummary(summary('ml.churn', { kind: 'model', versions: 3 })).versionCount).toBe(3);
    expect(parseSummary(summary('demo.t', { versions: null })).versionCount).toBeNull();
  });

  it('counts the versions a detail lists', () => {
    const d = parseDetail({ ...summary('r.x', { kind: 'report' }), versions: [{ version: 1 }, { version: 2 }] });
    expect(d.versionCount).toBe(2);
    expect(d.versions.map(v => v.version)).toEqual([1, 2]);
  });

  it('reads sha256, libraries and inputs from a version', () => {
    const v = parseVersion({
      version: 2,
      uri: 'file:///w/ml/churn/artifacts/v2-ab/model.joblib',
      sha256: 'a'.repeat(64),
      bytes: 577,
      created_at: '2026-01-31T12:00:00+00:00',
      created_by: 'ana',
      metadata: {
        format: 'joblib',
        libraries: { joblib: '1.6.0', 'sklearn (scikit-learn)': '1.9.1' },
        inputs: [{ table: 'demo.customers', snapshot_id: 1 }]
      }
    });
    expect(v.sha256).toBe('a'.repeat(64));
    expect(v.libraries).toEqual({ joblib: '1.6.0', 'sklearn (scikit-learn)': '1.9.1' });
    expect(v.inputs).toEqual(['demo.customers']);
    expect(v.format).toBe('joblib');
  });

  it('tolerates a version without metadata', () => {
    const v = parseVersion({ version: 1, uri: 'u' });
    expect([v.sha256, v.libraries, v.inputs]).toEqual([null, {}, []]);
  });

  it('escapes the dataset name in a report page path', () => {
    expect(reportPath('reports.q1 sales', 3)).toBe('datasets/reports.q1%20sales/versions/3/report');
  });
});
