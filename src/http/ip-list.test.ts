import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIpMatcher, parseIpList } from './ip-list.ts';

test('a list parses addresses and CIDR ranges of both families, and reports the rest', () => {
  const parsed = parseIpList(' 10.0.0.0/8, 203.0.113.7 ,2001:db8::/32,::1,, ');
  assert.deepEqual(parsed.entries, ['10.0.0.0/8', '203.0.113.7', '2001:db8::/32', '::1']);
  assert.deepEqual(parsed.invalid, []);

  const bad = parseIpList(
    '10.0.0.0/33,10.0.0.0/x,10.0.0.0/,1.2.3,example.com,2001:db8::/129,fe80::1%eth0,1.2.3.4/8/1',
  );
  assert.deepEqual(bad.entries, []);
  assert.equal(bad.invalid.length, 8);
});

test('the matcher matches addresses and ranges, IPv4-mapped IPv6 included', () => {
  const matches = createIpMatcher(['10.0.0.0/8', '203.0.113.7', '2001:db8::/32']);
  for (const ip of ['10.1.2.3', '203.0.113.7', '::ffff:10.9.9.9', '::ffff:203.0.113.7', '2001:db8::42']) {
    assert.equal(matches(ip), true, ip);
  }
  for (const ip of ['11.0.0.1', '203.0.113.8', '2001:db9::1', '::1', '', 'not-an-ip']) {
    assert.equal(matches(ip), false, ip);
  }
});

test('an empty list matches nothing', () => {
  assert.equal(createIpMatcher([])('127.0.0.1'), false);
});
