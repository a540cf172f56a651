/**
 * The local platform's journals: JSON lines appended synchronously, each before its answer (the fake gateways' and
 * the sandboxes' ledgers, the local Solana ledger's, the analytics index's, the DLQ's). A crash mid-write (power
 * lost, a full disk; kill -9 cannot split a write) can leave the last line cut short: it was never answered, and is
 * passed over when read. But the next line appended would be glued to it and lost with it, so the journal's writer
 * cuts such a tail off when it opens the journal, before it appends anything.
 */
import { closeSync, existsSync, openSync, readSync, statSync, truncateSync } from 'node:fs';

/** Cuts a journal back to its last complete line (only its writer, when it opens it); true when it cut anything. */
export function repairJournal(file: string): boolean {
  if (!existsSync(file)) return false;
  const size = statSync(file).size;
  if (size === 0) return false;
  const fd = openSync(file, 'r');
  try {
    // Read backwards, a block at a time, to the last newline.
    const block = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - block.length);
      const n = readSync(fd, block, 0, end - start, start);
      const at = block.subarray(0, n).lastIndexOf(0x0a);
      if (at >= 0) {
        if (start + at + 1 === size) return false;
        // Grown since: a writer is appending now, not a crash's leftover (a journal has one writer, but be sure).
        if (statSync(file).size !== size) return false;
        truncateSync(file, start + at + 1);
        return true;
      }
      end = start;
    }
  } finally {
    closeSync(fd);
  }
  truncateSync(file, 0);
  return true;
}

/** A journal's lines that parse, in order (a line cut short by a crash was never answered: passed over). */
export function journalLines<T>(text: string): T[] {
  return text.split('\n').flatMap((line) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line) as T];
    } catch {
      return [];
    }
  });
}
