// The ground-truth file of `eval`: one row per image, `filename,label` or `filename,index`.
//   - filename is relative to the image folder;
//   - label is one of the model's labels, exactly (after trimming surrounding spaces); quote it when it holds
//     commas, as ImageNet's do: cat.bmp,"tabby, tabby cat";
//   - index is the output index (0-based, as `classify` prints it: with background at 0 on 1001-class models);
//     a second field of digits only is an index, unless the header row names the column `label`;
//   - an optional first row `filename,label` or `filename,index` is a header; blank lines and lines starting
//     with # are skipped. Fields follow RFC 4180 quoting ("" is a quote inside a quoted field).
import { InputError } from '../errors.js';

export interface TruthRow {
  line: number;
  file: string;
  index: number;
}

export function parseTruthCsv(text: string, source: string, labels: readonly string[] | null, classes: number): TruthRow[] {
  const rows: TruthRow[] = [];
  const seen = new Set<string>();
  let column: 'label' | 'index' | null = null;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    const fail = (what: string): never => {
      throw new InputError(`${source} line ${line}: ${what}`);
    };
    if (lines[n].trim() === '' || lines[n].startsWith('#')) continue;
    const fields = splitCsvLine(lines[n], fail).map((f) => f.trim());
    if (fields.length !== 2 || fields[0] === '' || fields[1] === '') fail('expected two fields, filename,label or filename,index');
    const [file, value] = fields;
    if (rows.length === 0 && column === null && file.toLowerCase() === 'filename' && /^(label|index)$/i.test(value)) {
      column = value.toLowerCase() as 'label' | 'index';
      continue;
    }
    let index: number;
    if (column !== 'label' && /^\d+$/.test(value)) {
      index = Number(value);
      if (index >= classes) fail(`index ${index} is out of range (the model has ${classes} outputs)`);
    } else {
      if (column === 'index') fail(`"${value}" is not an index`);
      const known = labels ?? fail(`"${value}" is a label, but there are no labels (give --labels FILE)`);
      index = known.indexOf(value);
      if (index < 0) {
        const near = known.find((l) => l.toLowerCase().split(/,\s*/).includes(value.toLowerCase()));
        fail(`label "${value}" is not one of the model's labels${near ? ` (did you mean "${near}"?)` : ''}`);
      }
    }
    if (seen.has(file)) fail(`${file} is listed twice`);
    seen.add(file);
    rows.push({ line, file, index });
  }
  if (rows.length === 0) throw new InputError(`${source}: no rows`);
  return rows;
}

/** Splits one CSV line into fields, honouring double quotes. */
function splitCsvLine(text: string, fail: (what: string) => never): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) fail('unterminated quote');
  fields.push(field);
  return fields;
}
