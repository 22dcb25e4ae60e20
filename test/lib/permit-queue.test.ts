import { describe, expect, it } from 'vitest';
import { createPermitQueue } from '../../lib/permit-queue.ts';

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('createPermitQueue', () => {
  it('grants in the order asked: a late caller cannot overtake an earlier waiter, even right after a release', async () => {
    const queue = createPermitQueue({ capacity: 1 });
    const first = await queue.acquire();
    const order: string[] = [];
    const early = queue.acquire().then((release) => (order.push('early'), release));
    first();
    // Asked in the same tick as the release, before the early waiter's promise has settled: it must queue behind it.
    const late = queue.acquire().then((release) => (order.push('late'), release));
    expect(queue.countHolders()).toBe(1);
    expect(queue.countWaiting()).toBe(1);
    (await early)();
    (await late)();
    expect(order).toEqual(['early', 'late']);
    expect(queue.heldPermits()).toBe(0);
  });

  it('keeps a small request behind a large one asked before it, though it would fit', async () => {
    const queue = createPermitQueue({ capacity: 100 });
    const first = await queue.acquire(60);
    const order: string[] = [];
    const large = queue.acquire(60).then((release) => (order.push('large'), release));
    const small = queue.acquire(10).then((release) => (order.push('small'), release));
    await settle();
    expect(order).toEqual([]);
    expect(queue.heldPermits()).toBe(60);
    first();
    // One release hands on to every waiter at the head that now fits.
    expect(queue.heldPermits()).toBe(70);
    const [releaseLarge, releaseSmall] = await Promise.all([large, small]);
    expect(order).toEqual(['large', 'small']);
    releaseLarge();
    releaseSmall();
    expect(queue.heldPermits()).toBe(0);
    expect(queue.peakPermits()).toBe(70);
  });

  it('gives permits back once however often the release is called', async () => {
    const queue = createPermitQueue({ capacity: 2 });
    const first = await queue.acquire();
    const second = await queue.acquire();
    first();
    first();
    expect(queue.heldPermits()).toBe(1);
    expect(queue.countHolders()).toBe(1);
    const third = await queue.acquire();
    // Had the second call given back again, a fourth would fit now.
    let fourthGranted = false;
    const fourth = queue.acquire().then((release) => ((fourthGranted = true), release));
    first();
    await settle();
    expect(fourthGranted).toBe(false);
    second();
    (await fourth)();
    third();
    expect(queue.heldPermits()).toBe(0);
  });

  it('admits a request larger than the whole capacity alone: once nothing is held, and nothing beside it while it holds', async () => {
    const queue = createPermitQueue({ capacity: 100 });
    const small = await queue.acquire(10);
    const order: string[] = [];
    const huge = queue.acquire(500).then((release) => (order.push('huge'), release));
    const after = queue.acquire(1).then((release) => (order.push('after'), release));
    await settle();
    expect(order).toEqual([]);
    small();
    const releaseHuge = await huge;
    await settle();
    expect(order).toEqual(['huge']);
    expect(queue.heldPermits()).toBe(500);
    releaseHuge();
    (await after)();
    expect(order).toEqual(['huge', 'after']);
    expect(queue.peakPermits()).toBe(500);
  });

  it('seizes permits already in use at once, past the capacity, and later requests wait until they are given back', async () => {
    const queue = createPermitQueue({ capacity: 10 });
    const held = await queue.acquire(4);
    const seized = queue.seize(9);
    expect(queue.heldPermits()).toBe(13);
    let granted = false;
    const next = queue.acquire(2).then((release) => ((granted = true), release));
    held();
    await settle();
    expect(granted).toBe(false);
    seized();
    seized();
    (await next)();
    expect(queue.heldPermits()).toBe(0);
    expect(queue.peakPermits()).toBe(13);
    expect(() => queue.seize(-1)).toThrow(RangeError);
  });

  it('refuses a capacity of 0 and a negative or non-finite request', async () => {
    expect(() => createPermitQueue({ capacity: 0 })).toThrow(RangeError);
    const queue = createPermitQueue({ capacity: 3 });
    await expect(queue.acquire(-1)).rejects.toThrow(RangeError);
    await expect(queue.acquire(Number.NaN)).rejects.toThrow(RangeError);
    expect(queue.countWaiting()).toBe(0);
    (await queue.acquire(0))();
  });
});
