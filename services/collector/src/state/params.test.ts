// The parameter readers: strings come from a cache of recent decodings, which must never answer
// with another string's text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { str, strList } from './params.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

test('str: the text up to the first NUL, the same for the same bytes, never another string', () => {
  assert.equal(str(undefined), undefined);
  assert.equal(str(bytes('\0')), '');
  assert.equal(str(bytes('/etc/hostname\0')), '/etc/hostname');
  assert.equal(str(bytes('/etc/hostname\0')), '/etc/hostname');
  assert.equal(str(bytes('/etc/hostname')), '/etc/hostname', 'no NUL: the whole buffer');
  assert.equal(str(bytes('/etc/hostnamf\0')), '/etc/hostnamf');
  assert.equal(str(bytes('/etc/host\0name\0')), '/etc/host');
  assert.equal(str(bytes('/tmp/é\0')), '/tmp/é', 'UTF-8');
  assert.equal(str(new Uint8Array([0x2f, 0xff, 0])), '/\ufffd', 'invalid UTF-8 as replacement characters');
  const long = `/${'a'.repeat(300)}`;
  assert.equal(str(bytes(`${long}\0`)), long);
  assert.equal(str(bytes(long)), long);
  // Many strings: every one reads back as itself whichever slots they share.
  const names = Array.from({ length: 20_000 }, (_, i) => `/proc/${i}/status`);
  for (const n of names) assert.equal(str(bytes(`${n}\0`)), n);
  for (const n of names.slice(0, 100)) assert.equal(str(bytes(`${n}\0`)), n);
  // The cache keeps its own copy: changing the buffer afterwards changes nothing.
  const b = bytes('/var/log/x\0');
  assert.equal(str(b), '/var/log/x');
  b[9] = 0x79;
  assert.equal(str(b), '/var/log/y');
  assert.equal(str(bytes('/var/log/x\0')), '/var/log/x');
  assert.deepEqual(strList(bytes('a\0b\0')), ['a', 'b']);
});
