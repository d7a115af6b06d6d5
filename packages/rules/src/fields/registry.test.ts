// The field registry: plain fields, the dynamic argument forms, and the errors for misuse.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldInfo, listFieldClasses, resolveField } from './registry.js';

function ok(name: string, arg?: string): { name: string; arg: string | undefined } {
  const r = resolveField(name, arg);
  assert.ok(r.ok, `${name}[${arg}] should resolve: ${r.ok ? '' : r.message}`);
  return { name: r.info.name, arg: r.arg };
}

function err(name: string, arg?: string): string {
  const r = resolveField(name, arg);
  assert.equal(r.ok, false, `${name}[${arg}] should be rejected`);
  return r.ok ? '' : r.message;
}

test('plain fields resolve with libsinsp types', () => {
  assert.equal(fieldInfo('proc.name')?.type, 'CHARBUF');
  assert.equal(fieldInfo('proc.pid')?.type, 'INT64');
  assert.equal(fieldInfo('fd.sport')?.type, 'PORT');
  assert.equal(fieldInfo('fd.net')?.type, 'IPNET');
  assert.equal(fieldInfo('evt.rawtime')?.type, 'ABSTIME');
  assert.equal(fieldInfo('evt.buffer')?.type, 'BYTEBUF');
  assert.equal(fieldInfo('evt.is_io')?.type, 'BOOL');
  assert.equal(fieldInfo('thread.cpu')?.type, 'DOUBLE');
  assert.equal(fieldInfo('ka.user.groups')?.list, true);
  assert.equal(fieldInfo('evt.around')?.filterOnly, true);
  assert.equal(fieldInfo('ka.verb')?.source, 'k8s_audit');
  assert.equal(fieldInfo('no.such.field'), undefined);
  assert.deepEqual(ok('container.image.repository'), { name: 'container.image.repository', arg: undefined });
});

test('evt.arg and evt.rawarg take the argument after a dot or, for evt.arg, a position', () => {
  assert.deepEqual(ok('evt.arg.flags'), { name: 'evt.arg', arg: 'flags' });
  assert.deepEqual(ok('evt.rawarg.res'), { name: 'evt.rawarg', arg: 'res' });
  assert.deepEqual(ok('evt.arg', '1'), { name: 'evt.arg', arg: '1' });
  assert.deepEqual(ok('evt.arg.trusted_exepath'), { name: 'evt.arg', arg: 'trusted_exepath' });
  assert.equal(err('evt.rawarg', '0'), 'evt.arg fields must be expressed explicitly');
  assert.equal(err('evt.arg.no_such_argument'), 'unknown event argument no_such_argument');
  assert.match(err('evt.arg'), /^filter syntax error: evt\.arg/);
  assert.match(err('evt.arg', 'x'), /position in brackets/);
  assert.match(err('evt.arg.fd', '0'), /already names its argument/);
});

test('evt.type.is names an event type after the dot', () => {
  assert.deepEqual(ok('evt.type.is.open'), { name: 'evt.type.is', arg: 'open' });
  assert.equal(err('evt.type.is.nosuchevent'), 'unknown event type nosuchevent');
  assert.match(err('evt.type.is'), /requires an argument/);
});

test('evt.around takes a numeric timestamp in brackets only', () => {
  assert.deepEqual(ok('evt.around', '1404996934793590564'), { name: 'evt.around', arg: '1404996934793590564' });
  assert.equal(err('evt.around.1'), 'wrong syntax for evt.around');
  assert.match(err('evt.around', 'abc'), /timestamp/);
});

test('ancestor fields take an optional numeric index', () => {
  for (const f of ['proc.aname', 'proc.apid', 'proc.aexe', 'proc.aexepath', 'proc.acmdline']) {
    assert.deepEqual(ok(f), { name: f, arg: undefined });
    assert.deepEqual(ok(f, '2'), { name: f, arg: '2' });
    assert.match(err(f, 'two'), /numeric index/);
  }
  // proc.aenv accepts a level or a variable name.
  assert.deepEqual(ok('proc.aenv', '2'), { name: 'proc.aenv', arg: '2' });
  assert.deepEqual(ok('proc.aenv', 'HOME'), { name: 'proc.aenv', arg: 'HOME' });
});

test('keyed fields require their argument', () => {
  assert.deepEqual(ok('ka.uri.param', 'pretty'), { name: 'ka.uri.param', arg: 'pretty' });
  assert.deepEqual(ok('json.value', '/user/username'), { name: 'json.value', arg: '/user/username' });
  assert.deepEqual(ok('jevt.value', '/verb'), { name: 'jevt.value', arg: '/verb' });
  assert.deepEqual(ok('container.label', 'app'), { name: 'container.label', arg: 'app' });
  assert.deepEqual(ok('k8s.pod.label', 'app.kubernetes.io/name'), { name: 'k8s.pod.label', arg: 'app.kubernetes.io/name' });
  assert.deepEqual(ok('thread.cgroup.cpuacct'), { name: 'thread.cgroup', arg: 'cpuacct' });
  for (const f of ['ka.uri.param', 'json.value', 'jevt.value', 'container.label', 'k8s.pod.label']) {
    const m = err(f);
    assert.match(m, /requires an argument/);
    assert.ok(m.includes(`${f}[`), `message should show the bracket form: ${m}`);
  }
});

test('list fields accept an optional index', () => {
  assert.deepEqual(ok('ka.req.pod.containers.image'), { name: 'ka.req.pod.containers.image', arg: undefined });
  assert.deepEqual(ok('ka.req.pod.containers.image', '0'), { name: 'ka.req.pod.containers.image', arg: '0' });
  assert.match(err('ka.req.pod.containers.image', 'first'), /numeric index/);
});

test('an argument on a field that takes none is an error saying to remove it', () => {
  assert.equal(err('proc.name', '1'), "field 'proc.name' does not take an argument: remove '[1]'");
  assert.match(err('evt.abspath', '0'), /does not take an argument/);
});

test('unknown fields are errors, with a suggestion when one is close', () => {
  assert.equal(err('proc.nmae'), "unknown field 'proc.nmae' (did you mean 'proc.name'?)");
  assert.equal(err('zzz.qqq'), "unknown field 'zzz.qqq'");
});

test('field classes: non-empty, unique class and field names, every field described', () => {
  const classes = listFieldClasses();
  assert.ok(classes.length >= 10);
  const classNames = classes.map((c) => c.name);
  assert.equal(new Set(classNames).size, classNames.length);
  for (const want of ['evt', 'process', 'fd', 'fdlist', 'user', 'group', 'container', 'k8s', 'ka', 'json']) assert.ok(classNames.includes(want), want);
  const names = classes.flatMap((c) => c.fields.map((f) => f.name));
  const dup = names.filter((n, i) => names.indexOf(n) !== i);
  assert.deepEqual(dup, []);
  assert.ok(names.length > 300, `${names.length} fields`);
  for (const c of classes) {
    assert.ok(c.desc.length > 0 && c.sources.length > 0 && c.fields.length > 0, c.name);
    for (const f of c.fields) {
      assert.ok(f.desc.length > 0, `${f.name} has no description`);
      assert.ok(/^[a-z][a-zA-Z0-9_.]*$/.test(f.name), `bad name ${f.name}`);
      assert.ok(f.arg === 'none' || f.argKind !== undefined, `${f.name} takes an argument but has no argument kind`);
      assert.equal(fieldInfo(f.name), f);
    }
  }
});
