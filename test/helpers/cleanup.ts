import type { TestContext } from 'node:test';

const stacks = new WeakMap<TestContext, Array<() => unknown>>();

/**
 * Registers a cleanup for the end of the test, run in reverse order of registration (node:test
 * runs `t.after` hooks first-in first-out, which would drop a database before the services
 * using it have stopped).
 */
export function defer(t: TestContext, cleanup: () => unknown): void {
  let stack = stacks.get(t);
  if (!stack) {
    const created: Array<() => unknown> = [];
    stacks.set(t, created);
    t.after(async () => {
      while (created.length > 0) await created.pop()!();
    });
    stack = created;
  }
  stack.push(cleanup);
}
