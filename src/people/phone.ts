/**
 * Brazilian phone numbers as leads and providers write them (`5511987654321`, `+55 11 …`,
 * `(11) 98765-4321`, `011 …`, `0xx11 …`, with a carrier code …). Validation uses the full
 * ("max") metadata so that a number must exist in the Brazilian numbering plan, not only
 * have the right length: an 8-digit mobile without its leading 9 or DDD 00 is not callable.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export interface NormalisedPhone {
  /** `+5511987654321` */
  readonly e164: string;
  /** DDD + number, digits only, without 55 (10 or 11 digits): what Diretrix and the Work API take. */
  readonly national: string;
}

// A person's phone: toll-free, premium-rate, shared-cost (4004…) and such numbers are not.
const PERSONAL_TYPES = new Set(['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE']);

/** The number of a lead or a dossier, if it is a real-looking Brazilian number. */
export function normalisePhone(raw: string): NormalisedPhone | undefined {
  const digits = raw.replace(/\D/g, '');
  // Only the digits matter (this also reads `0xx11`); a leading + or 00 says the country code follows.
  const international = raw.trim().startsWith('+') || /^0055\d{10,11}$/.test(digits);
  const text = international ? `+${digits.replace(/^00/, '')}` : digits;
  const parsed = parsePhoneNumberFromString(text, 'BR');
  if (parsed?.country !== 'BR' || !parsed.isValid()) return undefined;
  const type = parsed.getType();
  if (type === undefined || !PERSONAL_TYPES.has(type)) return undefined;
  const national = String(parsed.nationalNumber);
  if (!/^\d{10,11}$/.test(national) || isPlaceholder(national)) return undefined;
  return { e164: String(parsed.number), national };
}

/**
 * Numbers people type when a form insists on a phone: the subscriber part (after the DDD and
 * the mobile 9) all one digit, as in `11999999999`, or `12345678`.
 */
function isPlaceholder(national: string): boolean {
  const subscriber = national.slice(2);
  const core = subscriber.length === 9 ? subscriber.slice(1) : subscriber;
  return /^(\d)\1+$/.test(subscriber) || /^(\d)\1+$/.test(core) || core === '12345678';
}

/** `11987654321` → `(11) 98765-4321`, `1134567890` → `(11) 3456-7890`; anything else as it is. */
export function formatPhone(national: string): string {
  const match = /^(\d{2})(\d{4,5})(\d{4})$/.exec(national);
  return match ? `(${match[1]}) ${match[2]}-${match[3]}` : national;
}
