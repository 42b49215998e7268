import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadCredentials, TlsFilesError } from '../../src/transport/tls-credentials.js';
import { makeCertificates, NO_OPENSSL, type TestCertificates } from '../support/certs.js';

/** The TLS files read and checked one by one, so that a failure names the option, the file and why. */
void describe('loadCredentials', { skip: NO_OPENSSL }, () => {
  let certs: TestCertificates;
  before(async () => {
    certs = await makeCertificates();
  });
  after(() => certs.remove());

  const failure = (files: { cert: string; key: string; ca?: string }): TlsFilesError => {
    try {
      loadCredentials(files);
    } catch (error) {
      assert.ok(error instanceof TlsFilesError, String(error));
      return error;
    }
    assert.fail('loaded');
  };

  void it('loads a chain and its key, and says which certificate it is', () => {
    const { certificate, options } = loadCredentials({ ...certs.server, ca: certs.ca.cert });
    assert.equal(certificate.subject, 'CN=localhost');
    assert.match(certificate.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.ok(certificate.validTo.getTime() > Date.now());
    assert.equal(options.minVersion, 'TLSv1.2');
    assert.equal(String(options.cert).match(/BEGIN CERTIFICATE/g)?.length, 2, 'the whole chain is sent');
  });

  void it('names a file that cannot be read', () => {
    const missing = `${certs.dir}/missing.key`;
    const error = failure({ ...certs.server, key: missing });
    assert.equal(error.message, `cannot read --tls-key '${missing}': no such file or directory (ENOENT)`);
    assert.equal(error.code, 'ENOENT');
    assert.equal(failure({ cert: certs.dir, key: certs.server.key }).message, `cannot read --tls-cert '${certs.dir}': illegal operation on a directory (EISDIR)`);
  });

  void it('names a file that is not what it should be', () => {
    assert.match(failure({ cert: certs.server.key, key: certs.server.key }).message, new RegExp(`^--tls-cert '${certs.server.key}' is not a PEM certificate`));
    assert.match(failure({ cert: certs.server.cert, key: certs.server.cert }).message, new RegExp(`^--tls-key '${certs.server.cert}' is not a PEM private key`));
    const notCa = certs.write('not-a-ca.pem', 'hello\n');
    assert.match(failure({ ...certs.server, ca: notCa }).message, new RegExp(`^--tls-ca '${notCa}' is not a PEM certificate`));
  });

  void it('refuses a key that is not the key of the certificate', () => {
    assert.equal(
      failure({ cert: certs.server.cert, key: certs.renewed.key }).message,
      `--tls-key '${certs.renewed.key}' is not the key of the certificate in --tls-cert '${certs.server.cert}'`,
    );
  });
});
