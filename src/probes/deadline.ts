// The probe's own deadline as a promise: racing a library call against it ends the probe on time even when the
// library keeps waiting (undici does not abort a TLS handshake in progress; a DNS query may outlive its timeout).

/** A promise that rejects with an AbortError when `signal` aborts (at once if it already has); never resolves. */
export function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    const fail = () => reject(Object.assign(new Error('the probe deadline passed'), { name: 'AbortError' }));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
