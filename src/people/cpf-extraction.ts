/**
 * CPFs a lead carries itself (providers.md, "CPF"): in `customer.cpf`, `customer.document`,
 * or typed into the free-text `description`. Only check digits decide; the patterns only make
 * sure a candidate is one written number, never digits glued from neighbouring numbers.
 */
import { normaliseCpf } from './cpf.ts';

// `52998224725`, `529.982.247-25`, `529982247-25`: not touching another digit, directly or
// through a `.` or `-` (so not a piece of `5511987654321` or `1.529.982.247-25`).
const WRITTEN_CPF = /(?<!\d[.-]?)\d{3}([.-]?)\d{3}\1\d{3}[.-]?\d{2}(?![.-]?\d)/g;
// `529 982 247 25`: spaces also separate unrelated numbers, so here a space counts as touching.
const SPACED_CPF = /(?<!\d[.\s-]?)\d{3} \d{3} \d{3}[ -]\d{2}(?![.\s-]?\d)/g;

/** Valid CPFs (11 digits) in the lead's attributes, in priority order, without repeats. */
export function cpfCandidatesFromLead(attributes: unknown): string[] {
  const customer = field(attributes, 'customer');
  const found = [
    ...fromField(field(customer, 'cpf')),
    ...fromField(field(customer, 'document')),
    ...fromText(field(attributes, 'description')),
  ];
  return [...new Set(found)];
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** A document field: the whole value as one CPF (any punctuation), else CPFs written inside it. */
function fromField(value: unknown): string[] {
  // A number loses the CPF's leading zeros.
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) {
    const cpf = normaliseCpf(String(value).padStart(11, '0'));
    return cpf === undefined ? [] : [cpf];
  }
  if (typeof value !== 'string') return [];
  const whole = normaliseCpf(value.trim());
  return whole === undefined ? fromText(value) : [whole];
}

/** CPFs written in free text, in the order they appear. */
export function cpfsInText(text: string): string[] {
  const candidates = [...text.matchAll(WRITTEN_CPF), ...text.matchAll(SPACED_CPF)].sort(
    (a, b) => a.index - b.index,
  );
  return candidates.flatMap((match) => normaliseCpf(match[0]) ?? []);
}

function fromText(value: unknown): string[] {
  return typeof value === 'string' ? cpfsInText(value) : [];
}
