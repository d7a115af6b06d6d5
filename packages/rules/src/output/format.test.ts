// Alert JSON text: Falco's output_fields start with the event time, an exact nanosecond integer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertJsonText, alertTimeNs, eventTimeKey } from './format.js';

const time = '2016-08-04T16:17:57.881781397Z';

test('the event time key follows the output\'s time form; internal alerts have none', () => {
  assert.equal(eventTimeKey({ output: '2016-08-04T16:17:57.881781397+0000: Warning x', source: 'syscall' }), 'evt.time.iso8601');
  assert.equal(eventTimeKey({ output: '16:17:57.881781397: Warning x', source: 'syscall' }), 'evt.time');
  assert.equal(eventTimeKey({ output: '16:17:57.881781397: Debug drops', source: 'internal' }), undefined);
  assert.equal(alertTimeNs(time), 1470327477881781397n);
  assert.equal(alertTimeNs('2016-08-04T16:17:57Z'), 1470327477000000000n);
  assert.equal(alertTimeNs('yesterday'), undefined);
});

test('alertJsonText puts the time first in output_fields, exact, and leaves the rest as JSON.stringify has it', () => {
  const a = { hostname: 'h', output: 'o "quoted" ,"output_fields":"@@output_fields@@"', output_fields: { 'proc.cmdline': 'cat $1 "x"', 'fd.num': 3, 'user.name': null }, time };
  const text = alertJsonText(a, 'evt.time');
  assert.equal(text, JSON.stringify(a).replace('"output_fields":{', '"output_fields":{"evt.time":1470327477881781397,'));
  // A value already under the key (a rounded number from parsed JSON) is replaced, not repeated.
  const again = alertJsonText({ ...a, output_fields: { 'evt.time': Number(1470327477881781397n), ...a.output_fields } }, 'evt.time');
  assert.equal(again, text);
  // Empty fields, no key, no fields: nothing else changes.
  assert.equal(alertJsonText({ time, output_fields: {} }, 'evt.time.iso8601'), `{"time":"${time}","output_fields":{"evt.time.iso8601":1470327477881781397}}`);
  assert.equal(alertJsonText(a, undefined), JSON.stringify(a));
  assert.equal(alertJsonText({ time }, 'evt.time'), JSON.stringify({ time }));
});
