import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bar, createProgress } from './progress.ts';

function recorder(isTTY: boolean) {
  const chunks: string[] = [];
  return { stream: { isTTY, write: (text: string) => void chunks.push(text) }, text: () => chunks.join('') };
}

test('a bar fills in proportion, full when there is nothing to do', () => {
  assert.equal(bar(4000, 10000, 10), '[████░░░░░░]');
  assert.equal(bar(0, 10, 4), '[░░░░]');
  assert.equal(bar(20, 10, 4), '[████]');
  assert.equal(bar(0, 0, 4), '[████]');
});

test('on a terminal the line is redrawn in place with counts and rate, and ended with a newline', () => {
  let now = 0;
  const out = recorder(true);
  const progress = createProgress({ label: 'replaying', total: 10000, stream: out.stream, clock: () => now });
  now = 1000;
  progress.update(4000, '3900 scheduled');
  now = 2000;
  progress.update(10000, '9800 scheduled');
  progress.finish();
  assert.equal(
    out.text(),
    '\rreplaying [████████░░░░░░░░░░░░] 4000/10000 4000/s 3900 scheduled\x1b[K' +
      '\rreplaying [████████████████████] 10000/10000 5000/s 9800 scheduled\x1b[K' +
      '\rreplaying [████████████████████] 10000/10000 5000/s 9800 scheduled\x1b[K\n',
  );
});

test('a terminal is redrawn at most every redrawMs, the last state always', () => {
  let now = 0;
  const out = recorder(true);
  const progress = createProgress({ label: 'counting', stream: out.stream, clock: () => now, redrawMs: 100 });
  now = 10;
  progress.update(1);
  now = 20;
  progress.update(2); // within 100 ms of the last draw: skipped
  now = 30;
  progress.finish();
  assert.equal(out.text(), '\rcounting 1 100/s\x1b[K\rcounting 2 67/s\x1b[K\n');
});

test('elsewhere a plain line per update, no carriage return, no escape', () => {
  let now = 0;
  const out = recorder(false);
  const progress = createProgress({ label: 'replaying', total: 2000, stream: out.stream, clock: () => now });
  now = 500;
  progress.update(1000, '1000 scheduled');
  now = 1000;
  progress.update(2000, '1500 scheduled');
  progress.finish();
  assert.equal(
    out.text(),
    'replaying: 1000/2000 2000/s 1000 scheduled\nreplaying: 2000/2000 2000/s 1500 scheduled\n',
  );
});

test('nothing done, nothing drawn', () => {
  const out = recorder(true);
  createProgress({ label: 'counting', stream: out.stream }).finish();
  assert.equal(out.text(), '');
});
