// @ts-check
/**
 * The browser client: the terminal client's experience in a page. It connects to the server's
 * `/ws`, where every WebSocket message is exactly one frame of the protocol (a 2-byte big-endian
 * header length, a JSON header, the content), shows every chunk as it arrives and every
 * statistics answer, and keeps its own count of the symbols since the last answer to show beside
 * the server's figure. Keys: `s` statistics, `q` close, `r` reconnect.
 *
 * Everything the server sends is shown as text (textContent), never as markup: `--alphabet`
 * may hold `<`, `&` and `"`.
 */

/** Lines kept on the page: the oldest go, so a long session does not grow the page without end. */
const MAX_LINES = 500;
const STATISTICS = /^Statistics: (\d+) symbols was delivered$/;
const STATISTICS_PREFIX = 'Statistics: ';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** The statistics request: the frame the terminal client sends, in the header form of Python's json.dumps. */
const REQUEST = requestFrame('s');

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

const ui = {
  status: element('status'),
  counted: element('counted'),
  reported: element('reported'),
  match: element('match'),
  log: element('log'),
  statistics: /** @type {HTMLButtonElement} */ (element('statistics')),
  quit: /** @type {HTMLButtonElement} */ (element('quit')),
  reconnect: /** @type {HTMLButtonElement} */ (element('reconnect')),
};

/** @type {WebSocket | undefined} */
let socket;
/** Symbols received since the last statistics answer (or since connecting). */
let counted = 0;
/** Why the connection is ending, when the page knows: the user's `q`, a shutdown or error frame. */
/** @type {string | undefined} */
let ending;

/**
 * @typedef {'symbols' | 'statistics' | 'error' | 'shutdown'} MessageType
 * @typedef {{ header: Record<string, unknown>, content: Uint8Array, type: MessageType }} Frame
 */

/**
 * Decodes one message, which must be exactly one frame.
 * @param {ArrayBuffer} message
 * @returns {Frame}
 */
function decodeFrame(message) {
  const view = new DataView(message);
  if (message.byteLength < 2) throw new Error(`a message of ${message.byteLength} bytes is no frame`);
  const headerLength = view.getUint16(0);
  if (2 + headerLength > message.byteLength) throw new Error('a message ends inside its header');
  /** @type {unknown} */
  const parsed = JSON.parse(utf8.decode(new Uint8Array(message, 2, headerLength)));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('a frame header is not a JSON object');
  const header = /** @type {Record<string, unknown>} */ (parsed);
  const length = header['content-length'];
  if (typeof length !== 'number') throw new Error('a frame header has no content-length');
  if (!Number.isSafeInteger(length) || 2 + headerLength + length !== message.byteLength) throw new Error('a message is not exactly one frame');
  const content = new Uint8Array(message, 2 + headerLength, length);
  return { header, content, type: typeOf(header, content) };
}

/**
 * What a frame is: the server says so in `message-type`; the original server does not, and its
 * answers are told apart by their prefix.
 * @param {Record<string, unknown>} header
 * @param {Uint8Array} content
 * @returns {MessageType}
 */
function typeOf(header, content) {
  const declared = header['message-type'];
  if (declared === 'symbols' || declared === 'statistics' || declared === 'error' || declared === 'shutdown') return declared;
  return latin1.decode(content.subarray(0, STATISTICS_PREFIX.length)) === STATISTICS_PREFIX ? 'statistics' : 'symbols';
}

/**
 * Bytes as Python's repr shows them, `b'td3kk'`, as the terminal client prints them.
 * @param {Uint8Array} bytes
 */
function bytesRepr(bytes) {
  const single = bytes.includes(0x27);
  const quote = single && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}${quote}`;
}

/** @param {string} request */
function requestFrame(request) {
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const content = new TextEncoder().encode(request);
  const header = new TextEncoder().encode(
    `{"byteorder": "${littleEndian ? 'little' : 'big'}", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": ${content.length}}`,
  );
  const frame = new Uint8Array(2 + header.length + content.length);
  new DataView(frame.buffer).setUint16(0, header.length);
  frame.set(header, 2);
  frame.set(content, 2 + header.length);
  return frame;
}

/**
 * Adds a line at the bottom, keeping the view at the bottom if it was there.
 * @param {string} text
 * @param {string} kind
 */
function show(text, kind) {
  const log = ui.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
  const line = document.createElement('li');
  line.className = kind;
  line.textContent = text;
  log.append(line);
  while (log.childElementCount > MAX_LINES) log.firstElementChild?.remove();
  if (atBottom) log.scrollTop = log.scrollHeight;
}

/**
 * @param {'connecting' | 'open' | 'closed' | 'lost'} state
 * @param {string} text
 */
function setState(state, text) {
  document.body.dataset['state'] = state;
  ui.status.textContent = text;
  const open = state === 'open';
  ui.statistics.disabled = !open;
  ui.quit.disabled = !open;
  ui.reconnect.hidden = state === 'open' || state === 'connecting';
}

function showCount() {
  ui.counted.textContent = String(counted);
}

function connect() {
  const url = new URL('/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  counted = 0;
  ending = undefined;
  showCount();
  setState('connecting', `connecting to ${url.host}…`);
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  socket = ws;
  ws.addEventListener('open', () => {
    setState('open', `connected to ${url.host}`);
    show(`starting connection to ${url.host}`, 'info');
  });
  ws.addEventListener('message', (event) => {
    if (!(event.data instanceof ArrayBuffer)) return;
    let frame;
    try {
      frame = decodeFrame(event.data);
    } catch (error) {
      show(`error: the server sent something that is not a frame (${error instanceof Error ? error.message : String(error)})`, 'error');
      ending = 'the server sent something that is not a frame';
      ws.close();
      return;
    }
    received(frame);
  });
  ws.addEventListener('close', (event) => {
    if (socket !== ws) return;
    socket = undefined;
    const code = `code ${event.code}${event.reason === '' ? '' : `: ${event.reason}`}`;
    if (ending !== undefined) {
      setState('closed', `${ending} (${code})`);
      show(`closing connection: ${ending}`, 'info');
    } else {
      setState('lost', `connection lost (${code})`);
      show(`error: connection lost (${code}); press r to reconnect`, 'lost');
    }
  });
}

/** @param {Frame} frame */
function received(frame) {
  const text = latin1.decode(frame.content);
  switch (frame.type) {
    case 'symbols':
      counted += frame.content.length;
      showCount();
      show(`got response: ${bytesRepr(frame.content)}`, 'symbols');
      return;
    case 'statistics': {
      show(`got response: ${bytesRepr(frame.content)}`, 'statistics');
      const match = STATISTICS.exec(text);
      const reported = match === null ? undefined : Number(match[1]);
      ui.reported.textContent = reported === undefined ? text : `${reported} symbols`;
      const same = reported === counted;
      ui.match.textContent = same ? `(page counted ${counted}: match)` : `(page counted ${counted}: MISMATCH)`;
      ui.match.className = same ? 'match' : 'mismatch';
      counted = 0;
      showCount();
      return;
    }
    case 'error':
      ending = `closed by the server: ${text}`;
      show(`error: ${text}`, 'error');
      return;
    case 'shutdown':
      ending = `the server shut down: ${text}`;
      show(`shutdown: ${text}`, 'shutdown');
      return;
  }
}

function askStatistics() {
  if (socket?.readyState !== WebSocket.OPEN) return;
  socket.send(REQUEST);
  show("sending b's'", 'info');
}

function quit() {
  if (socket?.readyState !== WebSocket.OPEN) return;
  ending = 'you closed the connection';
  socket.close(1000, 'client quits');
}

function reconnect() {
  if (socket === undefined) connect();
}

document.addEventListener('keydown', (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  const actions = /** @type {Record<string, () => void>} */ ({ s: askStatistics, q: quit, r: reconnect });
  const action = actions[event.key.toLowerCase()];
  if (action === undefined) return;
  event.preventDefault();
  action();
});
ui.statistics.addEventListener('click', askStatistics);
ui.quit.addEventListener('click', quit);
ui.reconnect.addEventListener('click', reconnect);
connect();
