/**
 * Whether the CPF owner is plausibly the lead's customer. Names in C2S are typed by the
 * customer ("Ana Lima", "ana", "Dra. Ana") while registries hold the full name in capitals
 * without accents ("ANA SOUZA LIMA"), so only first names are compared.
 */

/** `José Conceição` → `Jose Conceicao` */
export function stripAccents(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '');
}

// Titles a customer may type before the name; they are not names.
const TITLES = new Set(['sr', 'sra', 'srta', 'dr', 'dra']);

/** The first word of a name, lowercase and without accents; undefined when it has no letters. */
export function firstName(name: string): string | undefined {
  const words = stripAccents(name)
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => /\p{L}/u.test(word) && !TITLES.has(word));
  return words[0];
}

/**
 * True when the first names agree, ignoring case and accents. A missing name on either side
 * (or one without letters, such as a phone number typed as the name) is nothing to warn about.
 */
export function namesMatch(
  leadName: string | null | undefined,
  personName: string | null | undefined,
): boolean {
  const lead = firstName(leadName ?? '');
  const person = firstName(personName ?? '');
  return lead === undefined || person === undefined || lead === person;
}
