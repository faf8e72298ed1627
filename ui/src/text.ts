/** Text the UI shows or inserts: sizes and the SQL every command agrees on. */

/** Human-readable byte size. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) {
    return '–';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** The SQL a user gets for a dataset: one place, so every command agrees. */
export function selectSql(name: string, limit = 100): string {
  return `SELECT * FROM ${name} LIMIT ${limit}`;
}

export function trinoCell(name: string, limit = 100): string {
  return `%%trino\n${selectSql(name, limit)}`;
}
