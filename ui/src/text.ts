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

/** A column name as SQL: bare when it is a plain identifier, else double-quoted. */
export function sqlIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** The cell "Query Column" inserts: the column's most common values. */
export function columnCell(dataset: string, column: string, limit = 100): string {
  const c = sqlIdent(column);
  return `%%trino\nSELECT ${c}, count(*) AS n\nFROM ${dataset}\nGROUP BY ${c}\nORDER BY n DESC\nLIMIT ${limit}`;
}

/** The cell "Query Namespace in Notebook" inserts: the namespace's datasets. */
export function namespaceCell(namespace: string): string {
  return `%%trino\nSHOW TABLES FROM ${namespace}`;
}

/** The cell "New Dataset Here" inserts: a query whose result becomes a dataset in `namespace`. */
export function newDatasetCell(namespace: string): string {
  return `%%trino --into ${namespace}.new_dataset\n-- rename new_dataset, write the query; running the cell creates it\nSELECT 1 AS id`;
}
