/**
 * @file A last-in-first-out list of clean-up steps (close browsers, stop servers, remove temp
 * files) that a test file runs in its `after` hook, also when a test failed or threw midway.
 */

export class Cleanup {
  /** @type {Array<() => unknown>} */
  #steps = [];

  /**
   * Registers `step` and returns `value`, so a resource is tracked the moment it exists.
   * @template T
   * @param {T} value
   * @param {(v: T) => unknown} step
   * @returns {T}
   */
  track(value, step) {
    this.#steps.push(() => step(value));
    return value;
  }

  /** Runs every step, newest first; errors are logged, never thrown. */
  async run() {
    while (this.#steps.length > 0) {
      const step = /** @type {() => unknown} */ (this.#steps.pop());
      try {
        await step();
      } catch (e) {
        console.error('cleanup step failed:', e);
      }
    }
  }
}
