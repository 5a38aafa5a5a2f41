/**
 * A cron schedule in words, for people. Presentation only: which crons are
 * valid and when they fire is the server's answer (`JobsAPI.check`, which
 * computes the runs as Airflow does).
 *
 * `cronstrue` is loaded on first use (`await import`), so it costs nothing
 * until a schedule is shown.
 */
import { CRON_PRESETS } from '../contract';

/**
 * The schedule in words ("At 06:00, Monday through Friday"), in the user's
 * language when cronstrue has it; `""` when cronstrue cannot read it (the
 * server's check says what is wrong).
 *
 * @param expr - 5-field cron or one of the contract's presets (`@daily`)
 */
export async function describeCron(
  expr: string,
  locale = 'en'
): Promise<string> {
  const text = expr.trim();
  const cron = CRON_PRESETS[text] ?? text;
  const cronstrue = (await import('cronstrue')).default;
  try {
    return cronstrue.toString(cron, {
      locale,
      use24HourTimeFormat: true,
      verbose: false,
      throwExceptionOnParseError: true
    });
  } catch {
    return '';
  }
}
