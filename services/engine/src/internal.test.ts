// The capture drop check: checks once a second of event time, the threshold, the token bucket and
// the exit action, as Falco's syscall_event_drops applies them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureDropCheck, DEFAULT_DROP_SETTINGS, DropMonitor, dropSettings, type CollectorStats, type DropSettings, type InternalAlertInput } from './internal.js';

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

test('live drop monitoring: real drops past the threshold alert; simulate_drops adds one per check, as Falco does', () => {
  const stats = (events: number, ringbuf: number, i: number): CollectorStats => ({ collector_id: 'c1', node: 'n1', time: `t${i}`, events_in: events, drops: {}, source_drops: { ringbuf } });
  const feed = (settings: Partial<DropSettings>, series: [number, number][]): { alerts: InternalAlertInput[]; logs: string[] } => {
    const alerts: InternalAlertInput[] = [];
    const logs: string[] = [];
    const m = new DropMonitor({ ...DEFAULT_DROP_SETTINGS, maxBurst: 10, ...settings }, (a) => alerts.push(a), (t) => logs.push(t), 0);
    series.forEach(([events, drops], i) => m.observe(stats(events, drops, i), (i + 1) * 1000));
    return { alerts, logs };
  };
  // 1,000 events a second; 500 dropped in the third second: 500 / 1500 > 0.1.
  const real = feed({}, [[1000, 0], [2000, 0], [3000, 500], [4000, 500]]);
  assert.equal(real.alerts.length, 1);
  assert.equal(real.alerts[0]!.fields['n_drops'], 500);
  assert.equal(real.alerts[0]!.fields['n_drops_ringbuf'], 500);
  assert.equal(real.alerts[0]!.fields['simulated'], undefined);
  // No drops at all: simulate_drops with threshold 0 makes every check after the first a drop.
  const sim = feed({ simulateDrops: true, threshold: 0 }, [[1000, 0], [2000, 0], [3000, 0], [4000, 0]]);
  assert.equal(sim.alerts.length, 3);
  assert.ok(sim.alerts.every((a) => a.fields['n_drops'] === 1 && a.fields['n_drops_simulated'] === 1 && a.fields['simulated'] === true));
  assert.equal(sim.logs.length, 3);
  // One simulated drop in 1,000 events stays under Falco's default threshold.
  assert.equal(feed({ simulateDrops: true }, [[1000, 0], [2000, 0]]).alerts.length, 0);
});
