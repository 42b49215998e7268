import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DeliveryCounter } from '../../src/server/delivery-counter.js';

void describe('DeliveryCounter', () => {
  void it('reports 0 before anything is delivered', () => {
    assert.equal(new DeliveryCounter().take(), 0);
  });

  void it('reports the symbols delivered since the last answer, then starts from zero', () => {
    const counter = new DeliveryCounter();
    counter.add(5);
    counter.add(3);
    assert.equal(counter.take(), 8);
    assert.equal(counter.take(), 0);
    counter.add(2);
    assert.equal(counter.take(), 2);
  });

  void it('keeps the total over the whole connection across answers', () => {
    const counter = new DeliveryCounter();
    counter.add(5);
    counter.take();
    counter.add(4);
    assert.equal(counter.total, 9);
    counter.take();
    assert.equal(counter.total, 9);
  });

  void it('splits any sequence of chunks and answers so that the answers add up to the total', () => {
    const step = fc.oneof(fc.integer({ min: 0, max: 1 << 20 }), fc.constant('take' as const));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const counter = new DeliveryCounter();
        let sinceLast = 0;
        let answered = 0;
        for (const s of steps) {
          if (s === 'take') {
            const figure = counter.take();
            assert.equal(figure, sinceLast);
            answered += figure;
            sinceLast = 0;
          } else {
            counter.add(s);
            sinceLast += s;
          }
        }
        assert.equal(counter.total, answered + counter.take());
      }),
      { numRuns: 300 },
    );
  });
});
