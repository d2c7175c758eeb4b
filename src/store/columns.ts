/**
 * How a backend's driver hands back the column values that differ between backends, so each domain
 * writes its row mappers once: better-sqlite3 returns integers as numbers, booleans as 0/1 and JSON
 * as text; pg returns bigint as text (it may exceed 2^53; Beacon's values never do), booleans as
 * booleans and `json` columns parsed.
 */
export interface Columns {
  /** An integer column. */
  int(value: unknown): number;
  /** An integer column that may be NULL. */
  intOrNull(value: unknown): number | null;
  bool(value: unknown): boolean;
  /** A boolean column that may be NULL. */
  boolOrNull(value: unknown): boolean | null;
  /** A JSON column, parsed. */
  json<T>(value: unknown): T;
}

export const sqliteColumns: Columns = {
  int: (v) => v as number,
  intOrNull: (v) => v as number | null,
  bool: (v) => v === 1,
  boolOrNull: (v) => (v === null ? null : v === 1),
  json: <T>(v: unknown) => JSON.parse(v as string) as T,
};

export const postgresColumns: Columns = {
  int: (v) => Number(v),
  intOrNull: (v) => (v === null ? null : Number(v)),
  bool: (v) => v as boolean,
  boolOrNull: (v) => v as boolean | null,
  json: <T>(v: unknown) => v as T,
};
