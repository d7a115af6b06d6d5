import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditPartitionKey, fnv1a32, hostPartitionKey, partitionOf, syscallPartitionKey } from './partition.js';

test('FNV-1a 32 matches the published test vectors', () => {
  // From the FNV reference (isthe.com/chongo/tech/comp/fnv): FNV-1a 32-bit.
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('non-ASCII keys hash their UTF-8 bytes', () => {
  // Reference computed with BigInt arithmetic over Buffer.from(key, 'utf8').
  const ref = (s: string): number => {
    let h = 0x811c9dc5n;
    for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
    return Number(h);
  };
  for (const k of ['héllo', 'host:nœud-1', '容器', 'a\u{1f600}b']) assert.equal(fnv1a32(k), ref(k), k);
});

test('partition vectors are fixed: engines and collectors must agree', () => {
  const vectors: [key: string, hash: number, p32: number, p7: number][] = [
    ['host:node-1', 0x5125d975, 21, 6],
    ['3ad7b26ded6d', 0xbafc847d, 29, 6],
    ['cluster', 0xbfc1474d, 13, 0],
    ['default', 0x933b5bde, 30, 4],
    ['host:worker-a.example.com', 0xba16f2a0, 0, 0],
  ];
  for (const [key, hash, p32, p7] of vectors) {
    assert.equal(fnv1a32(key), hash, key);
    assert.equal(partitionOf(key, 32), p32, key);
    assert.equal(partitionOf(key, 7), p7, key);
    assert.equal(partitionOf(key, 1), 0);
  }
  assert.throws(() => partitionOf('x', 0), RangeError);
  assert.throws(() => partitionOf('x', 1.5), RangeError);
});

test('partition keys: container id, host:<node>, namespace or cluster', () => {
  assert.equal(hostPartitionKey('n1'), 'host:n1');
  assert.equal(syscallPartitionKey({ process: { container: { id: '3ad7b26ded6d' } } }, 'n1'), '3ad7b26ded6d');
  assert.equal(syscallPartitionKey({ process: {} }, 'n1'), 'host:n1');
  assert.equal(syscallPartitionKey({ process: { container: { id: 'host' } } }, 'n1'), 'host:n1');
  assert.equal(syscallPartitionKey({}, 'n1'), 'host:n1');
  assert.equal(auditPartitionKey('kube-system'), 'kube-system');
  assert.equal(auditPartitionKey(undefined), 'cluster');
  assert.equal(auditPartitionKey(''), 'cluster');
});
