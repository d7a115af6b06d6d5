// The capture drop check: checks once a second of event time, the threshold, the token bucket and
// the exit action, as Falco's syscall_event_drops applies them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureDropCheck, DEFAULT_DROP_SETTINGS, dropSettings, type DropSettings } from './internal.js';

const S = 1_000_000_000n;

function run(settings: Partial<DropSettings>, seconds: number): { check: CaptureDropCheck; logs: string[]; alerts: bigint[]; stoppedAt: number | undefined } {
  const logs: string[] = [];
  const alerts: bigint[] = [];
  const check = new CaptureDropCheck({ ...DEFAULT_DROP_SETTINGS, simulateDrops: true, ...settings }, { log: (t) => logs.push(t), alert: (_t, _f, ts) => alerts.push(ts) });
  let stoppedAt: number | undefined;
  // Ten events a second of event time, starting at t=100 s.
  for (let i = 0; i <= seconds * 10; i++) {
    if (!check.onEvent(100n * S + (BigInt(i) * S) / 10n)) {
      stoppedAt = i;
      break;
    }
  }
  return { check, logs, alerts, stoppedAt };
}

test('a check a second of event time after the first event; each simulated drop counts once', () => {
  const r = run({ actions: ['log'], maxBurst: 100 }, 5);
  // Checks fire on the first event past each next-check time: at 1.1 s, 2.2 s, 3.3 s, 4.4 s.
  assert.equal(r.check.detected, 4);
  assert.equal(r.check.actionsTaken, 4);
  assert.equal(r.logs.length, 4);
  assert.match(r.logs[0]!, /^Falco internal: syscall event drop\. 1 system calls dropped in last second\.$/);
  assert.match(r.check.summary(), /event drop detected: 4 occurrences\n {3}- num times actions taken: 4\n$/);
});

test('the token bucket limits the actions, not the detections; the threshold can silence them', () => {
  const burst = run({ actions: ['alert'], maxBurst: 2, rate: 0.03333 }, 10);
  assert.equal(burst.check.detected, 9);
  assert.equal(burst.check.actionsTaken, 2, 'two tokens, and one more only after 30 s');
  assert.equal(burst.alerts.length, 2);
  const quiet = run({ actions: ['log'], threshold: 1 }, 5);
  assert.equal(quiet.check.detected, 4);
  assert.equal(quiet.check.actionsTaken, 0, 'a share of 1 is not above a threshold of 1');
  const none = run({ actions: ['log'], simulateDrops: false }, 5);
  assert.equal(none.check.detected, 0, 'a capture without simulated drops has none');
});

test('exit stops at the first action; untimed events are not checks', () => {
  const r = run({ actions: ['exit'] }, 5);
  assert.equal(r.stoppedAt, 11);
  assert.deepEqual(r.logs, ['Falco internal: syscall event drop. 1 system calls dropped in last second. Exiting.']);
  const c = new CaptureDropCheck({ ...DEFAULT_DROP_SETTINGS, simulateDrops: true, actions: ['exit'] }, { log: () => undefined, alert: () => undefined });
  for (let i = 0; i < 10; i++) assert.equal(c.onEvent(0n), true);
  assert.equal(c.detected, 0);
});

test('dropSettings reads Falco\'s keys, defaults where absent', () => {
  assert.deepEqual(dropSettings({}), DEFAULT_DROP_SETTINGS);
  assert.deepEqual(dropSettings({ syscall_event_drops: { threshold: 0.5, actions: ['alert', 'exit'], rate: 1, max_burst: 3, simulate_drops: true } }), { threshold: 0.5, actions: ['alert', 'exit'], rate: 1, maxBurst: 3, simulateDrops: true });
});
