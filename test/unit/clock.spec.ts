import { ManualClock, SystemClock } from '../../lib/clock';

describe('SystemClock', () => {
  it('gives the current epoch milliseconds', () => {
    const before = Date.now();
    const now = new SystemClock().now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe('ManualClock', () => {
  it('starts at the given time, as a number or a Date', () => {
    expect(new ManualClock(1_000).now()).toBe(1_000);
    expect(new ManualClock(new Date('2030-01-01T00:00:00Z')).now()).toBe(Date.UTC(2030, 0, 1));
  });

  it('starts at the current time by default', () => {
    const before = Date.now();
    const now = new ManualClock().now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('does not move by itself', async () => {
    const clock = new ManualClock(5_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(clock.now()).toBe(5_000);
  });

  it('advances forward and back by milliseconds', () => {
    const clock = new ManualClock(10_000);
    clock.advance(2_500);
    expect(clock.now()).toBe(12_500);
    clock.advance(-500);
    expect(clock.now()).toBe(12_000);
  });

  it('can be set to a number or a Date', () => {
    const clock = new ManualClock(0);
    clock.set(42);
    expect(clock.now()).toBe(42);
    clock.set(new Date(99));
    expect(clock.now()).toBe(99);
  });
});
