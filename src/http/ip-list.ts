import { BlockList, isIP } from 'node:net';

/**
 * Lists of IP addresses and CIDR ranges (IPv4 and IPv6), as WEBHOOK_ALLOWED_IPS and
 * TRUSTED_PROXIES give them: comma-separated, spaces allowed.
 */

export interface ParsedIpList {
  /** The valid entries, as written (proxy-addr takes the same strings). */
  readonly entries: readonly string[];
  /** Entries that are neither an address nor `address/prefix`. */
  readonly invalid: readonly string[];
}

export function parseIpList(text: string): ParsedIpList {
  const entries: string[] = [];
  const invalid: string[] = [];
  for (const entry of text.split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    if (parseEntry(entry)) entries.push(entry);
    else invalid.push(entry);
  }
  return { entries, invalid };
}

interface Entry {
  readonly address: string;
  readonly family: 'ipv4' | 'ipv6';
  readonly prefix: number | undefined;
}

function parseEntry(entry: string): Entry | undefined {
  const [address = '', prefixText, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const version = isIP(address);
  // A zone (`fe80::1%eth0`) names an interface of this machine: meaningless in a shared list.
  if (version === 0 || address.includes('%')) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family, prefix: undefined };
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, family, prefix };
}

/**
 * Whether an address belongs to the list. IPv4 rules also match IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.1`), the form a client takes on a server listening on `::`.
 */
export function createIpMatcher(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const text of entries) {
    const entry = parseEntry(text);
    if (!entry) throw new Error(`not an IP address or CIDR range: ${text}`);
    if (entry.prefix === undefined) list.addAddress(entry.address, entry.family);
    else list.addSubnet(entry.address, entry.prefix, entry.family);
  }
  return (ip) => {
    const version = isIP(ip);
    return version !== 0 && list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
  };
}
