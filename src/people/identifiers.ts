/**
 * The personal identifiers (CPF, phone, e-mail) a piece of input names, each normalised with the
 * functions the workflow uses, so that erasure, suppression and the subject report match a person
 * exactly: `11987654321` is named by `+55 (11) 98765-4321` but not by `5511987654321` glued to
 * other digits, and `ana@x.com` is not named by `joana@x.com`.
 */
import { cpfsInText } from './cpf-extraction.ts';
import { normaliseCpf } from './cpf.ts';
import { normaliseEmail } from './email.ts';
import { normalisePhone } from './phone.ts';

export interface Identifiers {
  /** 11 digits. */
  readonly cpfs: ReadonlySet<string>;
  /** National numbers (DDD + number). */
  readonly phones: ReadonlySet<string>;
  /** Lowercase. */
  readonly emails: ReadonlySet<string>;
}

export type IdentifierKind = 'cpf' | 'phone' | 'email';

// An address ends at whitespace, quotes, brackets and list separators; a trailing `.` is the sentence's.
const EMAIL_TOKEN = /[^\s<>()[\]{}"',;:]+@[^\s<>()[\]{}"',;:]+/g;
// A written phone: digits with the separators people put between them, 8 digits at least.
const PHONE_TOKEN = /\+?\d[\d\s().-]{6,}\d/g;

/**
 * Every CPF, phone and e-mail in `value`: a string is read whole and as text with identifiers
 * inside; objects and arrays are walked (keys are not identifiers). A number is read as a phone or
 * a CPF (which loses its leading zeros as a number).
 */
export function identifiersIn(value: unknown): Identifiers {
  const found = { cpfs: new Set<string>(), phones: new Set<string>(), emails: new Set<string>() };
  collect(value, found, 0);
  return found;
}

type Found = { cpfs: Set<string>; phones: Set<string>; emails: Set<string> };

function collect(value: unknown, found: Found, depth: number): void {
  if (depth > 32) return;
  if (typeof value === 'string') return fromText(value, found);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) {
    const digits = String(value);
    addPhone(digits, found);
    const cpf = normaliseCpf(digits.padStart(11, '0'));
    if (cpf) found.cpfs.add(cpf);
    return;
  }
  if (Array.isArray(value)) for (const item of value) collect(item, found, depth + 1);
  else if (typeof value === 'object' && value !== null)
    for (const item of Object.values(value)) collect(item, found, depth + 1);
}

function fromText(text: string, found: Found): void {
  if (text.length === 0) return;
  const whole = normaliseCpf(text.trim());
  if (whole) found.cpfs.add(whole);
  for (const cpf of cpfsInText(text)) found.cpfs.add(cpf);
  addPhone(text, found);
  for (const [token] of text.matchAll(PHONE_TOKEN)) addPhone(token, found);
  if (text.includes('@'))
    for (const [token] of text.matchAll(EMAIL_TOKEN)) {
      const email = normaliseEmail(token.replace(/\.+$/, ''));
      if (email) found.emails.add(email);
    }
}

function addPhone(text: string, found: Found): void {
  // Only text that could be a number alone: not a sentence with a number in it (tokens cover those).
  if (!/^[\d\s().+-]*(?:0xx)?[\d\s().+-]*$/i.test(text.trim())) return;
  const phone = normalisePhone(text);
  if (phone) found.phones.add(phone.national);
}

/** Whether `named` names anyone in `identity`. */
export function namesAny(named: Identifiers, identity: Identifiers): boolean {
  for (const cpf of named.cpfs) if (identity.cpfs.has(cpf)) return true;
  for (const phone of named.phones) if (identity.phones.has(phone)) return true;
  for (const email of named.emails) if (identity.emails.has(email)) return true;
  return false;
}

/** Identifiers of several sources as one. */
export function unionOf(...sets: readonly Identifiers[]): Identifiers {
  return {
    cpfs: new Set(sets.flatMap((set) => [...set.cpfs])),
    phones: new Set(sets.flatMap((set) => [...set.phones])),
    emails: new Set(sets.flatMap((set) => [...set.emails])),
  };
}

/** One identifier as a set of one, after normalisation; undefined when it is not valid. */
export function identifierOf(kind: IdentifierKind, raw: string): Identifiers | undefined {
  const value =
    kind === 'cpf'
      ? normaliseCpf(raw)
      : kind === 'phone'
        ? normalisePhone(raw)?.national
        : normaliseEmail(raw);
  if (value === undefined) return undefined;
  return {
    cpfs: new Set(kind === 'cpf' ? [value] : []),
    phones: new Set(kind === 'phone' ? [value] : []),
    emails: new Set(kind === 'email' ? [value] : []),
  };
}
