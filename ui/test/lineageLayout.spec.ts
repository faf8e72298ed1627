/**
 * @jest-environment node
 */
import { LineageEdge, LineageNode } from '../src/api';
import { layoutLineage, levels, NODE_WIDTH, shorten } from '../src/lineageLayout';

const node = (id: string, direction: LineageNode['direction'], type: LineageNode['type'] = 'dataset'): LineageNode => ({
  id,
  type,
  exists: true,
  direction
});
const edge = (source: string, target: string, type: LineageEdge['type'] = 'dataset'): LineageEdge => ({
  source,
  target,
  type
});

// table -> model -> report, plus a second table into the model and a CSV into the table
const NODES = [
  node('ml.churn', 'self'),
  node('demo.customers', 'upstream'),
  node('demo.plans', 'upstream'),
  node('file:///raw/customers.csv', 'upstream', 'source'),
  node('reports.churn', 'downstream')
];
const EDGES = [
  edge('demo.customers', 'ml.churn'),
  edge('demo.plans', 'ml.churn'),
  edge('file:///raw/customers.csv', 'demo.customers', 'source'),
  edge('ml.churn', 'reports.churn')
];

describe('lineage levels', () => {
  it('counts hops upstream as negative and downstream as positive', () => {
    const l = levels('ml.churn', NODES, EDGES);
    expect(Object.fromEntries(l)).toEqual({
      'ml.churn': 0,
      'demo.customers': -1,
      'demo.plans': -1,
      'file:///raw/customers.csv': -2,
      'reports.churn': 1
    });
  });

  it('gives a node reached by two paths its shortest distance', () => {
    const l = levels('r', [], [edge('t', 'm'), edge('m', 'r'), edge('t', 'r')]);
    expect(l.get('t')).toBe(-1);
    expect(l.get('m')).toBe(-1);
  });

  it('places a node no edge reaches by its direction, and survives a cycle', () => {
    const l = levels('a', [node('a', 'self'), node('lonely', 'downstream')], [edge('a', 'b'), edge('b', 'a')]);
    expect(l.get('lonely')).toBe(1);
    expect(l.get('b')).toBe(-1);
  });
});

describe('layoutLineage', () => {
  const layout = layoutLineage('ml.churn', NODES, EDGES);
  const at = (id: string) => layout.nodes.find(n => n.id === id)!;

  it('puts upstream columns left of the dataset and downstream ones right of it', () => {
    expect(at('file:///raw/customers.csv').x).toBeLessThan(at('demo.customers').x);
    expect(at('demo.customers').x).toBeLessThan(at('ml.churn').x);
    expect(at('ml.churn').x).toBeLessThan(at('reports.churn').x);
    expect(at('demo.customers').x).toBe(at('demo.plans').x);
    expect(layout.width).toBeGreaterThanOrEqual(at('reports.churn').x + NODE_WIDTH);
  });

  it('stacks a column without overlap, sorted by name, centred on the tallest column', () => {
    const [a, b] = [at('demo.customers'), at('demo.plans')];
    expect(b.y).toBeGreaterThanOrEqual(a.y + a.height);
    const middle = (n: typeof a) => n.y + n.height / 2;
    expect(middle(at('ml.churn'))).toBeCloseTo((middle(a) + middle(b)) / 2);
    for (const n of layout.nodes) {
      expect(n.y).toBeGreaterThanOrEqual(0);
      expect(n.y + n.height).toBeLessThanOrEqual(layout.height);
    }
  });

  it('draws each edge once, from the source right side to the target left side', () => {
    const twice = layoutLineage('ml.churn', NODES, [...EDGES, edge('ml.churn', 'reports.churn')]);
    expect(twice.edges).toHaveLength(4);
    const e = layout.edges.find(x => x.target === 'reports.churn')!;
    const m = at('ml.churn');
    expect(e.path.startsWith(`M ${m.x + m.width} ${m.y + m.height / 2} C`)).toBe(true);
    expect(e.path.endsWith(`${at('reports.churn').x} ${at('reports.churn').y + m.height / 2}`)).toBe(true);
  });

  it('draws a dataset without lineage as one node', () => {
    const alone = layoutLineage('demo.t', [node('demo.t', 'self')], []);
    expect(alone.nodes.map(n => [n.id, n.level])).toEqual([['demo.t', 0]]);
    expect(alone.edges).toEqual([]);
  });

  it('adds the endpoints of an edge the node list left out', () => {
    const l = layoutLineage('a', [], [edge('a', 'b')]);
    expect(l.nodes.map(n => n.id)).toEqual(['a', 'b']);
  });
});

describe('shorten', () => {
  it('keeps short names and cuts long ones at the end', () => {
    expect(shorten('demo.flights', 20)).toBe('demo.flights');
    const s = shorten('warehouse.analytics.very_long_table_name', 20);
    expect(s).toHaveLength(20);
    expect(s).toBe('warehouse.analytics…');
  });
});
