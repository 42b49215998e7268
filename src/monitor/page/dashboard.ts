/**
 * The dashboard page: the figures of `/events` (one sample a second, the last five minutes
 * sent first) as tiles, charts (uPlot) and tables, and the connections of `/connz` polled while
 * the page is shown. Everything the server says is put in the page as text (textContent),
 * never as markup.
 */
import uPlot from 'uplot';
import { KNOWN_TRANSPORTS, type Connz, type ConnzEntry, type Figures, type WorkerFigures } from '../figures.js';

/** Samples on the charts: five minutes. */
const POINTS = 300;
const CHART_HEIGHT = 190;
/** Each poll costs the server a request: a few seconds apart, and only while the table is in sight. */
const CONNZ_EVERY_MS = 5_000;
const CONNZ_LIMIT = 20;
/** No sample for this long and the page says its figures are stale. */
const STALE_AFTER_MS = 5_000;

const TRANSPORT_NAMES: Readonly<Record<string, string>> = { tcp: 'TCP', ws: 'WebSocket' };
const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#bf8700', '#8250df', '#0a7ea4', '#cf5f00'];

// ---- the figures ---------------------------------------------------------------------------

let history: Figures[] = [];
let lastArrival = 0;
let drawPending = false;

function received(figures: Figures): void {
  // A sequence that starts again is a restarted server: its figures do not continue the old ones.
  const last = history.at(-1);
  if (last !== undefined && figures.seq <= last.seq) history = [];
  history.push(figures);
  if (history.length > POINTS) history.splice(0, history.length - POINTS);
  lastArrival = Date.now();
  setStatus(figures.ready ? 'live' : 'shutting-down');
  scheduleDraw();
}

/** Draws at most once a frame: a backlog of five minutes arrives as 300 events at once. */
function scheduleDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    const latest = history.at(-1);
    if (latest === undefined) return;
    drawTiles(latest);
    drawCharts();
    drawWorkers(latest.workers);
    drawErrors(latest);
  });
}

// ---- tiles ---------------------------------------------------------------------------------

function drawTiles(f: Figures): void {
  text('clients', integer(f.clients));
  const transports = element('transports');
  transports.replaceChildren(
    ...Object.entries(f.transports).flatMap(([kind, count], i) => {
      const span = document.createElement('span');
      span.id = `clients-${kind}`;
      span.dataset['transport'] = kind;
      span.textContent = `${transportName(kind)} ${integer(count)}`;
      return i === 0 ? [span] : [document.createTextNode(' · '), span];
    }),
  );
  text('connections-rate', `${rate(f.per_second.accepted)} / ${rate(f.per_second.closed)}`);
  text('chunks-rate', rate(f.per_second.chunks));
  text('symbols-rate', `${rate(f.per_second.symbols)} symbols per second`);
  text('answers-rate', rate(f.per_second.statistics_answers));
  text('lateness', `${ms(f.lateness_ms.p99)} ms`);
  text('lateness-detail', `p50 ${ms(f.lateness_ms.p50)} · max ${ms(f.lateness_ms.max)} ms · ${integer(f.lateness_ms.count)} chunks`);
  text('cpu', `${f.process.cpu_percent.toFixed(0)} %`);
  text('memory', `RSS ${mb(f.process.rss_bytes)} MB · heap ${mb(f.process.heap_used_bytes)} MB`);
  const workers = f.workers === null ? '' : ` · ${f.workers.length} worker${f.workers.length === 1 ? '' : 's'}`;
  text('about', `up ${duration(f.uptime_seconds)}${workers}${f.ready ? '' : ' · shutting down'}`);
}

// ---- charts --------------------------------------------------------------------------------

interface SeriesSpec {
  readonly label: string;
  readonly value: (f: Figures) => number;
  /** 'y' (left axis) or 'y2' (right axis). */
  readonly scale?: 'y' | 'y2';
  readonly dash?: number[];
}

interface Chart {
  readonly host: HTMLElement;
  readonly series: readonly SeriesSpec[];
  plot: uPlot;
}

const charts = new Map<string, Chart>();

function chartSpecs(): Record<string, readonly SeriesSpec[]> {
  return {
    'chart-clients': transportKinds().map((kind) => ({ label: transportName(kind), value: (f: Figures) => f.transports[kind] ?? 0 })),
    'chart-connections': [
      { label: 'accepted', value: (f) => f.per_second.accepted },
      { label: 'closed', value: (f) => f.per_second.closed },
    ],
    'chart-chunks': [
      { label: 'chunks/s', value: (f) => f.per_second.chunks },
      { label: 'symbols/s', value: (f) => f.per_second.symbols, scale: 'y2' },
    ],
    'chart-answers': [
      { label: 'answers/s', value: (f) => f.per_second.statistics_answers },
      { label: 'errors/s', value: (f) => f.per_second.errors, scale: 'y2' },
    ],
    'chart-lateness': [
      { label: 'p50', value: (f) => f.lateness_ms.p50 },
      { label: 'p99', value: (f) => f.lateness_ms.p99 },
      { label: 'max', value: (f) => f.lateness_ms.max, dash: [4, 3] },
    ],
    'chart-process': [
      { label: 'CPU %', value: (f) => f.process.cpu_percent },
      { label: 'RSS MB', value: (f) => f.process.rss_bytes / 1048576, scale: 'y2' },
      { label: 'heap MB', value: (f) => f.process.heap_used_bytes / 1048576, scale: 'y2', dash: [4, 3] },
    ],
  };
}

/** The transports to chart: the known ones, and any other seen in the last five minutes. */
function transportKinds(): string[] {
  const kinds = new Set<string>(KNOWN_TRANSPORTS);
  for (const f of history) for (const kind of Object.keys(f.transports)) kinds.add(kind);
  return [...kinds];
}

function drawCharts(): void {
  const time = history.map((f) => f.time / 1000);
  for (const [id, series] of Object.entries(chartSpecs())) {
    let chart = charts.get(id);
    // A new transport kind is a new series: the chart is made again with it.
    if (chart !== undefined && chart.series.map((s) => s.label).join() !== series.map((s) => s.label).join()) {
      chart.plot.destroy();
      charts.delete(id);
      chart = undefined;
    }
    if (chart === undefined) {
      const host = element(id);
      chart = { host, series, plot: makePlot(host, series) };
      charts.set(id, chart);
    }
    chart.plot.setData([time, ...series.map((s) => history.map(s.value))]);
  }
}

function makePlot(host: HTMLElement, series: readonly SeriesSpec[]): uPlot {
  const style = getComputedStyle(document.documentElement);
  const axisColor = style.getPropertyValue('--axis').trim() || '#656d76';
  const gridColor = style.getPropertyValue('--grid').trim() || '#eaeef2';
  const axis = (scale: string, side: number): uPlot.Axis => ({
    scale,
    side,
    stroke: axisColor,
    size: 56,
    grid: { show: side === 3, stroke: gridColor, width: 1 },
    ticks: { stroke: gridColor, width: 1 },
    values: (_plot, ticks) => ticks.map(compact),
  });
  const twoAxes = series.some((s) => s.scale === 'y2');
  const options: uPlot.Options = {
    width: Math.max(200, host.clientWidth),
    height: CHART_HEIGHT,
    scales: { x: { time: true }, y: { range: (_plot, min, max) => [0, Math.max(1, max, min)] }, y2: { range: (_plot, min, max) => [0, Math.max(1, max, min)] } },
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        scale: s.scale ?? 'y',
        stroke: COLORS[i % COLORS.length] ?? '#1f6feb',
        width: 1.5,
        ...(s.dash === undefined ? {} : { dash: s.dash }),
        points: { show: false },
      })),
    ],
    axes: [
      { stroke: axisColor, space: 70, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 }, values: (_plot, ticks) => ticks.map(clock) },
      axis('y', 3),
      ...(twoAxes ? [axis('y2', 1)] : []),
    ],
    // The legend names the series; the values are on the tiles.
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
  };
  const plot = new uPlot(options, [[], ...series.map(() => [])], host);
  new ResizeObserver(() => plot.setSize({ width: Math.max(200, host.clientWidth), height: CHART_HEIGHT })).observe(host);
  return plot;
}

// ---- tables --------------------------------------------------------------------------------

function drawWorkers(workers: readonly WorkerFigures[] | null): void {
  const section = element('workers-section');
  section.hidden = workers === null;
  if (workers === null) return;
  fillTable(
    'workers',
    workers.map((w) => [
      String(w.worker),
      String(w.pid),
      `${integer(w.clients)} (${Object.entries(w.transports)
        .filter(([, count]) => count > 0)
        .map(([kind, count]) => `${transportName(kind)} ${integer(count)}`)
        .join(', ') || 'none'})`,
      rate(w.per_second.chunks),
      `${ms(w.lateness_ms.p99)} ms`,
      `${ms(w.lateness_ms.max)} ms`,
      `${w.process.cpu_percent.toFixed(0)} %`,
      `${mb(w.process.rss_bytes)} MB`,
    ]),
  );
}

function drawErrors(f: Figures): void {
  const rows: string[][] = [
    ...Object.entries(f.errors.protocol).map(([code, count]) => [code, 'protocol', integer(count)]),
    ...Object.entries(f.errors.socket).map(([code, count]) => [code, 'socket', integer(count)]),
    ...(f.errors.internal > 0 ? [['internal error', 'server fault', integer(f.errors.internal)]] : []),
  ];
  element('errors').hidden = rows.length === 0;
  element('no-errors').hidden = rows.length > 0;
  fillTable('errors', rows, [0, 1]);
}

function drawConnections(connz: Connz): void {
  const shown = connz.connections.length < connz.total ? `, ${connz.connections.length} shown` : '';
  text('connections-total', `(${integer(connz.total)} open${shown})`);
  fillTable('connections', connz.connections.map(connectionRow), [1, 2, 8], (row, i) => {
    const entry = connz.connections[i];
    if (entry === undefined) return;
    row.dataset['cid'] = String(entry.cid);
    row.dataset['transport'] = entry.transport;
    if (entry.blocked) row.lastElementChild?.classList.add('blocked');
  });
}

function connectionRow(c: ConnzEntry): string[] {
  const address = c.ip.includes(':') ? `[${c.ip}]:${c.port}` : `${c.ip}:${c.port}`;
  return [
    c.worker === undefined ? String(c.cid) : `${c.worker}/${c.cid}`,
    transportName(c.transport),
    address,
    c.uptime,
    integer(c.chunks),
    integer(c.symbols),
    integer(c.symbols_since_answer),
    integer(c.pending_bytes),
    c.blocked ? 'blocked' : 'reading',
  ];
}

/** Replaces a table's rows, every cell set as text; the `textColumns` are aligned as text, the others as numbers. */
function fillTable(id: string, rows: readonly (readonly string[])[], textColumns: readonly number[] = [], decorate?: (row: HTMLTableRowElement, index: number) => void): void {
  const body = element(id).querySelector('tbody');
  if (body === null) return;
  body.replaceChildren(
    ...rows.map((cells, index) => {
      const row = document.createElement('tr');
      for (const [i, cell] of cells.entries()) {
        const td = document.createElement('td');
        if (textColumns.includes(i)) td.className = 'text';
        td.textContent = cell;
        row.append(td);
      }
      decorate?.(row, index);
      return row;
    }),
  );
}

// ---- connections, polled -------------------------------------------------------------------

let connzTimer: number | undefined;

async function pollConnections(): Promise<void> {
  const sort = (element('connections-sort') as HTMLSelectElement).value;
  try {
    const response = await fetch(`/connz?limit=${CONNZ_LIMIT}&sort=${encodeURIComponent(sort)}`, { cache: 'no-store' });
    if (response.ok) drawConnections((await response.json()) as Connz);
  } catch {
    // The server is away: the status line says so, and the next poll tries again.
  }
}

let tableInSight = true;

/** Polls while the tab is shown and the connections table is on screen. */
function updatePolling(): void {
  if (!document.hidden && tableInSight) {
    if (connzTimer === undefined) startPolling();
  } else {
    stopPolling();
  }
}

function startPolling(): void {
  stopPolling();
  void pollConnections();
  connzTimer = window.setInterval(() => void pollConnections(), CONNZ_EVERY_MS);
}

function stopPolling(): void {
  if (connzTimer !== undefined) window.clearInterval(connzTimer);
  connzTimer = undefined;
}

// ---- status --------------------------------------------------------------------------------

type State = 'connecting' | 'live' | 'stale' | 'lost' | 'shutting-down';
const STATE_TEXT: Readonly<Record<State, string>> = {
  connecting: 'connecting…',
  live: 'live',
  stale: 'no figures for a few seconds…',
  lost: 'connection lost, reconnecting…',
  'shutting-down': 'shutting down',
};

function setStatus(state: State): void {
  const status = element('status');
  if (status.dataset['state'] === state) return;
  status.dataset['state'] = state;
  status.textContent = STATE_TEXT[state];
}

// ---- formatting ----------------------------------------------------------------------------

const integers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function integer(value: number): string {
  return integers.format(value);
}

function rate(value: number): string {
  return value > 0 && value < 10 ? value.toFixed(1) : integer(value);
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : integer(value);
}

function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(bytes < 100 * 1048576 ? 1 : 0);
}

/** Axis and legend numbers: 1.2k, 3.4M. */
function compact(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(0)}k`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return abs >= 10 || value === 0 ? value.toFixed(0) : value.toFixed(abs >= 1 ? 1 : 2);
}

/** A time axis tick: the time of day, to the second. */
function clock(seconds: number): string {
  const time = new Date(seconds * 1000);
  return [time.getHours(), time.getMinutes(), time.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function transportName(kind: string): string {
  return TRANSPORT_NAMES[kind] ?? kind;
}

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

function text(id: string, value: string): void {
  element(id).textContent = value;
}

// ---- start ---------------------------------------------------------------------------------

function start(): void {
  const events = new EventSource(`/events?backlog=${POINTS}`);
  events.addEventListener('message', (event: MessageEvent<string>) => received(JSON.parse(event.data) as Figures));
  events.addEventListener('open', () => setStatus('live'));
  // The browser reconnects by itself, asking for what it missed (Last-Event-ID).
  events.addEventListener('error', () => setStatus('lost'));
  window.setInterval(() => {
    if (lastArrival > 0 && Date.now() - lastArrival > STALE_AFTER_MS && element('status').dataset['state'] === 'live') setStatus('stale');
  }, 1_000);
  element('connections-sort').addEventListener('change', () => void pollConnections());
  document.addEventListener('visibilitychange', updatePolling);
  new IntersectionObserver((entries) => {
    tableInSight = entries.some((entry) => entry.isIntersecting);
    updatePolling();
  }).observe(element('connections'));
  updatePolling();
}

start();
