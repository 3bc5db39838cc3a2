import { randomFillSync } from 'node:crypto';

/** Random bytes drawn 256 ids at a time: one system call, not one per id. */
const pool = Buffer.alloc(16 * 256);
let offset = pool.length;

/**
 * A UUID of version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then 74 random bits.
 * New events get one instead of a random (version 4) UUID, so that their primary key, and the
 * checkpoint key that starts with it, grow at one end: a batch of inserts touches the index's
 * last pages instead of a random page each. The id still reads as any UUID, and tells no more
 * than the event's own received time.
 */
export function timeOrderedId(now = Date.now()): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // the RFC's variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
