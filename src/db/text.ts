/** Text PostgreSQL can store: no NUL, no lone surrogate (both are refused by text and jsonb). */
export function storableText(text: string): string {
  return text.toWellFormed().replaceAll('\u0000', '\uFFFD');
}

/** JSON for a `json`/`jsonb` parameter, its strings made storable. */
export function storableJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'string' ? storableText(item) : item,
  );
}
