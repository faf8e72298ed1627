/**
 * Suggestions for the sidebar's search box: typing `tag:` (or `owner:`, `kind:`) with no value
 * lists the values among the current matches, with their counts, as the box's own dropdown
 * (a <datalist>), each one the whole query completed.
 */
import { LakelabClient } from './api';

export type FacetKey = 'kind' | 'owner' | 'tag';

/** The word being typed when it is a filter key with no value yet (`tag:` → 'tag'). */
export function pendingFacet(text: string): FacetKey | null {
  const m = /(?:^|\s)(kind|owner|tag):$/i.exec(text);
  return m ? (m[1].toLowerCase() as FacetKey) : null;
}

let lists = 0;

export function attachSearchSuggestions(input: HTMLInputElement, client: LakelabClient): void {
  const list = document.createElement('datalist');
  list.id = `jp-lakelab-search-suggestions-${++lists}`;
  list.className = 'jp-lakelab-search-suggestions';
  input.after(list);
  input.setAttribute('list', list.id);
  let ticket = 0;
  input.addEventListener('input', async () => {
    const text = input.value;
    const key = pendingFacet(text);
    const mine = ++ticket;
    if (!key) {
      list.textContent = '';
      return;
    }
    const rest = text.replace(/\S+:$/, '').trim();
    try {
      const result = await client.searchWithFacets(rest, 1);
      if (mine !== ticket) {
        return;
      }
      list.textContent = '';
      for (const f of result.facets?.[key] ?? []) {
        const option = document.createElement('option');
        option.value = `${rest ? rest + ' ' : ''}${key}:${f.value}`;
        option.label = `${f.count} dataset${f.count === 1 ? '' : 's'}`;
        list.append(option);
      }
    } catch {
      list.textContent = ''; // suggestions are a convenience: the search itself reports errors
    }
  });
}
