/**
 * Cron: the grammar both sides accept, the words for it, and the next runs
 * exactly as Airflow's `CronTriggerTimetable` fires them.
 *
 * `cron-parser` and `cronstrue` are loaded on first use (`await import`), so
 * they cost nothing until the schedule dialog shows a preview.
 */

/** Airflow's presets that a spec may use, as the 5-field cron they stand for. */
export const PRESETS: { readonly [preset: string]: string } = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *'
};

const MONTHS: { [name: string]: number } = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12
};
const DAYS: { [name: string]: number } = {
  SUN: 0,
  MON: 1,
  TUE: 2,
  WED: 3,
  THU: 4,
  FRI: 5,
  SAT: 6
};

interface IField {
  name: string;
  low: number;
  high: number;
  names: { [name: string]: number };
}

const FIELDS: IField[] = [
  { name: 'minute', low: 0, high: 59, names: {} },
  { name: 'hour', low: 0, high: 23, names: {} },
  { name: 'day of month', low: 1, high: 31, names: {} },
  { name: 'month', low: 1, high: 12, names: MONTHS },
  { name: 'day of week', low: 0, high: 7, names: DAYS }
];

/** A cron expression the server would refuse; the message says why. */
export class CronError extends Error {}

function isDigits(text: string): boolean {
  return /^[0-9]+$/.test(text);
}

function fieldValue(text: string, f: IField): number {
  const named = f.names[text.toUpperCase()];
  if (named !== undefined) {
    return named;
  }
  if (!isDigits(text)) {
    throw new CronError(
      `${f.name}: '${text}' is not a number${Object.keys(f.names).length ? ' or a name' : ''}`
    );
  }
  const value = parseInt(text, 10);
  if (value < f.low || value > f.high) {
    throw new CronError(`${f.name}: ${value} is outside ${f.low}-${f.high}`);
  }
  return value;
}

function parseField(part: string, f: IField): Set<number> {
  const values = new Set<number>();
  for (const item of part.split(',')) {
    if (!item) {
      throw new CronError(`${f.name}: empty list item in '${part}'`);
    }
    const slash = item.indexOf('/');
    const range = slash < 0 ? item : item.slice(0, slash);
    const stepText = slash < 0 ? '' : item.slice(slash + 1);
    let step = 1;
    if (slash >= 0) {
      if (!isDigits(stepText) || parseInt(stepText, 10) === 0) {
        throw new CronError(
          `${f.name}: step '${stepText}' must be a positive number`
        );
      }
      step = parseInt(stepText, 10);
    }
    let start: number;
    let end: number;
    if (range === '*') {
      start = f.low;
      end = f.high;
    } else {
      const dash = range.indexOf('-');
      const first = dash < 0 ? range : range.slice(0, dash);
      start = fieldValue(first, f);
      end =
        dash >= 0
          ? fieldValue(range.slice(dash + 1), f)
          : slash >= 0
            ? f.high
            : start;
      if (end < start) {
        throw new CronError(`${f.name}: range '${range}' runs backwards`);
      }
    }
    for (let v = start; v <= end; v += step) {
      values.add(v);
    }
  }
  return values;
}

function monthDays(month: number): number {
  return month === 2 ? 29 : new Date(Date.UTC(2001, month, 0)).getUTCDate();
}

/**
 * Accept 5-field cron or one of {@link PRESETS}, as the server's
 * `check_cron` does; return the 5-field form or throw {@link CronError}.
 *
 * Only what Airflow and this preview read the same way: no seconds, no
 * `? L W H #`, ranges checked per field.
 */
export function checkCron(expr: string): string {
  const text = expr.trim();
  if (text.startsWith('@')) {
    const cron = PRESETS[text];
    if (cron === undefined) {
      const known = Object.keys(PRESETS).filter(p => p !== '@annually');
      throw new CronError(
        `unknown preset '${text}'; use one of ${known.join(', ')}`
      );
    }
    return cron;
  }
  const parts = text.split(/\s+/).filter(p => p.length > 0);
  if (parts.length !== 5) {
    throw new CronError(
      `needs 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`
    );
  }
  const sets = parts.map((part, i) => parseField(part, FIELDS[i]));
  const dom = sets[2];
  const months = sets[3];
  if (parts[4] === '*' && parts[2] !== '*') {
    const longest = Math.max(...[...months].map(monthDays));
    if (Math.min(...dom) > longest) {
      throw new CronError(
        'the day of month never occurs in the chosen months, so it would never run'
      );
    }
  }
  return parts.join(' ');
}

// ---------------------------------------------------------------------------
// Time zones without a library: offsets from the browser's own tz database.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit'
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Milliseconds to add to a UTC instant to get the wall time in `timeZone`. */
export function zoneOffset(utcMs: number, timeZone: string): number {
  const parts: { [type: string]: number } = {};
  for (const p of formatter(timeZone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') {
      parts[p.type] = parseInt(p.value, 10);
    }
  }
  const wall = Date.UTC(
    parts.year,
    parts.month - 1,
    parts.day,
    parts.hour % 24,
    parts.minute,
    parts.second
  );
  return wall - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/** The wall time (as a UTC-based millisecond count) of an instant. */
export function utcToWall(utcMs: number, timeZone: string): number {
  return utcMs + zoneOffset(utcMs, timeZone);
}

const DAY_MS = 86400000;

/**
 * The instant of a wall time, as Airflow's `make_aware` places it: an
 * ambiguous time (clocks going back) is its second occurrence; a time that
 * does not exist (clocks going forward) moves forward by the gap, so 02:30
 * on a spring-forward night is 03:30 in the new offset.
 */
export function wallToUtc(wallMs: number, timeZone: string): number {
  const before = zoneOffset(wallMs - DAY_MS, timeZone);
  const after = zoneOffset(wallMs + DAY_MS, timeZone);
  const candidates = [wallMs - before, wallMs - after].filter(
    utc => utcToWall(utc, timeZone) === wallMs
  );
  if (candidates.length > 0) {
    return Math.max(...candidates);
  }
  return wallMs - before;
}

/** Parse `YYYY-MM-DD[THH:MM[:SS]]` as a wall time (UTC-based ms), or NaN. */
export function parseWallTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(
    text
  );
  if (!m) {
    return NaN;
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(v => (v ? parseInt(v, 10) : 0));
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo - 1 ||
    back.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    return NaN;
  }
  return ms;
}

/** `2026-03-29T03:30:00+02:00`: an instant as a wall time with its offset. */
export function formatLocal(utcMs: number, timeZone: string): string {
  const offset = zoneOffset(utcMs, timeZone);
  const wall = new Date(utcMs + offset).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const minutes = Math.abs(offset) / 60000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${wall}${sign}${hh}:${mm}`;
}

/** `2026-03-29T01:30:00Z`. */
export function formatUtc(utcMs: number): string {
  return new Date(utcMs).toISOString().slice(0, 19) + 'Z';
}

// ---------------------------------------------------------------------------
// The next runs.

/** One upcoming run. */
export interface IUpcomingRun {
  /** `2026-03-29T01:30:00Z` */
  utc: string;
  /** `2026-03-29T03:30:00+02:00`, in the schedule's time zone. */
  local: string;
}

/**
 * Next runs of a cron schedule, computed like Airflow's
 * `CronTriggerTimetable` (with catch-up, the first run is the first tick at
 * or after `from`).
 *
 * Ticks are found by `cron-parser` on naive wall times (in UTC, where no
 * clock ever jumps); the time zone is applied as Airflow does: a schedule
 * that fires every hour advances by elapsed time (so the repeated hour of a
 * fall-back night runs twice and the skipped one is skipped), any other
 * schedule places each wall time with {@link wallToUtc}.
 *
 * @param expr - 5-field cron or preset (checked with {@link checkCron})
 * @param timeZone - IANA time zone
 * @param fromUtc - the earliest instant (ms), e.g. the start date or now
 * @param count - how many runs
 */
export async function nextRuns(
  expr: string,
  timeZone: string,
  fromUtc: number,
  count: number
): Promise<IUpcomingRun[]> {
  const cron = checkCron(expr);
  const { CronExpressionParser } = await import('cron-parser');
  const everyHour =
    parseField(cron.split(' ')[1], FIELDS[1]).size === FIELDS[1].high + 1;

  const naiveNext = (wall: number): number =>
    CronExpressionParser.parse(cron, { currentDate: new Date(wall), tz: 'UTC' })
      .next()
      .getTime();
  const naivePrev = (wall: number): number =>
    CronExpressionParser.parse(cron, { currentDate: new Date(wall), tz: 'UTC' })
      .prev()
      .getTime();

  const getNext = (current: number): number => {
    const naive = utcToWall(current, timeZone);
    const scheduled = naiveNext(naive);
    return everyHour
      ? current + (scheduled - naive)
      : wallToUtc(scheduled, timeZone);
  };
  const getPrev = (current: number): number => {
    const naive = utcToWall(current, timeZone);
    const scheduled = naivePrev(naive);
    return everyHour
      ? current - (naive - scheduled)
      : wallToUtc(scheduled, timeZone);
  };

  const runs: IUpcomingRun[] = [];
  let next = getNext(fromUtc);
  if (getPrev(next) === fromUtc) {
    next = fromUtc;
  }
  while (runs.length < count) {
    runs.push({ utc: formatUtc(next), local: formatLocal(next, timeZone) });
    next = getNext(next);
  }
  return runs;
}

/**
 * The schedule in words ("At 06:00 AM, Monday through Friday"), in the
 * user's language when cronstrue has it.
 */
export async function describeCron(
  expr: string,
  locale = 'en'
): Promise<string> {
  const cron = checkCron(expr);
  const cronstrue = (await import('cronstrue')).default;
  return cronstrue.toString(cron, {
    locale,
    use24HourTimeFormat: true,
    verbose: false,
    throwExceptionOnParseError: true
  });
}

/** Presets offered in the dialog: a label and the cron it writes. */
export const SCHEDULE_PRESETS: { label: string; cron: string }[] = [
  { label: 'Every hour', cron: '@hourly' },
  { label: 'Every day at midnight', cron: '@daily' },
  { label: 'Every weekday at 06:00', cron: '0 6 * * 1-5' },
  { label: 'Every Sunday at midnight', cron: '@weekly' },
  { label: 'First of the month', cron: '@monthly' }
];
