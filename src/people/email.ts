/**
 * E-mail addresses of leads and dossiers. Lead forms often force an e-mail, so people type
 * placeholders; looking those up would waste paid queries and could match a stranger who
 * used the same placeholder. The lists below are deliberately small: only what is plainly
 * not an address, never a guess about a real one.
 */

// Local parts (lowercase, without `.`, `_`, `-` and trailing digits) that say "no e-mail".
const PLACEHOLDER_LOCAL_PARTS = new Set([
  'teste',
  'test',
  'nao',
  'naotem',
  'naopossui',
  'naoinformado',
  'naoinformou',
  'sememail',
  'semmail',
  'nenhum',
  'none',
  'noemail',
  'null',
  'email',
  'fake',
]);

// Domain names (without the TLD) that are placeholders, as in `x@email.com`, `a@teste.com.br`.
const PLACEHOLDER_DOMAIN_NAMES = new Set(['email', 'teste', 'test', 'nao', 'naotem', 'sememail', 'semmail']);

const ADDRESS = /^[^\s@]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/;

/** The address lowercased and trimmed, or undefined when it is not an address or a placeholder. */
export function normaliseEmail(raw: string): string | undefined {
  const email = raw.trim().toLowerCase();
  if (!ADDRESS.test(email)) return undefined;
  const at = email.lastIndexOf('@');
  return isPlaceholder(email.slice(0, at), email.slice(at + 1)) ? undefined : email;
}

function isPlaceholder(local: string, domain: string): boolean {
  const word = local.replace(/[._-]/g, '').replace(/\d+$/, '');
  const domainName = domain.replace(/\.(?:com|net|org)(?:\.br)?$|\.br$/, '');
  const sameChar = /^(.)\1*$/;
  return (
    PLACEHOLDER_LOCAL_PARTS.has(word) ||
    PLACEHOLDER_DOMAIN_NAMES.has(domainName) ||
    // `999999@…`, `xxx@…`; a single letter only with a single-letter domain (`x@x.com`), as
    // `a@company.com.br` may be real.
    (sameChar.test(local) && (local.length >= 3 || sameChar.test(domainName))) ||
    isDigitRun(local)
  );
}

/** `1234`, `123456789`, `987654`: counting on the keyboard. */
function isDigitRun(local: string): boolean {
  return (
    local.length >= 4 &&
    /^\d+$/.test(local) &&
    ('01234567890'.includes(local) || '9876543210'.includes(local))
  );
}
