/**
 * The Work API `modulo=cpf` answer (providers.md) reduced to the whitelisted fields (LGPD).
 * Every field is read by name from a known place and nothing is copied wholesale, so whatever
 * else the answer carries (race, health, relatives, tax records, …) cannot reach the Dossier.
 * The answer's shape is not guaranteed: any field may be missing, null or of another type, and
 * a wrong field becomes null rather than an error.
 */
import { normaliseCpf } from './cpf.ts';
import { normaliseEmail } from './email.ts';
import { parseBrazilianNumber } from './money.ts';
import { normalisePhone } from './phone.ts';
import type { Dossier, DossierAddress, DossierCompany, DossierEmail, DossierPhone } from './types.ts';

export const MAX_DOSSIER_PHONES = 5;
export const MAX_DOSSIER_EMAILS = 5;
export const MAX_DOSSIER_ADDRESSES = 3;

/** The dossier in a Work API answer; undefined when it has no `DadosBasicos` or no valid CPF. */
export function dossierFromWorkApi(raw: unknown): Dossier | undefined {
  const basic = record(raw, 'DadosBasicos');
  const cpf = cpfOf(basic?.cpf);
  if (basic === undefined || cpf === undefined) return undefined;
  const economic = record(raw, 'DadosEconomicos');
  const purchasingPower = record(economic, 'poderAquisitivo');
  const score = record(economic, 'score');
  const registration = basic.situacaoCadastral;
  return {
    cpf,
    name: text(basic.nome),
    birthDate: isoDate(basic.dataNascimento),
    sex: text(basic.sexo),
    motherName: text(basic.nomeMae),
    maritalStatus: text(basic.estadoCivil),
    // An object in the documented answer; a bare string is taken as the description too.
    registrationStatus: text(isFields(registration) ? registration.descricaoSituacaoCadastral : registration),
    income: nonNegative(parseBrazilianNumber(economic?.renda)),
    purchasingPower: text(purchasingPower?.poderAquisitivoDescricao),
    incomeBand: text(purchasingPower?.faixaPoderAquisitivo),
    creditScore: nonNegative(parseBrazilianNumber(score?.scoreCSBA)),
    riskBand: text(score?.scoreCSBAFaixaRisco),
    profession: text(record(raw, 'profissao')?.cboDescricao),
    phones: uniqueBy(items(raw, 'telefones', phoneOf), (phone) => phone.number).slice(0, MAX_DOSSIER_PHONES),
    emails: uniqueBy(items(raw, 'emails', emailOf), (email) => email.email).slice(0, MAX_DOSSIER_EMAILS),
    addresses: items(raw, 'enderecos', addressOf).slice(0, MAX_DOSSIER_ADDRESSES),
    companies: uniqueBy(
      items(raw, 'empresas', companyOf),
      (company) => `${company.cnpj} ${company.relation}`,
    ),
  };
}

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object under `key`, if both are objects. */
function record(value: unknown, key: string): Fields | undefined {
  if (!isFields(value)) return undefined;
  const inner = value[key];
  return isFields(inner) ? inner : undefined;
}

/** The array under `key`, each object element read by `read`; others skipped. */
function items<T>(value: unknown, key: string, read: (fields: Fields) => T | undefined): T[] {
  const list = isFields(value) ? value[key] : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((element: unknown) => (isFields(element) ? (read(element) ?? []) : []));
}

/** A trimmed, non-empty string (numbers written as text); anything else is null. */
function text(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

/** Digits of a string or number field, or undefined. */
function digitsOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  return typeof value === 'string' ? value.replace(/\D/g, '') : undefined;
}

/** Digits padded back to `length` (a number loses leading zeros; `cpf_cnpj` pads to 14 with them). */
function fixedDigits(value: unknown, length: number): string | undefined {
  const digits = digitsOf(value);
  if (digits === undefined || digits === '') return undefined;
  const trimmed =
    digits.length > length && /^0+$/.test(digits.slice(0, -length)) ? digits.slice(-length) : digits;
  const padded = typeof value === 'number' ? trimmed.padStart(length, '0') : trimmed;
  return padded.length === length ? padded : undefined;
}

function cpfOf(value: unknown): string | undefined {
  const digits = fixedDigits(value, 11);
  return digits === undefined ? undefined : normaliseCpf(digits);
}

function nonNegative(value: number | undefined): number | null {
  return value !== undefined && value >= 0 ? value : null;
}

/** `15/05/1985` (or an ISO `1985-05-15`, optionally with a time) → `1985-05-15`, if a real date. */
function isoDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  const brazilian = /^(\d{2})\/(\d{2})\/(\d{4})(?:$|[\sT])/.exec(trimmed);
  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:$|[\sT])/.exec(trimmed);
  const [year, month, day] = brazilian
    ? [brazilian[3], brazilian[2], brazilian[1]]
    : iso
      ? [iso[1], iso[2], iso[3]]
      : [];
  if (year === undefined || month === undefined || day === undefined) return null;
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const isoText = `${year}-${month}-${day}`;
  return Number(year) >= 1900 && date.toISOString().startsWith(isoText) ? isoText : null;
}

function phoneOf(fields: Fields): DossierPhone | undefined {
  const raw = text(fields.telefone);
  const phone = raw === null ? undefined : normalisePhone(raw);
  if (phone === undefined) return undefined;
  const whatsapp = fields.whatsapp;
  return {
    number: phone.national,
    type: text(fields.tipo),
    carrier: text(fields.operadora),
    whatsapp: whatsapp === true || (typeof whatsapp === 'string' && /^(sim|s)$/i.test(whatsapp.trim())),
  };
}

function emailOf(fields: Fields): DossierEmail | undefined {
  const raw = text(fields.email);
  const email = raw === null ? undefined : normaliseEmail(raw);
  if (email === undefined) return undefined;
  return { email, priority: text(fields.prioridade), quality: text(fields.qualidade) };
}

function addressOf(fields: Fields): DossierAddress | undefined {
  const street = [text(fields.tipoLogradouro), text(fields.logradouro)]
    .filter((part) => part !== null)
    .join(' ');
  const state = text(fields.uf)?.toUpperCase() ?? null;
  const address: DossierAddress = {
    street: street === '' ? null : street,
    number: text(fields.logradouroNumero),
    complement: text(fields.complemento),
    district: text(fields.bairro),
    city: text(fields.cidade),
    state: state !== null && /^[A-Z]{2}$/.test(state) ? state : null,
    zip: fixedDigits(fields.cep, 8) ?? null,
  };
  return Object.values(address).some((value) => value !== null) ? address : undefined;
}

function companyOf(fields: Fields): DossierCompany | undefined {
  const cnpj = fixedDigits(fields.cnpj, 14);
  return cnpj === undefined ? undefined : { cnpj, relation: text(fields.relacao) };
}

/** The first of each group of items with the same key, in order. */
function uniqueBy<T>(list: readonly T[], key: (item: T) => string): T[] {
  const firsts = new Map<string, T>();
  for (const item of list) if (!firsts.has(key(item))) firsts.set(key(item), item);
  return [...firsts.values()];
}
