/** Clock is the time source every component receives; tests pass a controllable one. */
export interface Clock {
  /** nowMs returns the current time in milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** systemClock reads the machine's clock. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** manualClock is a clock that moves only when told to (tests). */
export function manualClock(startMs: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = startMs;
  return { nowMs: () => t, advance: (ms) => { t += ms; }, set: (ms) => { t = ms; } };
}
