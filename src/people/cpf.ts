/**
 * CPF: 11 digits, two mod-11 check digits. The first from the first 9 digits with weights
 * 10..2, the second from the first 10 with weights 11..2; r = sum % 11, digit = r < 2 ? 0 : 11 - r.
 * The eleven repeated-digit strings pass the arithmetic but are not valid.
 */

function checkDigit(digits: string, firstWeight: number): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) sum += Number(digits[i]) * (firstWeight - i);
  const r = sum % 11;
  return r < 2 ? 0 : 11 - r;
}

/** The two check digits of a 9-digit CPF base. */
export function cpfCheckDigits(base: string): string {
  const first = checkDigit(base, 10);
  return `${first}${checkDigit(`${base}${first}`, 11)}`;
}

/** The 11 digits of a CPF written with or without punctuation, if its check digits are right. */
export function normaliseCpf(text: string): string | undefined {
  const digits = text.replace(/[.\-\s/]/g, '');
  if (!/^\d{11}$/.test(digits) || /^(\d)\1{10}$/.test(digits)) return undefined;
  return cpfCheckDigits(digits.slice(0, 9)) === digits.slice(9) ? digits : undefined;
}

export function isValidCpf(text: string): boolean {
  return normaliseCpf(text) !== undefined;
}

/** `52998224725` → `529.982.247-25` */
export function formatCpf(cpf: string): string {
  return `${cpf.slice(0, 3)}.${cpf.slice(3, 6)}.${cpf.slice(6, 9)}-${cpf.slice(9, 11)}`;
}
