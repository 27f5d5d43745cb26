/** Chronological age from ISO dates (yyyy-mm-dd), the way clinicians count it. */

interface YMD {
  readonly y: number;
  readonly m: number;
  readonly d: number;
}

function parseIsoDate(iso: string): YMD | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return null;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return null;
  return { y, m, d };
}

/** The birthday in a given year; a 29 February birthday falls on 28 February in common years. */
function birthdayIn(year: number, birth: YMD): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = birth.m === 2 && birth.d === 29 && !leap ? 28 : birth.d;
  return Date.UTC(year, birth.m - 1, day);
}

/**
 * Age in years with decimals at `onDate`: completed years, plus the fraction of the current
 * birthday-to-birthday year that has passed. null when a date is invalid or `onDate` precedes birth.
 */
export function ageInYears(birthDateIso: string, onDateIso: string): number | null {
  const birth = parseIsoDate(birthDateIso);
  const on = parseIsoDate(onDateIso);
  if (!birth || !on) return null;
  const onTime = Date.UTC(on.y, on.m - 1, on.d);
  if (onTime < Date.UTC(birth.y, birth.m - 1, birth.d)) return null;
  let years = on.y - birth.y;
  if (birthdayIn(on.y, birth) > onTime) years--;
  const last = birthdayIn(birth.y + years, birth);
  const next = birthdayIn(birth.y + years + 1, birth);
  return years + (onTime - last) / (next - last);
}

/** DICOM DA (yyyymmdd, or the old yyyy.mm.dd) to ISO yyyy-mm-dd; null when it is not a real date. */
export function dicomDateToIso(value: string): string | null {
  const match = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.trim());
  if (!match) return null;
  const iso = `${match[1]}-${match[2]}-${match[3]}`;
  return parseIsoDate(iso) ? iso : null;
}

/** An age as clinicians write it, "13 y 8 m" (whole months, rounded down); "—" when unknown or negative. */
export function formatYearsMonths(years: number | null | undefined): string {
  if (years === null || years === undefined || !Number.isFinite(years) || years < 0) return '—';
  let whole = Math.floor(years);
  let months = Math.floor((years - whole) * 12 + 1e-6);
  if (months >= 12) {
    whole += 1;
    months = 0;
  }
  return `${whole} y ${months} m`;
}
