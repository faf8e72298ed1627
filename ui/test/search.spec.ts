/**
 * @jest-environment node
 */
import { parseSearch } from '../src/tree';

describe('parseSearch', () => {
  it('turns kind:, owner: and tag: tokens into filters and keeps the rest as text', () => {
    expect(parseSearch('churn kind:report  owner:ana')).toEqual({
      text: 'churn',
      filters: { kind: 'report', owner: 'ana' }
    });
    expect(parseSearch('Kind:model')).toEqual({ text: '', filters: { kind: 'model' } });
    expect(parseSearch('tag:ml delay')).toEqual({ text: 'delay', filters: { tag: 'ml' } });
  });

  it('leaves other colons in the text', () => {
    expect(parseSearch('a:b flights')).toEqual({ text: 'a:b flights', filters: {} });
  });
});
