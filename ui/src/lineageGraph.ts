/** Draws a lineage layout (lineageLayout.ts) as SVG: boxes with kind icons, arrows between them. */
import { DatasetKind } from './api';
import { kindIcon } from './icons';
import { ILineageLayout, IPlacedNode, shorten } from './lineageLayout';

const SVG_NS = 'http://www.w3.org/2000/svg';
// marker ids are document-wide: each drawing gets its own, so a hidden tab's never stands in
let drawings = 0;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {}
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    e.setAttribute(k, String(v));
  }
  return e;
}

/** A LabIcon's svg as a nested <svg> placed at (x, y): theme classes (jp-icon*) still apply. */
function iconAt(kind: DatasetKind, x: number, y: number, size: number): SVGElement | null {
  const doc = new DOMParser().parseFromString(kindIcon(kind).svgstr, 'image/svg+xml');
  const root = doc.documentElement;
  if (root.nodeName !== 'svg') {
    return null;
  }
  const icon = document.importNode(root, true) as unknown as SVGElement;
  icon.setAttribute('x', String(x));
  icon.setAttribute('y', String(y));
  icon.setAttribute('width', String(size));
  icon.setAttribute('height', String(size));
  icon.setAttribute('class', 'jp-lakelab-lineage-icon');
  return icon;
}

let measurer: CanvasRenderingContext2D | null | undefined;

/** The label cut at the end to fit `px` in the theme's UI font (bold for the dataset itself). */
function fitText(text: string, px: number, bold: boolean): string {
  if (measurer === undefined) {
    measurer = document.createElement('canvas').getContext('2d');
  }
  const ctx = measurer;
  if (!ctx) {
    return shorten(text, Math.floor(px / 7.5));
  }
  const css = getComputedStyle(document.body);
  const size = css.getPropertyValue('--jp-ui-font-size1').trim() || '13px';
  const family = css.getPropertyValue('--jp-ui-font-family').trim() || 'sans-serif';
  ctx.font = `${bold ? '600 ' : ''}${size} ${family}`;
  let n = text.length;
  while (n > 1 && ctx.measureText(shorten(text, n)).width > px) {
    n--;
  }
  return shorten(text, n);
}

export interface ILineageDrawOptions {
  self: string;
  /** Kinds of the datasets known so far (others draw as tables). */
  kinds: Map<string, DatasetKind>;
  onOpen: (name: string) => void;
  /** Grow the graph one hop around this dataset, in place (its ⊕ button); none: no buttons. */
  onExpand?: (name: string) => void;
  /** Datasets already expanded (their button is gone). */
  expanded?: Set<string>;
}

export function drawLineage(layout: ILineageLayout, opts: ILineageDrawOptions): SVGSVGElement {
  const root = svg('svg', {
    class: 'jp-lakelab-lineage-graph',
    width: layout.width,
    height: layout.height,
    viewBox: `0 0 ${layout.width} ${layout.height}`,
    role: 'img',
    'aria-label': `Lineage of ${opts.self}`
  });
  const arrowId = `jp-lakelab-arrow-${++drawings}`;
  const defs = svg('defs');
  const marker = svg('marker', {
    id: arrowId,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse'
  });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'jp-lakelab-lineage-arrowhead' }));
  defs.append(marker);
  root.append(defs);

  for (const e of layout.edges) {
    const path = svg('path', {
      d: e.path,
      class: `jp-lakelab-lineage-edge jp-lakelab-lineage-edge-${e.type}`,
      'marker-end': `url(#${arrowId})`
    });
    path.dataset.source = e.source;
    path.dataset.target = e.target;
    root.append(path);
  }
  for (const n of layout.nodes) {
    root.append(nodeGroup(n, opts));
  }
  return root;
}

function nodeGroup(n: IPlacedNode, opts: ILineageDrawOptions): SVGGElement {
  const self = n.id === opts.self;
  const openable = n.type === 'dataset' && n.exists && !self;
  const direction = self ? 'self' : n.level < 0 ? 'upstream' : 'downstream';
  const cls = ['jp-lakelab-lineage-node', `jp-lakelab-lineage-${direction}`];
  if (self) {
    cls.push('jp-mod-current');
  }
  if (n.type === 'source') {
    cls.push('jp-lakelab-lineage-source-node');
  }
  if (!n.exists) {
    cls.push('jp-lakelab-lineage-missing');
  }
  if (openable) {
    cls.push('jp-mod-openable');
  }
  const g = svg('g', { class: cls.join(' '), transform: `translate(${n.x}, ${n.y})` });
  g.dataset.name = n.id;
  g.dataset.direction = direction;
  const kind = opts.kinds.get(n.id);
  if (kind) {
    g.dataset.datasetKind = kind;
  }
  const title = svg('title');
  const full = n.type === 'source' ? n.label : n.id;
  title.textContent =
    n.type === 'source'
      ? `source: ${n.id.startsWith('python:') ? full : n.id}`
      : !n.exists
        ? `${n.id} (no longer exists)`
        : openable
          ? `Open ${n.id}`
          : n.id;
  g.append(title, svg('rect', { width: n.width, height: n.height, rx: 4, ry: 4 }));
  const pad = 8;
  const iconSize = 16;
  let textX = pad;
  if (n.type === 'dataset') {
    const icon = iconAt(kind ?? 'table', pad, (n.height - iconSize) / 2, iconSize);
    if (icon) {
      g.append(icon);
      textX = pad + iconSize + 6;
    }
  }
  const label = svg('text', {
    x: textX,
    y: n.height / 2,
    'dominant-baseline': 'central',
    class: 'jp-lakelab-lineage-label'
  });
  // the server's label: a dataset's name, a file's name, an in-kernel object's type
  const expandable = opts.onExpand && n.type === 'dataset' && n.exists && !self && !opts.expanded?.has(n.id);
  const room = n.width - textX - pad - (expandable ? 18 : 0);
  label.textContent = fitText(n.label, room, self);
  g.append(label);
  if (expandable) {
    const button = svg('g', {
      class: 'jp-lakelab-lineage-expand',
      transform: `translate(${n.width - 20}, ${n.height / 2 - 8})`
    });
    const tip = svg('title');
    tip.textContent = `Show the lineage of ${n.id} here`;
    button.append(tip, svg('rect', { width: 16, height: 16, rx: 3, ry: 3 }));
    const plus = svg('text', { x: 8, y: 8.5, 'dominant-baseline': 'central', 'text-anchor': 'middle' });
    plus.textContent = '+';
    button.append(plus);
    button.setAttribute('role', 'button');
    button.setAttribute('aria-label', `Expand ${n.id}`);
    button.addEventListener('click', e => {
      e.stopPropagation();
      opts.onExpand!(n.id);
    });
    g.append(button);
  }
  if (openable) {
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'link');
    g.addEventListener('click', () => opts.onOpen(n.id));
    g.addEventListener('keydown', e => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        opts.onOpen(n.id);
      }
    });
  }
  return g;
}
