/**
 * The dataset view's Insights: who queries the dataset and how, from the usage table
 * (GET datasets/{name}/usage): top users, queries per day, the datasets it is joined with
 * and the most frequent queries, over a chosen number of days.
 */
import { ApiError, LakelabClient, Usage } from './api';
import { el } from './dom';

/** Days of usage the period selector offers. */
export const INSIGHT_DAYS = [7, 30, 90];
export const DEFAULT_INSIGHT_DAYS = 30;

function table(headers: string[], rows: (string | HTMLElement)[][], cls: string): HTMLElement {
  const t = el('table', `jp-lakelab-table ${cls}`);
  const head = el('tr');
  headers.forEach(h => head.append(el('th', '', h)));
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(head);
  for (const row of rows) {
    const tr = el('tr');
    for (const cell of row) {
      const td = el('td');
      td.append(cell);
      tr.append(td);
    }
    t.tBodies[0].append(tr);
  }
  return t;
}

function group(title: string, body: HTMLElement): HTMLElement {
  const g = el('div', 'jp-lakelab-insights-group');
  g.append(el('h4', 'jp-lakelab-insights-title', title), body);
  return g;
}

/** Queries per day as horizontal bars, scaled to the busiest day. */
function perDay(days: Usage['per_day']): HTMLElement {
  const box = el('div', 'jp-lakelab-insights-days');
  const most = Math.max(1, ...days.map(d => d.queries));
  for (const d of days) {
    const row = el('div', 'jp-lakelab-insights-day');
    const bar = el('div', 'jp-lakelab-insights-bar');
    bar.style.width = `${Math.max(2, (100 * d.queries) / most)}%`;
    const track = el('div', 'jp-lakelab-insights-track');
    track.append(bar);
    row.append(el('span', 'jp-lakelab-insights-date', d.day), track, el('span', '', String(d.queries)));
    box.append(row);
  }
  return box;
}

/** The usage summary, rendered (exported for the unit tests). */
export function renderUsage(u: Usage): HTMLElement {
  const box = el('div', 'jp-lakelab-insights-body');
  if (!u.queries) {
    box.append(
      el(
        'div',
        'jp-lakelab-insights-empty',
        u.enabled
          ? `No queries read this dataset in the last ${u.days} days.`
          : 'Usage recording is switched off for this lakehouse.'
      )
    );
    return box;
  }
  box.append(
    el('div', 'jp-lakelab-insights-summary', `${u.queries.toLocaleString()} queries in the last ${u.days} days`)
  );
  box.append(
    group(
      'Top users',
      table(
        ['user', 'queries'],
        u.users.map(x => [x.user, String(x.queries)]),
        'jp-lakelab-insights-users'
      )
    )
  );
  box.append(group('Queries per day', perDay(u.per_day)));
  box.append(
    group(
      'Joined with',
      u.joined_with.length
        ? table(
            ['dataset', 'queries'],
            u.joined_with.map(j => [j.table, String(j.queries)]),
            'jp-lakelab-insights-joins'
          )
        : el('div', 'jp-lakelab-insights-empty', 'Not joined with another dataset.')
    )
  );
  const sql = (text: string) => {
    const code = el('code', 'jp-lakelab-insights-sql', text);
    code.title = text;
    return code;
  };
  box.append(
    group(
      'Frequent queries',
      table(
        ['runs', 'users', 'query'],
        u.frequent_queries.map(q => [String(q.runs), String(q.users), sql(q.sql)]),
        'jp-lakelab-insights-queries'
      )
    )
  );
  return box;
}

/** The Insights section for `name`: a period selector and the usage it loads. */
export function insightsSection(client: LakelabClient, name: string): HTMLElement {
  const section = el('section', 'jp-lakelab-section jp-lakelab-insights');
  const heading = el('h3', '', 'Insights');
  const period = el('select', 'jp-lakelab-insights-days-select');
  period.setAttribute('aria-label', 'Insights period (days)');
  for (const n of INSIGHT_DAYS) {
    const o = el('option', '', `last ${n} days`);
    o.value = String(n);
    o.selected = n === DEFAULT_INSIGHT_DAYS;
    period.append(o);
  }
  heading.append(period);
  const body = el('div', 'jp-lakelab-insights-box', 'Loading usage…');
  section.append(heading, body);
  const load = async (days: number) => {
    body.replaceChildren(el('span', '', 'Loading usage…'));
    try {
      body.replaceChildren(renderUsage(await client.usage(name, days)));
    } catch (e) {
      body.replaceChildren(el('div', 'jp-lakelab-error', e instanceof ApiError ? e.display : String(e)));
    }
  };
  period.addEventListener('change', () => void load(Number(period.value)));
  void load(DEFAULT_INSIGHT_DAYS);
  return section;
}
