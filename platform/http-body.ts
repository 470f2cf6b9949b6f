// http-body.ts reads the body of a fetch() Response with a byte bound: an answer from another
// server (a witness, a log, a tile server) is attacker-influenced, so it is never read whole before
// its size is known to be acceptable.

/**
 * readBodyBounded returns the body of `res`, or undefined once it is known to pass `maxBytes` (by
 * its Content-Length or while reading), cancelling the rest. A stream error cancels the body and
 * is rethrown.
 */
export async function readBodyBounded(res: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  const cancel = () => res.body?.cancel().catch(() => {});
  if (Number(res.headers.get('content-length') ?? '0') > maxBytes) {
    await cancel();
    return undefined;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        await cancel();
        return undefined;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    await cancel();
    throw err;
  }
  return Buffer.concat(chunks);
}
