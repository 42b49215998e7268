import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Admission } from '../../src/server/admission.js';

void describe('Admission', () => {
  void it('names the limit that was hit: the whole server, or one address', () => {
    const admission = new Admission(3, 2);
    assert.equal(admission.refusal(0, '192.0.2.1'), undefined);
    admission.add('192.0.2.1');
    admission.add('192.0.2.1');
    const perAddress = admission.refusal(2, '192.0.2.1');
    assert.equal(perAddress?.code, ErrorCode.serverFull);
    assert.equal(perAddress?.message, 'too many clients from 192.0.2.1 (2)');
    assert.equal(admission.refusal(2, '192.0.2.2'), undefined, 'another address still comes in');
    admission.add('192.0.2.2');
    assert.equal(admission.refusal(3, '192.0.2.3')?.message, 'server full (3 clients)');
  });

  void it('counts an address again once its clients have gone', () => {
    const admission = new Admission(100, 1);
    admission.add('::1');
    assert.ok(admission.refusal(1, '::1') !== undefined);
    admission.remove('::1');
    assert.equal(admission.refusal(0, '::1'), undefined);
  });

  void it('counts an IPv4 peer the same whichever family the socket names it in', () => {
    const admission = new Admission(100, 1);
    admission.add('::ffff:127.0.0.1');
    assert.equal(admission.refusal(1, '127.0.0.1')?.message, 'too many clients from 127.0.0.1 (1)');
  });

  void it('without a per-address limit, only the whole server counts', () => {
    const admission = new Admission(2, undefined);
    for (let i = 0; i < 5; i++) admission.add('192.0.2.1');
    assert.equal(admission.refusal(1, '192.0.2.1'), undefined);
    assert.equal(admission.refusal(2, '192.0.2.1')?.message, 'server full (2 clients)');
  });
});
