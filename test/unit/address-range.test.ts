import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, inRanges, LOOPBACK_RANGES, parseAddressRange, type AddressRange } from '../../src/transport/address-range.js';

const range = (text: string): AddressRange => {
  const parsed = parseAddressRange(text);
  if (typeof parsed === 'string') assert.fail(`${text}: ${parsed}`);
  return parsed;
};

void describe('parseAddressRange', () => {
  void it('reads networks of both families, and a bare address as a network of one', () => {
    assert.deepEqual(
      ['10.0.0.0/8', '172.16.0.0/12', '192.0.2.7', '0.0.0.0/0', 'fd00::/8', '::1', '2001:db8::/32', '::/0'].map((text) => {
        const { family, prefix } = range(text);
        return [family, prefix];
      }),
      [
        ['IPv4', 8],
        ['IPv4', 12],
        ['IPv4', 32],
        ['IPv4', 0],
        ['IPv6', 8],
        ['IPv6', 128],
        ['IPv6', 32],
        ['IPv6', 0],
      ],
    );
  });

  void it('refuses what is not an address, a prefix out of range, and bits set past the prefix', () => {
    assert.equal(parseAddressRange('localhost'), "'localhost' is not an IPv4 or IPv6 address");
    assert.equal(parseAddressRange('10.0.0.0/33'), "'/33' is not a prefix length from 0 to 32");
    assert.equal(parseAddressRange('::/129'), "'/129' is not a prefix length from 0 to 128");
    assert.equal(parseAddressRange('10.0.0.0/'), "'/' is not a prefix length from 0 to 32");
    assert.equal(parseAddressRange('10.0.0.0/-1'), "'/-1' is not a prefix length from 0 to 32");
    assert.equal(parseAddressRange('10.0.0.1/8'), "'10.0.0.1/8' has bits set past its /8 prefix");
    assert.equal(parseAddressRange('fd00::1/8'), "'fd00::1/8' has bits set past its /8 prefix");
    assert.equal(parseAddressRange('010.0.0.0/8'), "'010.0.0.0' is not an IPv4 or IPv6 address");
  });
});

void describe('inRanges', () => {
  void it('matches on whole bytes and on a prefix inside a byte', () => {
    const twelve = [range('172.16.0.0/12')];
    assert.equal(inRanges('172.16.0.1', twelve), true);
    assert.equal(inRanges('172.31.255.255', twelve), true);
    assert.equal(inRanges('172.32.0.0', twelve), false);
    assert.equal(inRanges('172.15.255.255', twelve), false);
    assert.equal(inRanges('2001:db8:ffff::1', [range('2001:db8::/32')]), true);
    assert.equal(inRanges('2001:db9::1', [range('2001:db8::/32')]), false);
    assert.equal(inRanges('198.51.100.1', [range('0.0.0.0/0')]), true);
  });

  void it('trusts loopback by default, in both families, and an IPv4 peer named as IPv6 by a dual-stack socket', () => {
    for (const host of ['127.0.0.1', '127.255.0.3', '::1', '::ffff:127.0.0.1']) assert.equal(inRanges(host, LOOPBACK_RANGES), true, host);
    for (const host of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '?', '']) assert.equal(inRanges(host, LOOPBACK_RANGES), false, host);
  });

  void it('never matches across families', () => {
    assert.equal(inRanges('::', [range('0.0.0.0/0')]), false);
    assert.equal(inRanges('10.0.0.1', [range('::/0')]), false);
  });
});

void describe('addressKey', () => {
  void it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('2001:db8::1'), '2001:db8::1');
  });
});
