// Waiting in tests for something another part does in its own time (a forwarder, a child process, a server).

/** Asks `check` every `everyMs` until it holds; throws naming `what` once `timeoutMs` has passed. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
