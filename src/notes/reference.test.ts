import assert from 'node:assert/strict';
import { test } from 'node:test';
import { carriesReference, knownRefs, legacyRef, noteRef, referenceLine } from './reference.ts';

test('a reference has 64 bits: enr- and 16 hex digits', () => {
  assert.match(noteRef('lead-1', 'phone|email|'), /^enr-[0-9a-f]{16}$/);
});

test('the legacy reference is the first 8 digits of the same hash', () => {
  const ref = noteRef('lead-1', 'k');
  assert.equal(legacyRef(ref), ref.slice(0, 12));
  assert.deepEqual(knownRefs(ref), [ref, ref.slice(0, 12)]);
  assert.deepEqual(knownRefs('enr-0123abcd'), ['enr-0123abcd']);
});

test('no two of 200,000 leads share a reference, where 8 hex digits already collide', () => {
  // The birthday bound: 200,000 keys over 2^32 give about 4.6 expected pairs, over 2^64 about 1e-9.
  const full = new Set<string>();
  const short = new Set<string>();
  let shortCollisions = 0;
  for (let n = 0; n < 200_000; n++) {
    const ref = noteRef(`lead-${n}`, '5511987654321|ana@example.com|');
    full.add(ref);
    const legacy = legacyRef(ref);
    if (short.has(legacy)) shortCollisions++;
    short.add(legacy);
  }
  assert.equal(full.size, 200_000);
  assert.ok(shortCollisions > 0, 'the legacy width collides at this scale (why it was widened)');
});

test('a note carries a reference wherever it stands, read whole', () => {
  const ref = noteRef('lead-1', 'k');
  const body = `Nota\n\n${referenceLine(ref)}`;
  assert.ok(carriesReference(body, [ref]));
  assert.ok(carriesReference(`Nota\n\nref: ${legacyRef(ref)}\n`, knownRefs(ref)), 'legacy note recognised');
  // The legacy reference is a prefix of the new one: a new note is not taken for a legacy one
  // of other contacts, and a longer reference is not taken for a shorter.
  assert.equal(carriesReference(body, [legacyRef(ref)]), false);
  assert.ok(carriesReference(`<p>Nota</p><p>${referenceLine(ref)}</p>`, [ref]), 'rendered as HTML');
  assert.ok(carriesReference(`Nota\u00a0ref:\u00a0${ref}`, [ref]), 'with non-breaking spaces');
  assert.equal(carriesReference(`ref: ${ref}0`, [ref]), false, 'a longer token is another reference');
  assert.equal(carriesReference(body, [noteRef('lead-2', 'k')]), false);
});
