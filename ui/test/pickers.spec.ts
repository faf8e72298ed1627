import { pendingFacet } from '../src/searchSuggest';
import { nextSort } from '../src/previewGrid';

describe('pendingFacet', () => {
  it('names the filter key typed without a value', () => {
    expect(pendingFacet('tag:')).toBe('tag');
    expect(pendingFacet('flights owner:')).toBe('owner');
    expect(pendingFacet('tag:nyc')).toBeNull();
    expect(pendingFacet('flights')).toBeNull();
    expect(pendingFacet('mytag:')).toBeNull();
  });
});

describe('nextSort', () => {
  it('cycles a column from ascending to descending to unsorted', () => {
    const asc = nextSort(null, 'delay');
    expect(asc).toEqual({ column: 'delay', descending: false });
    const desc = nextSort(asc, 'delay');
    expect(desc).toEqual({ column: 'delay', descending: true });
    expect(nextSort(desc, 'delay')).toBeNull();
    expect(nextSort(desc, 'carrier')).toEqual({ column: 'carrier', descending: false });
  });
});
