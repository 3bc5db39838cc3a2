/**
 * Amounts in reais the Brazilian way: `8500,50`, `8.500,50`, `R$ 7018` in, `R$ 16.150,95` out.
 * Written by hand rather than with Intl so the note does not depend on the ICU data of the
 * runtime (Intl also puts a no-break space after `R$`).
 */

/**
 * `8500,50` → 8500.5, `8.500,50` → 8500.5, `R$ 7018` → 7018, `8.500` → 8500, `8500.5` → 8500.5;
 * undefined when it is not one amount.
 */
export function parseBrazilianNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.replace(/^\s*R\$/, '').trim();
  let plain: string;
  if (/^-?\d{1,3}(?:\.\d{3})*(?:,\d+)?$/.test(text) || /^-?\d+(?:,\d+)?$/.test(text)) {
    // A comma is the decimal mark, so dots group thousands: `8.500,50`, `8500,50`, `8.500`.
    plain = text.replace(/\./g, '').replace(',', '.');
  } else if (/^-?\d+\.\d+$/.test(text)) {
    plain = text; // `8500.50`: a decimal point from a source that is not Brazilian.
  } else {
    return undefined;
  }
  const number = Number(plain);
  return Number.isFinite(number) ? number : undefined;
}

/** `16150.95` → `R$ 16.150,95`; with `decimals` 0, `13334.2` → `R$ 13.334`. */
export function formatReais(value: number, decimals: 0 | 2 = 2): string {
  // Through 12 significant digits first: 8500.5 * 1.9 is 16150.949999999999 in binary.
  const scaled = Math.round(Number((Math.abs(value) * 10 ** decimals).toPrecision(12)));
  const units = Math.floor(scaled / 10 ** decimals);
  const grouped = String(units).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  const cents = decimals === 0 ? '' : `,${String(scaled % 10 ** decimals).padStart(decimals, '0')}`;
  return `${value < 0 && scaled > 0 ? '-' : ''}R$ ${grouped}${cents}`;
}
