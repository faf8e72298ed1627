/**
 * The dataset view's preview grid: a Lumino DataGrid whose header click sorts on the server
 * (ascending, descending, then unsorted), whose column edges drag to resize, and whose numbers
 * are right-aligned. Rows come from PagingDataModel (paging.ts), page by page at a server offset.
 */
import { BasicKeyHandler, BasicMouseHandler, CellRenderer, DataGrid, TextRenderer } from '@lumino/datagrid';

import { isNumericType } from './paging';

/** The sort a header click asks for: none → ascending → descending → none. */
export type GridSort = { column: string; descending: boolean } | null;

export function nextSort(current: GridSort, column: string): GridSort {
  if (current?.column !== column) {
    return { column, descending: false };
  }
  return current.descending ? null : { column, descending: true };
}

// a press this close to a header cell's edge is a resize, not a sort
const EDGE_PX = 6;

/** Header clicks sort; presses on a column's edge still resize it (BasicMouseHandler). */
class SortingMouseHandler extends BasicMouseHandler {
  constructor(private readonly onHeaderClick: (column: number) => void) {
    super();
  }

  onMouseDown(grid: DataGrid, event: MouseEvent): void {
    const hit = grid.hitTest(event.clientX, event.clientY);
    const onEdge = hit.x < EDGE_PX || hit.width - hit.x < EDGE_PX;
    if (hit.region === 'column-header' && hit.row === 0 && !onEdge && event.button === 0) {
      this._pressed = hit.column;
      return;
    }
    this._pressed = -1;
    super.onMouseDown(grid, event);
  }

  onMouseUp(grid: DataGrid, event: MouseEvent): void {
    const hit = grid.hitTest(event.clientX, event.clientY);
    if (this._pressed >= 0 && hit.region === 'column-header' && hit.column === this._pressed) {
      this._pressed = -1;
      this.onHeaderClick(hit.column);
      return;
    }
    this._pressed = -1;
    super.onMouseUp(grid, event);
  }

  private _pressed = -1;
}

export function previewGrid(onHeaderClick: (column: number) => void): DataGrid {
  const grid = new DataGrid({
    defaultSizes: { rowHeight: 22, columnWidth: 120, rowHeaderWidth: 56, columnHeaderHeight: 22 }
  });
  grid.addClass('jp-lakelab-grid');
  grid.keyHandler = new BasicKeyHandler();
  grid.mouseHandler = new SortingMouseHandler(onHeaderClick);
  return grid;
}

/** Text renderers for the grid's regions in the theme's colours; number columns right-aligned. */
export function gridRenderers(textColor: string, headerColor: string, font: string) {
  const align: CellRenderer.ConfigFunc<TextRenderer.HorizontalAlignment> = config =>
    isNumericType((config.metadata as { type?: string }).type) ? 'right' : 'left';
  return {
    body: new TextRenderer({ textColor, font, horizontalAlignment: align }),
    header: new TextRenderer({ textColor: headerColor, font: `bold ${font}` }),
    columnHeader: new TextRenderer({ textColor: headerColor, font: `bold ${font}`, horizontalAlignment: align })
  };
}
