/** Where the original's programs meet when nothing else is said. */
export const DEFAULT_HOST = 'localhost';
export const DEFAULT_PORT = 65432;
/** The largest chunk a server may be configured to send; the client's content limit matches it. */
export const MAX_CHUNK_LENGTH = 1 << 20;
