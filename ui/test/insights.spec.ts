/**
 * The Insights section's rendering of a usage summary (GET datasets/{name}/usage), in jsdom.
 */
import { Usage } from '../src/api';
import { renderUsage } from '../src/insights';

function usage(extra: Partial<Usage> = {}): Usage {
  return {
    table: 'sales.orders',
    days: 30,
    queries: 5,
    enabled: true,
    users: [
      { user: 'alice', queries: 4 },
      { user: 'bob', queries: 1 }
    ],
    frequent_queries: [{ sql: 'SELECT * FROM sales.orders', runs: 3, users: 1 }],
    joined_with: [{ table: 'sales.customers', queries: 1 }],
    per_day: [
      { day: '2026-12-06', queries: 1 },
      { day: '2026-12-07', queries: 4 }
    ],
    ...extra
  };
}

const texts = (root: HTMLElement, sel: string) => Array.from(root.querySelectorAll(sel)).map(e => e.textContent);

describe('Insights', () => {
  it('shows top users, joins, frequent queries and bars scaled to the busiest day', () => {
    const root = renderUsage(usage());
    expect(root.querySelector('.jp-lakelab-insights-summary')!.textContent).toBe('5 queries in the last 30 days');
    expect(texts(root, '.jp-lakelab-insights-users tbody tr')).toEqual(['alice4', 'bob1']);
    expect(texts(root, '.jp-lakelab-insights-joins tbody td:first-child')).toEqual(['sales.customers']);
    expect(texts(root, '.jp-lakelab-insights-sql')).toEqual(['SELECT * FROM sales.orders']);
    const bars = Array.from(root.querySelectorAll<HTMLElement>('.jp-lakelab-insights-bar')).map(b => b.style.width);
    expect(bars).toEqual(['25%', '100%']);
  });

  it('says when nothing was queried, and when recording is off', () => {
    const none = usage({ queries: 0, users: [], frequent_queries: [], joined_with: [], per_day: [] });
    expect(renderUsage(none).textContent).toBe('No queries read this dataset in the last 30 days.');
    expect(renderUsage({ ...none, enabled: false }).textContent).toBe(
      'Usage recording is switched off for this lakehouse.'
    );
  });
});
