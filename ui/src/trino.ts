/**
 * `%%trino` cells highlighted as SQL: a CodeMirror 6 extension that swaps the cell's
 * language to SQL while its text starts with `%%trino` (as jupysql does for `%%sql`).
 *
 * The SQL language comes from JupyterLab's own language registry (loaded lazily), so no
 * second copy of the SQL grammar is bundled. `classHighlighter` adds stable `tok-*`
 * classes next to the theme's colours, which the browser tests read.
 */
import { LanguageSupport, syntaxHighlighting } from '@codemirror/language';
import { Compartment, EditorState, Extension, Prec } from '@codemirror/state';
import { EditorView, ViewPlugin } from '@codemirror/view';
import { classHighlighter } from '@lezer/highlight';

/** Whether a cell's text makes it a `%%trino` cell (the magic must be the first line). */
export function isTrinoCell(text: string): boolean {
  return /^%%trino(?:[ \t]|\r?\n|$)/.test(text);
}

/** Enough of the document to decide: the magic is on the first line. */
function head(state: EditorState): string {
  return state.doc.sliceString(0, 16);
}

export interface ISqlSource {
  /** The SQL language once loaded (null until then). */
  current(): LanguageSupport | null;
  ready: Promise<LanguageSupport | null>;
}

export function trinoSqlExtension(source: ISqlSource): Extension {
  const compartment = new Compartment();
  let sqlExtension: Extension | null = null;
  const enabled = (): Extension | null => {
    const sql = source.current();
    if (sql && sqlExtension === null) {
      // highest precedence: the `language` facet takes its first value, so SQL wins
      // over the cell's Python language while the magic is present
      sqlExtension = [
        Prec.highest(sql),
        syntaxHighlighting(classHighlighter),
        EditorView.editorAttributes.of({ 'data-lakelab-language': 'trino-sql' })
      ];
    }
    return sqlExtension;
  };
  const isOn = (state: EditorState) => {
    const ext = compartment.get(state);
    return ext !== undefined && ext !== null && Array.isArray(ext) && ext.length > 0;
  };
  // keeps the language in step with every edit (typing, paste, collaborative changes)
  const follow = EditorState.transactionExtender.of(tr => {
    if (!tr.docChanged) {
      return null;
    }
    const want = isTrinoCell(tr.newDoc.sliceString(0, 16)) && enabled() !== null;
    if (want === isOn(tr.startState)) {
      return null;
    }
    return { effects: compartment.reconfigure(want ? enabled()! : []) };
  });

  // an editor created with `%%trino` text already in it, or before SQL was loaded
  const initial = ViewPlugin.define(view => {
    let alive = true;
    const sync = () => {
      if (!alive) {
        return;
      }
      const want = isTrinoCell(head(view.state)) && enabled() !== null;
      if (want !== isOn(view.state)) {
        view.dispatch({ effects: compartment.reconfigure(want ? enabled()! : []) });
      }
    };
    void source.ready.then(() => Promise.resolve().then(sync));
    return {
      destroy() {
        alive = false;
      }
    };
  });

  return [compartment.of([]), follow, initial];
}
