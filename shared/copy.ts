/**
 * Prompt copy: fills `{used} {limit} {pct} {metric} {plan} {next_plan} {next_limit} {feature}
 * {date} {days}` into admin-written templates. The result is plain text for `textContent`, never HTML.
 */

export interface CopyVars {
  used?: number | null;
  limit?: number | null;
  /** Whole percent, e.g. 91 for 91%. */
  pct?: number | null;
  metric?: string | null;
  plan?: string | null;
  next_plan?: string | null;
  /** The next plan's limit of the metric: a number, or text such as "unlimited". */
  next_limit?: number | string | null;
  feature?: string | null;
  /** When a forecast reaches the limit (epoch ms), shown as a UTC day such as "Dec 12". */
  date?: number | null;
  /** Whole days until then. */
  days?: number | null;
}

const FALLBACK_LOCALE = 'en-US';

const PLACEHOLDER = /\{([a-z_]+)\}/g;

type Formats = { number: Intl.NumberFormat; percent: Intl.NumberFormat; date: Intl.DateTimeFormat };

/** Formatters per locale, kept: building an Intl formatter costs far more than formatting with it. */
const formatsByLocale = new Map<string, Formats>();
/** Locales come from user tokens: keep at most this many (the oldest goes first). */
const MAX_LOCALES = 64;

function buildFormats(locale: string): Formats {
  try {
    return {
      number: new Intl.NumberFormat(locale),
      percent: new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 }),
      date: new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' }),
    };
  } catch {
    return buildFormats(FALLBACK_LOCALE);
  }
}

function formatsFor(locale: string): Formats {
  let formats = formatsByLocale.get(locale);
  if (!formats) {
    formats = buildFormats(locale);
    if (formatsByLocale.size >= MAX_LOCALES) formatsByLocale.delete(formatsByLocale.keys().next().value!);
    formatsByLocale.set(locale, formats);
  }
  return formats;
}

/**
 * A number in `locale` (an invalid locale falls back to en-US), with the formatter kept per locale.
 * @example formatNumber(9100, 'de-DE') // '9.100'
 */
export const formatNumber = (value: number, locale: string): string => formatsFor(locale).number.format(value);

/**
 * Fills the placeholders of a copy template, numbers in the reader's locale (an invalid
 * locale falls back to en-US). Unknown placeholders and ones without a value stay as written.
 * @example renderCopy('{used} of {limit} {metric} ({pct})', { used: 9100, limit: 10000, pct: 91, metric: 'API calls' }, 'de-DE')
 * // '9.100 of 10.000 API calls (91 %)'
 */
export function renderCopy(template: string, vars: CopyVars, locale: string): string {
  let formats: ReturnType<typeof formatsFor> | undefined;
  const fmt = () => (formats ??= formatsFor(locale));
  return template.replace(PLACEHOLDER, (placeholder: string, name: string) => {
    switch (name) {
      case 'used':
      case 'limit':
      case 'days': {
        const value = vars[name];
        return typeof value === 'number' && Number.isFinite(value) ? fmt().number.format(value) : placeholder;
      }
      case 'pct': {
        const value = vars.pct;
        return typeof value === 'number' && Number.isFinite(value)
          ? fmt().percent.format(Math.floor(value) / 100)
          : placeholder;
      }
      case 'date': {
        const value = vars.date;
        return typeof value === 'number' && Number.isFinite(value) ? fmt().date.format(value) : placeholder;
      }
      case 'next_limit': {
        const value = vars.next_limit;
        if (typeof value === 'string') return value;
        return typeof value === 'number' && Number.isFinite(value) ? fmt().number.format(value) : placeholder;
      }
      case 'metric':
      case 'plan':
      case 'next_plan':
      case 'feature': {
        const value = vars[name];
        return typeof value === 'string' ? value : placeholder;
      }
      default:
        return placeholder;
    }
  });
}

/**
 * A template without the sentences that name any of `names`: the copy about the next plan,
 * for a reader on the top plan, reads as if it had never been written.
 * @example withoutSentencesNaming('All 100 used. {next_plan} includes {next_limit}.', ['next_plan']) // 'All 100 used.'
 */
export function withoutSentencesNaming(template: string, names: readonly string[]): string {
  if (!names.some((n) => template.includes(`{${n}}`))) return template;
  const sentences = template.match(/[^.!?]+(?:[.!?]+|$)\s*/g) ?? [];
  return sentences
    .filter((sentence) => !names.some((n) => sentence.includes(`{${n}}`)))
    .join('')
    .trim();
}
