/**
 * A reader of RFC 4180 CSV, as Plausible and Umami export it: comma-separated, fields optionally in
 * double quotes with `""` for a quote, line breaks inside quoted fields, CRLF or LF line ends. It
 * reads a header row and then yields each record as an object keyed by the header, with its line.
 */

/** A record: the header's column names to the row's values, and where it started. */
export interface CsvRecord {
  readonly line: number;
  readonly values: Readonly<Record<string, string>>;
}

/** Thrown for text that is not CSV, with the line it starts on. */
export class CsvError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
    this.line = line;
  }
}

/** The rows of `text` as arrays of fields, each with the line it starts on. */
function* rows(text: string): Generator<{ line: number; fields: string[] }> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          const quote = text.indexOf('"', i);
          if (quote < 0) throw new CsvError(start, 'a quoted field is not closed');
          const chunk = text.slice(i, quote);
          for (const c of chunk) if (c === '\n') line++;
          field += chunk;
          i = quote + 1;
          if (text[i] === '"') {
            field += '"';
            i++;
          } else break;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r')
          throw new CsvError(start, 'text after a closing quote');
      } else {
        let end = i;
        while (end < text.length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
        field = text.slice(i, end);
        i = end;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    // A blank line (a lone empty field) is skipped, as exporters end files with one.
    if (fields.length === 1 && fields[0] === '') continue;
    yield { line: start, fields };
  }
}

/** The header's columns and a generator of records; throws CsvError on a malformed row. */
export function readCsv(text: string): { columns: string[]; records: Generator<CsvRecord> } {
  const all = rows(text);
  const first = all.next();
  const columns = first.done ? [] : first.value.fields.map((c) => c.trim());
  function* records(): Generator<CsvRecord> {
    for (const { line, fields } of all) {
      if (fields.length !== columns.length)
        throw new CsvError(line, `${fields.length} fields where the header has ${columns.length}`);
      const values: Record<string, string> = {};
      columns.forEach((c, k) => (values[c] = fields[k]!));
      yield { line, values };
    }
  }
  return { columns, records: records() };
}
