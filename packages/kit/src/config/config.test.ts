import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './load.js';

const cfg = (text: string, extra: { overrides?: string[]; env?: Record<string, string> } = {}) =>
  loadConfig({ texts: [{ name: 'harrier.yaml', text }], ...extra });

test('a Harrier config resolves with defaults and is frozen', () => {
  const r = cfg('nats:\n  url: nats://127.0.0.1:4222\npartitions: 64\nengine:\n  workers: 3\n');
  assert.ok(r.ok);
  assert.deepEqual(r.config.nats.servers, ['nats://127.0.0.1:4222']);
  assert.equal(r.config.nats.embedded.enabled, false);
  assert.equal(r.config.partitions, 64);
  assert.equal(r.config.engine.workers, 3);
  assert.equal(r.config.collector.batchLingerMs, 20);
  assert.equal(r.config.rules.matching, 'first');
  assert.ok(Object.isFrozen(r.config) && Object.isFrozen(r.config.nats));
  const empty = cfg('');
  assert.ok(empty.ok);
  assert.equal(empty.config.nats.embedded.enabled, true, 'no NATS URL means the embedded server');
});

test('a falco.yaml-shaped file is understood', () => {
  const r = cfg(`
rules_files:
  - /etc/falco/falco_rules.yaml
  - /etc/falco/falco_rules.local.yaml
rules:
  - disable:
      rule: "Read sensitive*"
  - enable:
      tag: network
json_output: true
json_include_output_property: false
priority: warning
rule_matching: all
time_format_iso_8601: true
stdout_output:
  enabled: true
file_output:
  enabled: true
  filename: /var/log/falco.txt
  keep_alive: false
http_output:
  enabled: false
  url: http://localhost:2801/
webserver:
  enabled: true
  listen_port: 8765
engine:
  kind: modern_ebpf
load_plugins: [container]
log_level: info
syscall_event_drops:
  threshold: .1
  actions: [log, alert]
`);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(r.config.rules.files, ['/etc/falco/falco_rules.yaml', '/etc/falco/falco_rules.local.yaml']);
  assert.deepEqual(r.config.rules.selections, [{ enable: false, rule: 'Read sensitive*' }, { enable: true, tag: 'network' }]);
  assert.equal(r.config.output.json, true);
  assert.equal(r.config.output.jsonIncludeOutput, false);
  assert.equal(r.config.rules.minPriority, 'warning');
  assert.equal(r.config.rules.matching, 'all');
  assert.equal(r.config.output.file.filename, '/var/log/falco.txt');
  assert.deepEqual(r.config.notApplicable, ['engine', 'load_plugins']);
});

test('unknown keys and wrong types are errors with line and column', () => {
  const r = cfg('nats:\n  url: nats://x\n  passwrd: oops\npartitions: many\njson_outptu: true\n');
  assert.ok(!r.ok);
  const byWhere = Object.fromEntries(r.errors.map((e) => [e.where, e.message]));
  assert.match(byWhere['harrier.yaml:3:3'] ?? '', /unknown key 'nats.passwrd'/);
  assert.match(byWhere['harrier.yaml:4:13'] ?? '', /'partitions' must be a whole number/);
  assert.match(byWhere['harrier.yaml:5:1'] ?? Object.values(byWhere).join('|'), /unknown key 'json_outptu' \(did you mean 'json_output'\?\)/);
  const yamlErr = cfg('nats: [unclosed\n');
  assert.ok(!yamlErr.ok);
  assert.match(yamlErr.errors[0]!.where, /^harrier.yaml:\d+:\d+$/);
});

test('Falco keys that would change which rules run are refused, not ignored', () => {
  const r = cfg('load_plugins: [cloudtrail, json]\nbase_syscalls:\n  custom_set: [open]\n');
  assert.ok(!r.ok);
  assert.ok(r.errors.some((e) => e.message.includes("plugin 'cloudtrail' is not available")));
  assert.ok(r.errors.some((e) => e.message.includes('base_syscalls.custom_set is not supported') && e.where.startsWith('harrier.yaml:3:')));
});

test('syscall_event_drops: Falco\'s refusals (threshold outside [0, 1], ignore with another action, unknown actions)', () => {
  const oor = cfg('syscall_event_drops:\n  threshold: 1.1\n');
  assert.ok(!oor.ok);
  assert.deepEqual(oor.errors.map((e) => e.where), ['harrier.yaml:2:14']);
  assert.match(oor.errors[0]!.message, /syscall event drops threshold must be a double in the range \[0, 1\], got 1\.1/);
  const both = cfg('syscall_event_drops:\n  actions: [ignore, log, alert]\n');
  assert.ok(!both.ok);
  assert.deepEqual(both.errors.map((e) => /action "(\w+)"/.exec(e.message)?.[1]), ['log', 'alert']);
  const unknown = cfg('syscall_event_drops:\n  actions: [shout]\n');
  assert.ok(!unknown.ok);
  assert.ok(unknown.errors[0]!.where.startsWith('harrier.yaml:2:'), unknown.errors[0]!.where);
  assert.ok(cfg('syscall_event_drops:\n  threshold: 0\n  actions: [log, alert, exit]\n  simulate_drops: true\n').ok);
});

test('-o overrides, lists, environment, and precedence file < env < -o', () => {
  const r = cfg('partitions: 8\nrules_files: [a.yaml]\n', {
    env: { HARRIER_PARTITIONS: '16', HARRIER_NATS_URL: 'nats://10.1.1.1:4222', HARRIER__COLLECTOR__BATCH_MAX_EVENTS: '100' },
    overrides: ['partitions=24', 'rules_files[]=b.yaml', 'json_output=true', 'webserver.listen_port=9000', 'notifier.sinks[0].type=slack'],
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.equal(r.config.partitions, 24);
  assert.deepEqual(r.config.rules.files, ['a.yaml', 'b.yaml']);
  assert.equal(r.config.output.json, true);
  assert.equal(r.config.webserver.listenPort, 9000);
  assert.deepEqual(r.config.nats.servers, ['nats://10.1.1.1:4222']);
  assert.equal(r.config.collector.batchMaxEvents, 100);
  assert.equal(r.config.collector.batchMaxBytes, 512 * 1024);
  assert.equal(r.config.notifier.sinks[0]?.type, 'slack');
  const envOnly = cfg('partitions: 8\n', { env: { HARRIER_PARTITIONS: '16' } });
  assert.ok(envOnly.ok);
  assert.equal(envOnly.config.partitions, 16);
  const bad = cfg('', { overrides: ['partitions=lots', 'nonsense'], env: { HARRIER_BOGUS: '1' } });
  assert.ok(!bad.ok);
  assert.ok(bad.errors.some((e) => e.where === '-o partitions=lots' && e.message.includes('whole number')));
  assert.ok(bad.errors.some((e) => e.where === '-o nonsense'));
  assert.ok(bad.errors.some((e) => e.where === 'env HARRIER_BOGUS'));
});

test('secrets never appear in errors', () => {
  const r = cfg('nats:\n  url: nats://x\n  password: 12345\n');
  assert.ok(!r.ok);
  assert.ok(r.errors.every((e) => !e.message.includes('12345')));
});

test('collector section: publishing, source and stream keys with defaults; bad values point at file:line', () => {
  const d = cfg('collector:\n  node: worker-1.example.com\n');
  assert.ok(d.ok);
  const c = d.config.collector;
  assert.equal(c.id, 'worker-1_example_com', 'the default id is the node as a subject token');
  assert.equal(c.maxInflight, 64);
  assert.equal(c.statsIntervalMs, 5000);
  assert.equal(c.source, 'ebpf');
  assert.deepEqual(c.capture, { file: undefined, loop: false, rate: 0 });
  assert.equal(c.eventsStream.duplicateWindowMs, 120_000);
  assert.equal(c.probe.ringbufMb, 0, 'rings sized by CPU count');
  assert.equal(c.probe.bufferMb, 32, "the probe's output queue");
  const probe = cfg('collector:\n  probe:\n    ringbuf_mb: 8\n    buffer_mb: 128\n');
  assert.ok(probe.ok);
  assert.equal(probe.config.collector.probe.ringbufMb, 8);
  assert.equal(probe.config.collector.probe.bufferMb, 128);
  const badProbe = cfg('collector:\n  probe:\n    buffer_mb: 0\n');
  assert.ok(!badProbe.ok && badProbe.errors.some((e) => e.where === 'harrier.yaml:3:16' && /buffer_mb/.test(e.message)), JSON.stringify(badProbe.ok ? [] : badProbe.errors));
  const r = cfg('collector:\n  id: c1\n  source: capture\n  capture:\n    file: /tmp/x.scap\n    loop: true\n  max_inflight: 8\n  events_stream:\n    duplicate_window_ms: 300000\n', { overrides: ['collector.stats_interval_ms=250'] });
  assert.ok(r.ok);
  assert.equal(r.config.collector.source, 'capture');
  assert.deepEqual(r.config.collector.capture, { file: '/tmp/x.scap', loop: true, rate: 0 });
  assert.equal(r.config.collector.maxInflight, 8);
  assert.equal(r.config.collector.statsIntervalMs, 250);
  assert.equal(r.config.collector.eventsStream.duplicateWindowMs, 300_000);
  const bad = cfg('collector:\n  id: a.b\n  batch_linger_ms: 50\n  source: kmod\n');
  assert.ok(!bad.ok);
  assert.ok(bad.errors.some((e) => e.where === 'harrier.yaml:2:7' && /collector\.id' may hold only/.test(e.message)), JSON.stringify(bad.errors));
  assert.ok(bad.errors.some((e) => e.where === 'harrier.yaml:3:20' && /batch_linger_ms/.test(e.message)));
  assert.ok(bad.errors.some((e) => e.where === 'harrier.yaml:4:11' && /ebpf, capture/.test(e.message)));
});

test('informational lines on stderr follow log_stderr and the log level (Falco\'s notice is above info)', () => {
  const info = (text: string): boolean => {
    const r = cfg(text);
    if (!r.ok) assert.fail(JSON.stringify(r.errors));
    return r.config.logging.stderrInfo;
  };
  assert.equal(info(''), true);
  assert.equal(info('log_stderr: false\n'), false);
  assert.equal(info('log_level: info\n'), true);
  assert.equal(info('log_level: debug\n'), true);
  assert.equal(info('log_level: notice\n'), false);
  assert.equal(info('log_level: warning\n'), false);
  assert.equal(info('logging:\n  level: warn\nlog_level: info\n'), false);
  assert.equal(info('logging:\n  level: debug\nlog_level: notice\n'), true);
});

test('ports out of range, container runtimes without a socket, and misspelt nested keys are errors with their place', () => {
  const r = cfg('webserver:\n  listen_port: 99999\nnats:\n  embedded:\n    port: -1\ncollector:\n  batch_max_event: 10\n  container_runtimes:\n    - kind: docker\n    - kind: podman\n      socket: ""\n');
  assert.ok(!r.ok);
  const lines = r.errors.map((e) => `${e.where}: ${e.message}`);
  assert.ok(lines.includes("harrier.yaml:2:16: 'webserver.listen_port' must be <= 65535"), lines.join('\n'));
  assert.ok(lines.includes("harrier.yaml:5:11: 'nats.embedded.port' must be >= 0"), lines.join('\n'));
  assert.ok(lines.includes("harrier.yaml:7:3: unknown key 'collector.batch_max_event' (did you mean 'batch_max_events'?): remove it or check the spelling"), lines.join('\n'));
  assert.ok(lines.includes("harrier.yaml:9:7: 'collector.container_runtimes.0' must have required property 'socket'"), lines.join('\n'));
  assert.ok(lines.includes("harrier.yaml:11:15: 'collector.container_runtimes.1.socket' must NOT have fewer than 1 characters"), lines.join('\n'));
  const o = cfg('', { overrides: ['webserver.listen_port=70000'] });
  assert.ok(!o.ok);
  assert.deepEqual(o.errors, [{ where: '-o webserver.listen_port=70000', message: "'webserver.listen_port' must be <= 65535" }]);
});

test("Falco's webserver keys: k8s_healthz_endpoint is honoured, ssl_enabled is refused rather than served in plain text", () => {
  const ok = cfg('webserver:\n  k8s_healthz_endpoint: /health\n  ssl_enabled: false\n');
  assert.ok(ok.ok);
  assert.equal(ok.config.webserver.healthzPath, '/health');
  const def = cfg('');
  assert.ok(def.ok);
  assert.equal(def.config.webserver.healthzPath, '/healthz');
  const bad = cfg('webserver:\n  k8s_healthz_endpoint: health\n  ssl_enabled: true\n  ssl_certificate: /etc/falco/falco.pem\n');
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors, [
    { where: 'harrier.yaml:2:25', message: "'webserver.k8s_healthz_endpoint' must be a URL path starting with '/', e.g. /healthz" },
    { where: 'harrier.yaml:3:16', message: 'webserver.ssl_enabled is not supported: /healthz and /metrics are served over plain HTTP (on 127.0.0.1 by default); terminate TLS in front of them, or set webserver.ssl_enabled: false' },
  ]);
});
