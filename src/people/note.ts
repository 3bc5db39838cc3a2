/**
 * The enrichment note, exactly as /shared/spec/note.md shows it: Portuguese, one fact a line,
 * emoji section headers, a blank line between blocks, missing lines and empty sections left
 * out, a `ref:` line last. Pure: the same input always gives the same text.
 */
import { maskCpf } from '../log/mask.ts';
import { referenceLine } from '../notes/reference.ts';
import { formatCpf } from './cpf.ts';
import { formatReais, parseBrazilianNumber } from './money.ts';
import { namesMatch } from './name.ts';
import { formatPhone, normalisePhone } from './phone.ts';
import type { Dossier, DossierAddress, NoteInput, NoteOptions } from './types.ts';

export const DEFAULT_NOTE_MAX_LENGTH = 5000;

/** How many of each list the note shows (the dossier may hold more). */
export const NOTE_LIST_LIMITS = { emails: 3, phones: 3, addresses: 2, companies: 3 } as const;

/** The note for a lead whose contacts led to one or two people. */
export function composeNote(input: NoteInput, options: NoteOptions): string {
  const { match, leadName } = input;
  let blocks: Block[];
  switch (match.kind) {
    case 'single':
      blocks = personBlocks(match.person, leadName, options);
      break;
    case 'same_person':
      blocks = [
        banner('📞📧 Telefone e e-mail da mesma pessoa'),
        ...personBlocks(match.person, leadName, options),
      ];
      break;
    case 'different_people':
      blocks = [
        banner('⚠️ Telefone e e-mail relacionados a PESSOAS DIFERENTES!'),
        banner(`═══ PESSOA 1 (Telefone: ${displayPhone(match.byPhone.phone)}) ═══`),
        ...personBlocks(match.byPhone.person, leadName, options),
        banner(`═══ PESSOA 2 (Email: ${oneLine(match.byEmail.email)}) ═══`),
        ...personBlocks(match.byEmail.person, leadName, options),
      ];
      break;
  }
  return fit(blocks, input.ref, options.maxLength);
}

export interface NoMatchLead {
  readonly name: string | null | undefined;
  readonly phone: string | null | undefined;
  readonly email: string | null | undefined;
}

/** The short note for a lead whose contacts led to no CPF: what was looked up, and the ref. */
export function composeNoMatchNote(
  ref: string,
  lead: NoMatchLead,
  maxLength = DEFAULT_NOTE_MAX_LENGTH,
): string {
  const [name, phone, email] = [lead.name, lead.phone, lead.email].map((value) => oneLine(value ?? ''));
  const lines = [
    line('Nenhum CPF foi encontrado para os contatos deste lead.', Rank.Heading),
    name && line(`Nome: ${name}`, Rank.Personal),
    phone && line(`Telefone: ${displayPhone(phone)}`, Rank.Personal),
    email && line(`Email: ${email}`, Rank.Personal),
  ];
  return fit([section('🔍 CPF NÃO ENCONTRADO', lines)], ref, maxLength);
}

// ---- Blocks of a person ------------------------------------------------------------------

/**
 * What goes first when the note is too long (lowest first; among equals, the last in the
 * note): list items past the first, then first items (their sections go with them), then
 * financial lines, then personal details, and only in a pathological case (a huge field) the
 * name, the warning, the CPF and the banners. A line is dropped whole, never cut.
 */
const Rank = {
  ExtraItem: 0,
  FirstItem: 1,
  Financial: 2,
  Personal: 3,
  Name: 4,
  Warning: 5,
  Cpf: 6,
  Heading: 7,
} as const;
type Rank = (typeof Rank)[keyof typeof Rank];

interface Line {
  readonly text: string;
  readonly rank: Rank;
}

/** A paragraph: an optional section header and its lines. A header without lines is not shown. */
interface Block {
  readonly header?: string;
  readonly lines: readonly Line[];
}

function line(text: string, rank: Rank): Line {
  return { text, rank };
}

function section(header: string, lines: readonly (Line | null | undefined | false | '')[]): Block {
  return {
    header,
    lines: lines.filter((entry): entry is Line => typeof entry === 'object' && entry !== null),
  };
}

function banner(text: string): Block {
  return { lines: [line(text, Rank.Heading)] };
}

function numbered(items: readonly string[], limit: number): Line[] {
  return items
    .slice(0, limit)
    .map((item, index) => line(`${index + 1}. ${item}`, index === 0 ? Rank.FirstItem : Rank.ExtraItem));
}

function personBlocks(person: Dossier, leadName: string | null, options: NoteOptions): Block[] {
  const blocks: Block[] = [];
  if (leadName !== null && !namesMatch(leadName, person.name)) {
    blocks.push({ lines: [line(`⚠️ Nome diferente do lead: ${oneLine(leadName)}`, Rank.Warning)] });
  }
  const cpf = options.maskCpf ? maskCpf(person.cpf) : formatCpf(person.cpf);
  blocks.push(
    section('✅ DADOS PESSOAIS', [
      person.name && line(`Nome: ${oneLine(person.name)}`, Rank.Name),
      line(`CPF: ${cpf}`, Rank.Cpf),
      person.birthDate && line(`Data Nascimento: ${brazilianDate(person.birthDate)}`, Rank.Personal),
      person.sex && line(`Sexo: ${oneLine(person.sex)}`, Rank.Personal),
      options.includeMother && person.motherName && line(`Mãe: ${oneLine(person.motherName)}`, Rank.Personal),
    ]),
    section('💰 DADOS FINANCEIROS', [
      // Zero is what the source says when it does not know.
      person.income !== null &&
        person.income > 0 &&
        line(`Renda: ${formatReais(person.income * options.incomeMultiplier)}`, Rank.Financial),
      person.purchasingPower && line(`Poder Aquisitivo: ${oneLine(person.purchasingPower)}`, Rank.Financial),
      person.incomeBand &&
        line(
          `Faixa de Renda: ${multiplyBand(oneLine(person.incomeBand), options.incomeMultiplier)}`,
          Rank.Financial,
        ),
      person.creditScore !== null && line(`Score de Crédito: ${person.creditScore}`, Rank.Financial),
      person.riskBand && line(`Risco: ${oneLine(person.riskBand)}`, Rank.Financial),
    ]),
    section(
      '📧 EMAILS',
      numbered(
        person.emails.map(({ email, priority }) =>
          withSuffix(oneLine(email), priority && `(${oneLine(priority)})`, ' '),
        ),
        NOTE_LIST_LIMITS.emails,
      ),
    ),
    section(
      '📱 TELEFONES',
      numbered(
        person.phones.map(({ number, type, whatsapp }) =>
          withSuffix(withSuffix(formatPhone(number), type && oneLine(type), ' - '), whatsapp && '✅', ' '),
        ),
        NOTE_LIST_LIMITS.phones,
      ),
    ),
    section(
      '🏠 ENDEREÇOS',
      numbered(person.addresses.map(addressText).filter(Boolean), NOTE_LIST_LIMITS.addresses),
    ),
    section(
      '🏢 EMPRESAS',
      numbered(
        person.companies.map(({ cnpj, relation }) =>
          withSuffix(`CNPJ: ${formatCnpj(cnpj)}`, relation && oneLine(relation), ' - '),
        ),
        NOTE_LIST_LIMITS.companies,
      ),
    ),
  );
  return blocks;
}

// ---- Field formats -------------------------------------------------------------------------

/** Values come from outside: a line break inside one would break "one fact a line". */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function withSuffix(text: string, suffix: string | null | false, separator: string): string {
  return suffix ? `${text}${separator}${suffix}` : text;
}

/** `R AUGUSTA 1500, APTO 501, CONSOLACAO - SAO PAULO/SP - CEP: 01304-001`, parts missing left out. */
function addressText(address: DossierAddress): string {
  const parts = (...values: (string | null)[]): string[] =>
    values.flatMap((value) => (value === null || oneLine(value) === '' ? [] : [oneLine(value)]));
  const street = parts(address.street, address.number).join(' ');
  return [
    parts(street, address.complement, address.district).join(', '),
    parts(address.city, address.state).join('/'),
    address.zip === null ? '' : `CEP: ${address.zip.slice(0, 5)}-${address.zip.slice(5)}`,
  ]
    .filter(Boolean)
    .join(' - ');
}

/** `12345678000190` → `12.345.678/0001-90` */
function formatCnpj(cnpj: string): string {
  return `${cnpj.slice(0, 2)}.${cnpj.slice(2, 5)}.${cnpj.slice(5, 8)}/${cnpj.slice(8, 12)}-${cnpj.slice(12)}`;
}

/** `1985-05-15` → `15/05/1985` */
function brazilianDate(iso: string): string {
  const [year, month, day] = iso.split('-');
  return `${day}/${month}/${year}`;
}

/** Every `R$ N` of the band multiplied and rounded to whole reais: `De R$ 7018` → `De R$ 13.334`. */
function multiplyBand(band: string, multiplier: number): string {
  return band.replace(/R\$\s*(\d(?:[\d.,]*\d)?)/g, (written, amount: string) => {
    const value = parseBrazilianNumber(amount);
    return value === undefined ? written : formatReais(value * multiplier, 0);
  });
}

/** A phone as the lead gave it, formatted when it is a Brazilian number. */
function displayPhone(phone: string): string {
  const normalised = normalisePhone(phone);
  return normalised === undefined ? oneLine(phone) : formatPhone(normalised.national);
}

// ---- Length cap ----------------------------------------------------------------------------

function render(blocks: readonly Block[], dropped: ReadonlySet<Line>, ref: string): string {
  const paragraphs = blocks.flatMap((block) => {
    const lines = block.lines.filter((entry) => !dropped.has(entry)).map((entry) => entry.text);
    if (lines.length === 0) return [];
    return [(block.header === undefined ? lines : [block.header, ...lines]).join('\n')];
  });
  return [...paragraphs, referenceLine(ref)].join('\n\n');
}

/**
 * The note within `maxLength` characters (UTF-16 code units, which is never fewer than the
 * characters C2S may count), dropping whole lines by rank; the ref line always stays.
 */
function fit(blocks: readonly Block[], ref: string, maxLength: number): string {
  const candidates = blocks.flatMap((block) => block.lines);
  const dropped = new Set<Line>();
  let note = render(blocks, dropped, ref);
  while (note.length > maxLength) {
    let victim: Line | undefined;
    for (const candidate of candidates) {
      if (!dropped.has(candidate) && (victim === undefined || candidate.rank <= victim.rank))
        victim = candidate;
    }
    if (victim === undefined) break;
    dropped.add(victim);
    note = render(blocks, dropped, ref);
  }
  return note;
}
