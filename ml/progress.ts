/**
 * Progress lines with a rate and an ETA, for the ml tools' long replays (`formatProgress`, `progressLogger`).
 */

/** `1234567` → `1,234,567`; a fraction keeps its digits (`0.25`). */
function grouped(n: number): string {
  const [whole, fraction] = String(n).split('.');
  const withCommas = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? withCommas : `${withCommas}.${fraction}`;
}

/** Seconds as `13 s`, `2 min 05 s` or `1 h 04 min` (rounded up: 0 only when nothing is left). */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(Math.max(0, seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const minutes = Math.ceil(s / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * One progress line: `  300,000 / 577,328 rows (52%), 21,400 rows/s, ETA 13 s`, or with a phase
 * `  history: 300,000 / ...` (a loop whose parts run at different speeds reports each part on its own, so that
 * each ETA holds). The rate (three significant digits) and the ETA are over the phase so far; before any row or
 * time has passed there are none. The percentage never reads 100% before the end.
 */
export function formatProgress(done: number, total: number, elapsedSeconds: number, phase?: string): string {
  const share = total > 0 ? (done >= total ? 100 : Math.min(99, Math.round((100 * done) / total))) : 100;
  let line = `  ${phase ? `${phase}: ` : ''}${grouped(done)} / ${grouped(total)} rows (${share}%)`;
  if (done > 0 && elapsedSeconds > 0) {
    const rate = done / elapsedSeconds;
    line += `, ${grouped(Number(rate.toPrecision(3)))} rows/s, ETA ${formatDuration(Math.max(0, total - done) / rate)}`;
  }
  return line;
}

export interface ProgressOptions {
  /** A line at least every this many rows (default 100,000). */
  readonly everyRows?: number;
  /** … or when this many seconds have passed since the last line (default 5). */
  readonly everySeconds?: number;
  /** Names the part of the run (formatProgress). */
  readonly phase?: string;
  /** The clock in ms (default Date.now). */
  readonly now?: () => number;
}

/**
 * A progress reporter for a loop over `total` rows: call it with the rows done so far, after each row. It logs a
 * `formatProgress` line every `everyRows` rows or `everySeconds` seconds, whichever comes first, timed from its
 * creation, and nothing once the loop is done (the caller says that).
 */
export function progressLogger(total: number, log: (line: string) => void, options: ProgressOptions = {}): (done: number) => void {
  const { everyRows = 100_000, everySeconds = 5, phase, now = Date.now } = options;
  const started = now();
  let lastRows = 0;
  let lastTime = started;
  return (done) => {
    if (done >= total || done <= lastRows) return;
    const time = now(); // a few ns: cheap beside a row
    if (done - lastRows < everyRows && time - lastTime < everySeconds * 1000) return;
    lastRows = done;
    lastTime = time;
    log(formatProgress(done, total, (time - started) / 1000, phase));
  };
}
