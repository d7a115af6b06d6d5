// The event-type table: names evt.type accepts, flags for -A, argument names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allEventTypes, eventTypeInfo, isKnownEventArg, isKnownEventType } from './events.js';

test('syscall and libsinsp event names are known; others are not', () => {
  for (const n of ['open', 'openat', 'openat2', 'execve', 'execveat', 'connect', 'accept', 'accept4', 'clone', 'clone3', 'fork', 'vfork', 'ptrace', 'setns', 'mprotect', 'memfd_create']) {
    assert.ok(isKnownEventType(n), n);
    assert.equal(eventTypeInfo(n)?.syscall, true, n);
  }
  for (const n of ['procexit', 'container', 'switch', 'signaldeliver', 'pluginevent', 'asyncevent', 'page_fault']) {
    assert.ok(isKnownEventType(n), n);
    assert.equal(eventTypeInfo(n)?.syscall, false, n);
  }
  // Syscalls without a dedicated event still have a name evt.type can compare with.
  assert.equal(eventTypeInfo('mlock2')?.generic, false);
  assert.equal(eventTypeInfo('faccessat2')?.generic, true);
  assert.equal(isKnownEventType('opne'), false);
  assert.equal(isKnownEventType(''), false);
});

test('one entry per name', () => {
  const names = allEventTypes().map((e) => e.name);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.length > 350, `${names.length} event types`);
});

test('high-volume I/O is skipped without -A, state-changing events never are', () => {
  for (const n of ['read', 'write', 'readv', 'writev', 'pread', 'pwrite', 'send', 'recv', 'sendfile']) assert.equal(eventTypeInfo(n)?.skippedByDefault, true, n);
  for (const n of ['sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'open', 'execve', 'connect', 'close', 'procexit']) assert.equal(eventTypeInfo(n)?.skippedByDefault, false, n);
  assert.equal(eventTypeInfo('read')?.category, 'io_read');
  assert.equal(eventTypeInfo('futex')?.dropSimpleCons, true);
  assert.equal(eventTypeInfo('execve')?.dropSimpleCons, false);
  assert.equal(eventTypeInfo('execve')?.modifiesState, true);
});

test('argument names follow libsinsp order', () => {
  assert.deepEqual(eventTypeInfo('openat')?.args, ['fd', 'dirfd', 'name', 'flags', 'mode', 'dev', 'ino']);
  assert.deepEqual(eventTypeInfo('connect')?.args.slice(0, 2), ['res', 'tuple']);
  assert.ok(isKnownEventArg('trusted_exepath'));
  assert.ok(isKnownEventArg('request'));
  assert.equal(isKnownEventArg('no_such_arg'), false);
});
