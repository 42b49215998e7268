import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../src/cli/values.js';
import { parseOrigins, parseWebAddress } from '../../src/cli/web-options.js';
import { normalizeOrigin, originAllowed } from '../../src/web/origin.js';
import { securityHeaders } from '../../src/web/web-port.js';

void describe('which pages may open a WebSocket', () => {
  void it('lets in the page of the server itself, by the Host it was asked for', () => {
    assert.ok(originAllowed('http://localhost:8080', 'localhost:8080', []));
    assert.ok(originAllowed('http://LOCALHOST:8080', 'localhost:8080', []));
    assert.ok(originAllowed('https://example.org', 'example.org:443', []));
    assert.ok(originAllowed('http://[::1]:8080', '[::1]:8080', []));
  });

  void it('lets in a tool that sends no Origin', () => {
    assert.ok(originAllowed(undefined, 'localhost:8080', []));
  });

  void it('refuses a page from anywhere else, unless --web-origin names it', () => {
    assert.equal(originAllowed('https://evil.example', 'localhost:8080', []), false);
    assert.equal(originAllowed('http://localhost:8081', 'localhost:8080', []), false);
    assert.equal(originAllowed('null', 'localhost:8080', []), false);
    assert.equal(originAllowed('http://localhost:8080', undefined, []), false);
    assert.ok(originAllowed('https://evil.example', 'localhost:8080', ['https://evil.example']));
    assert.ok(originAllowed('https://Evil.Example:443', 'localhost:8080', ['https://evil.example']));
  });

  void it('knows an origin from a URL that is not one', () => {
    assert.equal(normalizeOrigin('https://example.org'), 'https://example.org');
    assert.equal(normalizeOrigin('http://example.org:80'), 'http://example.org');
    assert.equal(normalizeOrigin('https://example.org/page'), undefined);
    assert.equal(normalizeOrigin('file:///tmp/x.html'), undefined);
    assert.equal(normalizeOrigin('example.org'), undefined);
  });
});

void describe('--web and --web-origin', () => {
  void it('takes PORT (on the server\'s host), HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseWebAddress('8080', '0.0.0.0'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseWebAddress('127.0.0.1:0', '::'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(parseWebAddress('[::1]:8080', 'localhost'), { host: '::1', port: 8080 });
    assert.throws(() => parseWebAddress('localhost', 'localhost'), (error: unknown) => error instanceof UsageError && /--web 'localhost'/.test(error.message));
    assert.throws(() => parseWebAddress('70000', 'localhost'), UsageError);
  });

  void it('takes origins separated by commas, in the form browsers send', () => {
    assert.deepEqual(parseOrigins('https://example.org, http://localhost:3000'), ['https://example.org', 'http://localhost:3000']);
    assert.throws(() => parseOrigins('https://example.org/app'), (error: unknown) => error instanceof UsageError && /--web-origin/.test(error.message));
    assert.throws(() => parseOrigins('*'), UsageError);
  });
});

void describe('the page\'s security headers', () => {
  void it('forbid inline script and other origins, and name the page\'s own WebSocket', () => {
    const policy = securityHeaders('localhost:8080')['Content-Security-Policy'] ?? '';
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /script-src 'self';/);
    assert.match(policy, /connect-src 'self' ws:\/\/localhost:8080 wss:\/\/localhost:8080;/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe|\*/);
  });

  void it('never echo a Host that is not a plain host', () => {
    for (const host of ['x; script-src *', 'a b', "'unsafe-inline'"]) {
      assert.doesNotMatch(securityHeaders(host)['Content-Security-Policy'] ?? '', /script-src \*|unsafe|a b/);
    }
  });
});
