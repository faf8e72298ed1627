// jsdom has no DragEvent; @lumino/dragdrop (pulled in by @lumino/datagrid) subclasses it at import
if (typeof window !== 'undefined' && typeof window.DragEvent === 'undefined') {
  window.DragEvent = class DragEvent extends window.MouseEvent {};
}
// jsdom has no canvas; the data grid asks for one at import (only painting uses it)
if (typeof HTMLCanvasElement !== 'undefined') {
  HTMLCanvasElement.prototype.getContext = () => null;
}
