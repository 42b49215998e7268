import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { ClientTlsConfig } from '../client/config.js';
import { strRepr } from '../output/python-repr.js';
import { stringValue, type CommandLine } from './command-line.js';
import { UsageError } from './values.js';

/** The client's TLS options, for the client command's table of options. */
export const CLIENT_TLS_OPTIONS = {
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-servername': { type: 'string' },
  insecure: { type: 'boolean' },
} as const;

export const CLIENT_TLS_USAGE = `  --tls                      connect with TLS (1.2 or newer), verifying the server's
                             certificate against the system's CAs and the host name
  --tls-ca FILE              trust only the CA certificates in FILE (PEM), instead of the
                             system's; implies --tls
  --tls-cert FILE            a client certificate (PEM, chain allowed), for a server that
                             asks for one; needs --tls-key; implies --tls
  --tls-key FILE             the client certificate's private key (PEM)
  --tls-servername NAME      the name the server's certificate must carry, sent as SNI
                             (default: the host); implies --tls
  --insecure                 do not verify the server's certificate: a warning shows its
                             SHA-256 fingerprint at every connection; implies --tls`;

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * The TLS options to the client's TLS configuration, or undefined for plain TCP. Any of them
 * implies `--tls` (there is nothing else they could mean); `--tls` set off, by its variable,
 * beside one of them is a contradiction. The files are read and checked here, so that a bad
 * one is a bad command line (exit 2) naming its option, not a failure at every connection.
 */
export function clientTlsFrom(line: CommandLine): ClientTlsConfig | undefined {
  const ca = stringValue(line, 'tls-ca');
  const cert = stringValue(line, 'tls-cert');
  const key = stringValue(line, 'tls-key');
  const servername = stringValue(line, 'tls-servername');
  const insecure = line.values['insecure'] === true;
  const implying = [ca && '--tls-ca', cert && '--tls-cert', key && '--tls-key', servername !== undefined && '--tls-servername', insecure && '--insecure'].filter(
    (name): name is string => typeof name === 'string' && name !== '',
  );
  if (line.values['tls'] !== true && implying.length === 0) return undefined;
  if (line.values['tls'] === false) throw new UsageError(`${implying[0] ?? ''} needs TLS, and --tls is off`);
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together: a certificate is no use without its key');
  if (insecure && ca !== undefined) throw new UsageError('--insecure verifies nothing, so --tls-ca would be ignored: give one of them');
  if (servername === '') throw new UsageError("invalid --tls-servername '': expected a host name");
  const config: ClientTlsConfig = {
    ca: ca === undefined ? undefined : readPem('--tls-ca', ca),
    cert: cert === undefined ? undefined : readPem('--tls-cert', cert),
    key: key === undefined ? undefined : readPem('--tls-key', key),
    servername,
    insecure,
  };
  if (config.ca !== undefined && !config.ca.includes(PEM_CERTIFICATE)) throw new UsageError(`--tls-ca ${strRepr(ca ?? '')}: no PEM certificate in it`);
  if (config.ca !== undefined) checkPem(() => createSecureContext({ ca: config.ca }), `--tls-ca ${strRepr(ca ?? '')}`);
  if (config.cert !== undefined) checkPem(() => createSecureContext({ cert: config.cert, key: config.key }), `--tls-cert ${strRepr(cert ?? '')} and --tls-key ${strRepr(key ?? '')}`);
  return config;
}

/** OpenSSL's words for what is wrong (`key values mismatch`, `no start line`), after the files'. */
function checkPem(load: () => void, files: string): void {
  try {
    load();
  } catch (error) {
    const reason = (error as { reason?: unknown }).reason;
    throw new UsageError(`${files}: ${typeof reason === 'string' ? reason : (error as Error).message}`);
  }
}

function readPem(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // Node's message is `ENOENT: no such file or directory, open '<path>'`: the words, once.
    const words = /^[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
    throw new UsageError(`cannot read ${option} file ${strRepr(path)}: ${words}${code === undefined ? '' : ` (${code})`}`);
  }
}
