/** The server's listeners: the clients' port, the web port, the metrics port. */
export type ListenerName = 'server' | 'web' | 'metrics';

/**
 * A listener that could not be opened: which one, where, and the system's error. A start that
 * fails says exactly which of its ports it could not have, with or without workers.
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  /** The system's code (`EADDRINUSE`, ...), as on the error it wraps. */
  readonly code: string | undefined;

  constructor(
    readonly listener: ListenerName,
    readonly host: string,
    readonly port: number,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(cause.message, { cause });
    this.code = cause.code;
  }

  /** Runs `open`, naming its failure as `listener`'s. */
  static async naming<T>(listener: ListenerName, where: { readonly host: string; readonly port: number }, open: () => Promise<T>): Promise<T> {
    try {
      return await open();
    } catch (error) {
      throw new ListenError(listener, where.host, where.port, error instanceof Error ? error : new Error(String(error)));
    }
  }
}
