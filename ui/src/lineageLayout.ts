/**
 * Where each node of a lineage graph goes: a layered layout with the dataset in the
 * centre column, its inputs in columns to the left (one column per hop) and what was made
 * from it to the right. Pure (no DOM), so it is unit-tested on its own.
 */
import { LineageEdge, LineageNode } from './api';

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 34;
export const COLUMN_GAP = 70;
export const ROW_GAP = 14;
export const MARGIN = 12;

export interface IPlacedNode {
  id: string;
  /** What the box shows (a dataset's name, a file's name, an in-kernel object's type). */
  label: string;
  type: string;
  exists: boolean;
  /** Hops from the dataset: negative upstream, 0 the dataset, positive downstream. */
  level: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IPlacedEdge {
  source: string;
  target: string;
  type: string;
  /** An SVG path from the source's right side to the target's left side. */
  path: string;
}

export interface ILineageLayout {
  width: number;
  height: number;
  nodes: IPlacedNode[];
  edges: IPlacedEdge[];
}

/**
 * Hops from `self`: walking edges backwards gives upstream levels (-1, -2, …), forwards
 * downstream ones. Breadth first, so a node reachable both ways or by several paths takes
 * its shortest distance; upstream wins a tie (a cycle) so every node has one column.
 */
export function levels(self: string, nodes: LineageNode[], edges: LineageEdge[]): Map<string, number> {
  const level = new Map<string, number>([[self, 0]]);
  const walk = (step: 1 | -1) => {
    let frontier = [self];
    for (let hop = 1; frontier.length; hop++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const e of edges) {
          const other = step < 0 ? (e.target === id ? e.source : null) : e.source === id ? e.target : null;
          if (other !== null && !level.has(other)) {
            level.set(other, hop * step);
            next.push(other);
          }
        }
      }
      frontier = next;
    }
  };
  walk(-1);
  walk(1);
  // a node the server listed but no edge reaches still gets a column, by its direction
  for (const n of nodes) {
    if (!level.has(n.id)) {
      level.set(n.id, n.direction === 'upstream' ? -1 : n.direction === 'downstream' ? 1 : 0);
    }
  }
  return level;
}

/** Cuts a long name at the end (the box's title holds the full name, shown on hover). */
export function shorten(label: string, max: number): string {
  return label.length <= max ? label : `${label.slice(0, Math.max(1, max - 1))}…`;
}

export function layoutLineage(self: string, nodes: LineageNode[], edges: LineageEdge[]): ILineageLayout {
  const all = new Map<string, LineageNode>(nodes.map(n => [n.id, n]));
  if (!all.has(self)) {
    all.set(self, { id: self, type: 'dataset', exists: true, direction: 'self' });
  }
  for (const e of edges) {
    for (const id of [e.source, e.target]) {
      if (!all.has(id)) {
        all.set(id, {
          id,
          type: e.type === 'source' && id === e.source ? 'source' : 'dataset',
          exists: true,
          direction: 'upstream'
        });
      }
    }
  }
  const level = levels(self, [...all.values()], edges);
  const columns = new Map<number, LineageNode[]>();
  for (const n of all.values()) {
    const l = level.get(n.id)!;
    columns.set(l, [...(columns.get(l) ?? []), n]);
  }
  const minLevel = Math.min(...columns.keys());
  const maxLevel = Math.max(...columns.keys());
  const tallest = Math.max(...[...columns.values()].map(c => c.length));
  const height = MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP;
  const width = MARGIN * 2 + (maxLevel - minLevel + 1) * NODE_WIDTH + (maxLevel - minLevel) * COLUMN_GAP;

  const placed = new Map<string, IPlacedNode>();
  for (const [l, members] of columns) {
    // datasets before source files, then by name: the same graph always draws the same
    members.sort((a, b) => Number(a.type === 'source') - Number(b.type === 'source') || a.id.localeCompare(b.id));
    const span = members.length * NODE_HEIGHT + (members.length - 1) * ROW_GAP;
    const top = (height - span) / 2;
    members.forEach((n, i) => {
      placed.set(n.id, {
        id: n.id,
        label: n.label || n.id,
        type: n.type,
        exists: n.exists,
        level: l,
        x: MARGIN + (l - minLevel) * (NODE_WIDTH + COLUMN_GAP),
        y: top + i * (NODE_HEIGHT + ROW_GAP),
        width: NODE_WIDTH,
        height: NODE_HEIGHT
      });
    });
  }

  const seen = new Set<string>();
  const placedEdges: IPlacedEdge[] = [];
  for (const e of edges) {
    const key = `${e.source}\u0000${e.target}`;
    const a = placed.get(e.source);
    const b = placed.get(e.target);
    if (!a || !b || seen.has(key) || a === b) {
      continue;
    }
    seen.add(key);
    placedEdges.push({ source: e.source, target: e.target, type: e.type, path: edgePath(a, b) });
  }
  const order = (n: IPlacedNode) => n.level * 1e6 + n.y;
  return { width, height, nodes: [...placed.values()].sort((a, b) => order(a) - order(b)), edges: placedEdges };
}

/** A smooth curve from the right middle of `a` to the left middle of `b`. */
export function edgePath(a: IPlacedNode, b: IPlacedNode): string {
  const x1 = a.x + a.width;
  const y1 = a.y + a.height / 2;
  const x2 = b.x;
  const y2 = b.y + b.height / 2;
  const bend = Math.max(Math.abs(x2 - x1) / 2, 20);
  return `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`;
}
