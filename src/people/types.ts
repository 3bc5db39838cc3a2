/**
 * A person's dossier as we keep it: only the whitelisted fields of the Work API answer
 * (providers.md, "Whitelist"), parsed and normalised. Everything else is dropped on arrival.
 */
export interface Dossier {
  /** 11 digits. */
  readonly cpf: string;
  readonly name: string | null;
  /** ISO date `YYYY-MM-DD` (the API sends `DD/MM/YYYY`). */
  readonly birthDate: string | null;
  readonly sex: string | null;
  /** Kept only for matching and the note. */
  readonly motherName: string | null;
  readonly maritalStatus: string | null;
  readonly registrationStatus: string | null;
  /** Monthly income in reais (the API's `renda`, decimal comma), before any note multiplier. */
  readonly income: number | null;
  /** `poderAquisitivoDescricao`, e.g. `ALTO`. */
  readonly purchasingPower: string | null;
  /** `faixaPoderAquisitivo`, e.g. `De R$ 7018 até R$ 15000`. */
  readonly incomeBand: string | null;
  readonly creditScore: number | null;
  /** `scoreCSBAFaixaRisco`, e.g. `BAIXISSIMO RISCO`. */
  readonly riskBand: string | null;
  /** `cboDescricao`. */
  readonly profession: string | null;
  /** At most 5. */
  readonly phones: readonly DossierPhone[];
  /** At most 5. */
  readonly emails: readonly DossierEmail[];
  /** At most 3. */
  readonly addresses: readonly DossierAddress[];
  readonly companies: readonly DossierCompany[];
}

export interface DossierPhone {
  /** National number, digits only: DDD + number (10 or 11 digits). */
  readonly number: string;
  readonly type: string | null;
  readonly carrier: string | null;
  readonly whatsapp: boolean;
}

export interface DossierEmail {
  /** Lowercase. */
  readonly email: string;
  readonly priority: string | null;
  readonly quality: string | null;
}

export interface DossierAddress {
  /** `tipoLogradouro` + `logradouro`, e.g. `R AUGUSTA`. */
  readonly street: string | null;
  readonly number: string | null;
  readonly complement: string | null;
  readonly district: string | null;
  readonly city: string | null;
  /** Two-letter state (UF). */
  readonly state: string | null;
  /** 8 digits. */
  readonly zip: string | null;
}

export interface DossierCompany {
  /** 14 digits. */
  readonly cnpj: string;
  readonly relation: string | null;
}

/** Who the lead's contacts lead to, as the note presents it. */
export type NoteMatch =
  /** One person, found from the lead's own CPF, or from only one of its contacts. */
  | { readonly kind: 'single'; readonly person: Dossier }
  /** The lead's phone and e-mail both lead to this person. */
  | { readonly kind: 'same_person'; readonly person: Dossier }
  /** The phone leads to one person and the e-mail to another. */
  | {
      readonly kind: 'different_people';
      readonly byPhone: { readonly person: Dossier; readonly phone: string };
      readonly byEmail: { readonly person: Dossier; readonly email: string };
    };

export interface NoteInput {
  /** Unique per (lead, enrichment); ends the note as `ref: <ref>`. */
  readonly ref: string;
  /** The lead's customer name as C2S has it, for the name-mismatch warning. */
  readonly leadName: string | null;
  readonly match: NoteMatch;
}

export interface NoteOptions {
  /** `INCOME_MULTIPLIER`, default 1.9: applied to `renda` and every `R$ N` of the band. */
  readonly incomeMultiplier: number;
  /** `NOTE_MASK_CPF`: show `***.982.247-**`. */
  readonly maskCpf: boolean;
  /** `NOTE_INCLUDE_MOTHER`: false drops the mother's name. */
  readonly includeMother: boolean;
  /** 5,000 by default. */
  readonly maxLength: number;
}
