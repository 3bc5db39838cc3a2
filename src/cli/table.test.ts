import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderTable, truncate, type Column } from './table.ts';

interface Row {
  readonly id: string;
  readonly lead: string;
  readonly attempts: number;
  readonly error: string | null;
}

const COLUMNS: ReadonlyArray<Column<Row>> = [
  { header: 'ID', value: (row) => row.id, whole: true },
  { header: 'LEAD', value: (row) => row.lead },
  { header: 'ATTEMPTS', value: (row) => row.attempts, align: 'right' },
  { header: 'ERROR', value: (row) => row.error },
];

const ROWS: readonly Row[] = [
  { id: 'e1', lead: 'lead-with-a-very-long-identifier-0001', attempts: 3, error: 'c2s_unavailable' },
  { id: 'e2', lead: 'l2', attempts: 12, error: null },
];

test('columns are aligned, numbers to the right, empty values as -', () => {
  assert.equal(
    renderTable(COLUMNS, ROWS),
    'ID  LEAD                                   ATTEMPTS  ERROR\n' +
      'e1  lead-with-a-very-long-identifier-0001         3  c2s_unavailable\n' +
      'e2  l2                                           12  -\n',
  );
});

test('without a width every value is whole; with one, the widest columns give way with …', () => {
  const whole = renderTable(COLUMNS, ROWS);
  assert.ok(whole.includes('lead-with-a-very-long-identifier-0001'));
  const fitted = renderTable(COLUMNS, ROWS, 40);
  for (const line of fitted.trimEnd().split('\n')) assert.ok([...line].length <= 40, line);
  assert.match(fitted, /lead-with-a…/);
  assert.match(fitted, /c2s_unavail…/);
  assert.match(fitted, /^e1 /m, 'an id is never shortened');
});

test('a width too small to honour shortens down to a few characters and no further', () => {
  const lines = renderTable(COLUMNS, ROWS, 5).trimEnd().split('\n');
  assert.equal(lines[0], 'ID  LEAD  ATT…  ERR…');
  assert.equal(lines[1], 'e1  lea…     3  c2s…');
});

test('line breaks inside a value do not break the table', () => {
  const out = renderTable(COLUMNS, [{ id: 'e3', lead: 'a\nb', attempts: 1, error: 'x\r\ny' }]);
  assert.equal(out.split('\n').length, 3);
});

test('truncate counts characters, not UTF-16 units', () => {
  assert.equal(truncate('ação', 4), 'ação');
  assert.equal(truncate('█████', 3), '██…');
  assert.equal(truncate('abc', 1), '…');
});
