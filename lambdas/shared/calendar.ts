/**
 * Whether a date (and time) is one the calendar has: Date.UTC and Date.parse roll 2019-02-30 over to 2 March and
 * 25:00 to the next day, which would answer another question or read another row. One check for every reader of
 * dates typed by people (the /chat planner, the fraud data reader, the ML tools' --until/--from/--to).
 */
export function isCalendarTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): boolean {
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= days && hour >= 0 && hour < 24 && minute >= 0 && minute < 60 && second >= 0 && second <= 60;
}

/** A `YYYY-MM-DD` that is a day of the calendar, as its midnight UTC in epoch ms; undefined otherwise. */
export function calendarDay(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match || !isCalendarTime(Number(match[1]), Number(match[2]), Number(match[3]))) return undefined;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}
