import { Clock } from './interfaces/clock.interface';

/** The default clock: the server's UTC time. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

/**
 * A clock that only moves when told to. Meant for tests of applications built on nestjs-durin.
 *
 * @example
 * const clock = new ManualClock();
 * Test.createTestingModule({ imports: [AppModule] }).overrideProvider(DURIN_CLOCK).useValue(clock);
 * clock.advance(10 * 60 * 60 * 1000); // 10 hours
 */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | Date = Date.now()) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  /** Moves the clock forward (or back, with a negative number) by milliseconds. */
  advance(milliseconds: number): void {
    this.current += milliseconds;
  }

  set(time: number | Date): void {
    this.current = typeof time === 'number' ? time : time.getTime();
  }
}
