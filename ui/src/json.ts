/** JSON from the server, with 64-bit integers kept exact. */

/**
 * JSON.parse, except that integers too long for a JavaScript number (Iceberg's 64-bit
 * snapshot ids) become strings, so no digit is lost on the way back to the server.
 */
export function parseJson(text: string): unknown {
  let out = '';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === '"') {
      // copy a string literal untouched, escapes included
      let j = i + 1;
      while (j < n && text[j] !== '"') {
        j += text[j] === '\\' ? 2 : 1;
      }
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j])) {
        j++;
      }
      const lit = text.slice(i, j);
      const digits = lit.replace('-', '');
      out += /^-?\d+$/.test(lit) && digits.length > 15 && !Number.isSafeInteger(Number(lit)) ? `"${lit}"` : lit;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}
