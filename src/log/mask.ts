/**
 * Masking for anything that may identify a person or grant access. Logs, metrics labels and
 * error messages go through these; the full values only ever reach the database and the note.
 */

/** `ana.lima@example.com` → `a***@e***.com` */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${email[0]}***@${domain[0] ?? ''}***${tld}`;
}

/** `5511987654321` → `***4321`: enough to tell two numbers apart in a log, not to call anyone. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length < 8 ? '***' : `***${digits.slice(-4)}`;
}

/** `52998224725` → `***.982.247-**` (the form the note uses with NOTE_MASK_CPF). */
export function maskCpf(cpf: string): string {
  const digits = cpf.replace(/\D/g, '');
  return digits.length === 11 ? `***.${digits.slice(3, 6)}.${digits.slice(6, 9)}-**` : '***';
}

/** `Ana Souza Lima` → `A*** S*** L***` */
export function maskName(name: string): string {
  return name
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => `${part[0]}***`)
    .join(' ');
}

// Credentials, and `consulta` (the CPF or phone a Work API URL looks up).
const SECRET_PARAMS =
  /([?&](?:token|access_token|api_key|apikey|key|secret|password|pass|consulta)=)[^&#]*/gi;

/** Removes secrets from a URL or path: query tokens (Work API, webhook `?token=`) and userinfo. */
export function redactUrl(url: string): string {
  // The password runs to the last `@` of the authority: an unencoded `@` in it must not leak its tail.
  return url.replace(SECRET_PARAMS, '$1[REDACTED]').replace(/(\/\/[^/@:]*:)[^/]*@/, '$1[REDACTED]@');
}

/**
 * A request URL as logs may show it: the path alone. Whatever follows `?` (or `#`) is dropped,
 * so a token is never logged however its name is spelt (`?TOKEN=`, `?%74oken=`, `&token=`).
 */
export function requestPath(url: string): string {
  const end = url.search(/[?#]/);
  return redactUrl(end === -1 ? url : url.slice(0, end));
}

/**
 * Free text that may quote personal data (an unexpected error's message, say), made safe to
 * store or log: e-mails and long digit runs (CPF, phone) are masked, and the length is bounded.
 */
export function scrubText(text: string, maxLength = 500): string {
  return text
    .slice(0, maxLength * 2)
    .replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, (email) => maskEmail(email))
    .replace(/\+?\d[\d .()/-]{6,}\d/g, (digits) =>
      digits.replace(/\D/g, '').length >= 8 ? maskPhone(digits) : digits,
    )
    .slice(0, maxLength);
}
