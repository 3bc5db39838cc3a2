import { maskCpf } from '../log/mask.ts';
import { normalisePhone } from '../people/phone.ts';

/**
 * Personal data as the admin API and the command line show it: enough for an operator to tell
 * records apart and recognise a person they were asked about, never enough to read a dossier.
 * (Logs mask harder: see src/log/mask.ts.)
 */

export { maskCpf };

/** `ana.lima@example.com` → `a***@example.com` */
export function maskEmailForAdmin(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  return `${email[0]}***@${email.slice(at + 1)}`;
}

/** `(11) 98765-4321` → `+55 11 9****-4321`; a landline `+55 11 ****-4321`. */
export function maskPhoneForAdmin(phone: string): string {
  const national = normalisePhone(phone)?.national;
  if (national === undefined) {
    const digits = phone.replace(/\D/g, '');
    return digits.length < 8 ? '***' : `****-${digits.slice(-4)}`;
  }
  const ddd = national.slice(0, 2);
  const mobile = national.length === 11 ? national[2] : '';
  return `+55 ${ddd} ${mobile}****-${national.slice(-4)}`;
}

/** `Ana Souza Lima` → `Ana S. L.`: the first name and initials. */
export function maskNameForAdmin(name: string): string {
  const [first, ...rest] = name.trim().split(/\s+/).filter(Boolean);
  if (first === undefined) return '';
  return [first, ...rest.map((part) => `${part[0]!.toUpperCase()}.`)].join(' ');
}

const CPF_TEXT = /\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b/g;
const EMAIL_TEXT = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
// An opening parenthesis belongs to the number it starts: `(11) 98765-4321`.
const PHONE_TEXT = /\+?\(?\d[\d .()/-]{6,}\d/g;

/** Free text that may quote a contact (a lead's description): e-mails, CPFs and phones masked. */
export function maskFreeText(text: string): string {
  return text
    .replace(EMAIL_TEXT, (email) => maskEmailForAdmin(email))
    .replace(CPF_TEXT, (cpf) => maskCpf(cpf))
    .replace(PHONE_TEXT, (digits) =>
      digits.replace(/\D/g, '').length >= 8 ? maskPhoneForAdmin(digits) : digits,
    );
}

type Masker = (value: string) => string;

/** Field names that say what a value is, in the payloads C2S sends (English and Portuguese). */
const FIELD_MASKS: ReadonlyArray<readonly [RegExp, Masker]> = [
  [/cpf|cnpj|document|^rg$/i, (value) => maskCpf(value)],
  [/e-?mail/i, maskEmailForAdmin],
  [/phone|fone|celular|mobile|whats/i, maskPhoneForAdmin],
  [/name|nome/i, maskNameForAdmin],
];

/**
 * A webhook payload with its personal data masked: values under a field that names a contact
 * are masked as that kind, any other text has its e-mails, CPFs and phones masked. Keys, ids,
 * times and flags are kept, so the operator sees the payload's shape.
 */
export function maskPayload(payload: unknown): unknown {
  return walk(payload, undefined, 0);
}

const MAX_DEPTH = 64;

/** Keys whose values are ids (`id`, `lead_id`, `sellerId`): kept, a digit run in one is no phone. */
const ID_KEY = /^id$|_id$|[a-z]Id$/;
/** Values that are ids or times on their own, never contacts: kept when no field says otherwise. */
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_TIME_TEXT = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

function keptAsIs(text: string): boolean {
  return UUID_TEXT.test(text) || DATE_TIME_TEXT.test(text);
}

function walk(value: unknown, masker: Masker | undefined, depth: number): unknown {
  if (depth > MAX_DEPTH) return '…';
  if (typeof value === 'string')
    return masker ? masker(value) : keptAsIs(value) ? value : maskFreeText(value);
  // A number under a contact field (a phone sent as a number) is masked as text.
  if (typeof value === 'number') return masker ? masker(String(value)) : value;
  if (Array.isArray(value)) return value.map((item) => walk(item, masker, depth + 1));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => {
        const field = FIELD_MASKS.find(([pattern]) => pattern.test(key))?.[1];
        if (
          field === undefined &&
          ID_KEY.test(key) &&
          (typeof child === 'string' || typeof child === 'number')
        )
          return [key, child];
        return [key, walk(child, field ?? masker, depth + 1)];
      }),
    );
  }
  return value;
}
