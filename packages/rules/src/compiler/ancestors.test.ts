// Any-ancestor fields (proc.aname, proc.apid, ... without an index) hold when the comparison holds
// for any ancestor, whatever the operator, as libsinsp's compare_full_a* do; list fields keep the
// subset meaning of `in`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCondition } from '../filter/index.js';
import { compileFilter } from './compile.js';
import { fieldMapAccessor, type FieldMapEvent } from './fieldmap.js';

function check(cond: string, e: FieldMapEvent): boolean {
  const p = parseCondition(cond);
  assert.ok(p.ok, cond);
  const c = compileFilter(p.ast, fieldMapAccessor);
  assert.ok(c.ok, cond);
  return c.filter(e);
}

test('any-ancestor fields match when any ancestor passes the comparison', () => {
  const e = { 'proc.aname': ['bash', 'sshd', 'systemd'], 'proc.apid': [900, 700, 1] };
  assert.equal(check('proc.aname in (sshd)', e), true);
  assert.equal(check('proc.aname in (nginx, httpd)', e), false);
  assert.equal(check('proc.aname = systemd', e), true);
  assert.equal(check('proc.aname != sshd', e), true, 'bash and systemd differ from sshd');
  assert.equal(check('proc.aname != sshd', { 'proc.aname': ['sshd'] }), false);
  assert.equal(check('proc.apid in (1)', e), true);
  assert.equal(check('proc.apid > 800', e), true);
  assert.equal(check('proc.aname startswith ssh', e), true);
  assert.equal(check('proc.aname exists', e), true);
  assert.equal(check('proc.aname exists', { 'proc.aname': [] }), false);
  assert.equal(check('proc.aname in (sshd)', {}), false);
});

test('list fields keep the subset meaning of in, and intersects', () => {
  const k = { 'ka.req.pod.containers.image': ['nginx', 'redis'] };
  assert.equal(check('ka.req.pod.containers.image in (nginx, redis, busybox)', k), true);
  assert.equal(check('ka.req.pod.containers.image in (nginx)', k), false);
  assert.equal(check('ka.req.pod.containers.image intersects (nginx)', k), true);
});
