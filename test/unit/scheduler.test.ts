import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it, mock } from 'node:test';
import fc from 'fast-check';
import { Scheduler, type Slot } from '../../src/server/scheduler.js';

/** As in scheduler.ts: slots due within this much of the earliest fire with it, in one wake-up. */
const BATCH_MS = 0.5;
const SLOTS = 5;

/** Multiples of 1/4 ms: exact in floating point, so the model and the scheduler agree on every due time. */
const quarters = (maxMs: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: maxMs * 4 }).map((n) => n / 4);
const slotId = fc.integer({ min: 0, max: SLOTS - 1 });

/** What a slot does while it fires. */
type Reaction =
  | { readonly kind: 'reschedule-self'; readonly delayMs: number }
  | { readonly kind: 'schedule'; readonly slot: number; readonly delayMs: number }
  | { readonly kind: 'cancel'; readonly slot: number };

type Step =
  | { readonly kind: 'schedule'; readonly slot: number; readonly delayMs: number }
  | { readonly kind: 'cancel'; readonly slot: number }
  /** Time passes; a wait that spans several due times is a timer that fires late. */
  | { readonly kind: 'advance'; readonly ms: number }
  /**
   * The clock is moved to the earliest due time, and the timer fires. With `earlyMs` the clock
   * then reads that much less: Node fires timers on its own millisecond clock, so a wake-up can
   * come a little before the due time by performance.now().
   */
  | { readonly kind: 'to-next'; readonly earlyMs: number }
  /**
   * Time passes inside a turn of the loop, which fires what has come due (fireDue) between its
   * shares; the timers phase comes after it.
   */
  | { readonly kind: 'turn'; readonly ms: number };

const reaction: fc.Arbitrary<Reaction> = fc.oneof(
  fc.record({ kind: fc.constant('reschedule-self' as const), delayMs: quarters(20) }),
  fc.record({ kind: fc.constant('schedule' as const), slot: slotId, delayMs: quarters(20) }),
  fc.record({ kind: fc.constant('cancel' as const), slot: slotId }),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('schedule' as const), slot: slotId, delayMs: quarters(30) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), slot: slotId }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: quarters(15) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('to-next' as const), earlyMs: fc.constantFrom(0, 0, 0.25, 0.5, 0.75) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('turn' as const), ms: quarters(15) }) },
);

const plan = fc.record({
  /** Per slot, what it does on its first, second, … firing (nothing once the list runs out). */
  reactions: fc.array(fc.array(reaction, { maxLength: 5 }), { minLength: SLOTS, maxLength: SLOTS }),
  steps: fc.array(step, { maxLength: 40 }),
});

interface Firing {
  readonly slot: number;
  readonly due: number;
  readonly at: number;
}

/**
 * Plays `steps` on a scheduler with a hand-driven clock (and node:test's mock setTimeout), and
 * beside it on a model: a map of slot to due time. Every firing is checked as it happens, and
 * after every step nothing may be overdue.
 */
function play(reactions: readonly (readonly Reaction[])[], steps: readonly Step[]): Firing[] {
  let now = 0;
  const scheduler = new Scheduler(() => now);
  const model = new Map<number, number>();
  const firings: Firing[] = [];
  /** How often each slot has fired: the index of its next reaction. */
  const fired = new Map<number, number>();

  const schedule = (id: number, delayMs: number): void => {
    scheduler.schedule(slots[id] as Slot, delayMs);
    model.set(id, now + delayMs);
  };
  const cancel = (id: number): void => {
    scheduler.cancel(slots[id] as Slot);
    model.delete(id);
  };
  const fire = (id: number): void => {
    const due = model.get(id);
    assert.ok(due !== undefined, `slot ${id} fired while not scheduled (at ${now})`);
    assert.ok(due <= now + BATCH_MS, `slot ${id} fired at ${now}, more than ${BATCH_MS} ms before it was due (${due})`);
    for (const [other, otherDue] of model) {
      assert.ok(otherDue >= due, `slot ${id} (due ${due}) fired before slot ${other} (due ${otherDue})`);
    }
    model.delete(id);
    firings.push({ slot: id, due, at: now });
    const count = fired.get(id) ?? 0;
    fired.set(id, count + 1);
    const next = reactions[id]?.[count];
    if (next === undefined) return;
    if (next.kind === 'reschedule-self') schedule(id, next.delayMs);
    else if (next.kind === 'schedule') schedule(next.slot, next.delayMs);
    else cancel(next.slot);
  };
  const slots: Slot[] = Array.from({ length: SLOTS }, (_, id) => ({ due: 0, index: -1, fire: () => fire(id) }));

  const advance = (ms: number, earlyMs = 0): void => {
    // A clock that lags never runs backwards.
    now = Math.max(now, now + ms - earlyMs);
    mock.timers.tick(ms);
  };
  const check = (after: string): void => {
    for (const [id, due] of model) assert.ok(due > now, `after ${after}: slot ${id} was due at ${due} and has not fired (now ${now})`);
    slots.forEach((slot, id) => {
      assert.equal(slot.index !== -1, model.has(id), `after ${after}: slot ${id} is ${slot.index === -1 ? 'not ' : ''}in the heap`);
      if (model.has(id)) assert.equal(slot.due, model.get(id), `after ${after}: slot ${id}'s due time`);
    });
  };
  const earliest = (): number | undefined => (model.size === 0 ? undefined : Math.min(...model.values()));

  steps.forEach((s, n) => {
    const before = firings.length;
    switch (s.kind) {
      case 'schedule':
        schedule(s.slot, s.delayMs);
        advance(0);
        break;
      case 'cancel':
        cancel(s.slot);
        advance(0);
        break;
      case 'advance':
        advance(s.ms);
        break;
      case 'turn': {
        now += s.ms;
        scheduler.fireDue();
        // Only what is due by now, not what the timer would batch with it; that nothing due is
        // left unfired is checked after the step, like every other.
        for (const firing of firings.slice(before)) assert.ok(firing.due <= now, `step ${n}: a turn fires nothing before it is due`);
        mock.timers.tick(s.ms);
        break;
      }
      case 'to-next': {
        const due = earliest();
        if (due === undefined) break;
        advance(due - now, s.earlyMs);
        // On time, the earliest slot fires exactly at its due time.
        if (s.earlyMs === 0) assert.deepEqual(firings[before], { slot: firings[before]?.slot, due, at: due }, `step ${n}: the earliest slot fires when due`);
        break;
      }
    }
    check(`step ${n} (${JSON.stringify(s)})`);
  });

  // Whatever is left fires, in order, and then nothing more.
  for (let due = earliest(); due !== undefined; due = earliest()) {
    advance(Math.max(0, due - now));
    check('the drain');
  }
  const total = firings.length;
  advance(1_000);
  assert.equal(firings.length, total, 'nothing fires once nothing is scheduled');
  return firings;
}

void describe('Scheduler', () => {
  void it('fires every slot in due order, when due, however slots are scheduled, rescheduled and cancelled, also while firing', () => {
    fc.assert(
      fc.property(plan, ({ reactions, steps }) => {
        mock.timers.enable({ apis: ['setTimeout'] });
        try {
          play(reactions, steps);
        } finally {
          mock.timers.reset();
        }
      }),
      { numRuns: 400 },
    );
  });

  void it('fires a slot that reschedules itself while firing at its new time, and one that another cancels not at all', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const firings = play(
        [[{ kind: 'reschedule-self', delayMs: 10 }, { kind: 'cancel', slot: 1 }], [], [], [], []],
        [
          { kind: 'schedule', slot: 0, delayMs: 5 },
          { kind: 'schedule', slot: 1, delayMs: 30 },
          { kind: 'to-next', earlyMs: 0 },
          { kind: 'to-next', earlyMs: 0 },
        ],
      );
      assert.deepEqual(firings, [
        { slot: 0, due: 5, at: 5 },
        { slot: 0, due: 15, at: 15 },
      ]);
    } finally {
      mock.timers.reset();
    }
  });

  void it('on the real clock and real timers, fires slots in due order', async () => {
    const scheduler = new Scheduler();
    const order: number[] = [];
    const dues = new Map<number, number>();
    const all = Promise.all(
      [6, 1, 3].map(
        (delayMs) =>
          new Promise<void>((resolve) => {
            const slot = {
              due: 0,
              index: -1,
              fire: (fired: { due: number }) => {
                assert.ok(performance.now() >= fired.due - BATCH_MS, 'not before it is due');
                order.push(delayMs);
                resolve();
              },
            };
            scheduler.schedule(slot, delayMs);
            dues.set(delayMs, slot.due);
          }),
      ),
    );
    await all;
    // By due time: 1, 3, 6, unless the machine stalled for milliseconds between the schedule calls.
    const byDue = [...dues].sort(([, a], [, b]) => a - b).map(([delayMs]) => delayMs);
    assert.deepEqual(order, byDue);
  });
});
