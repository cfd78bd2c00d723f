import { isIPv6 } from 'node:net';

/**
 * The client's address for limits and records. X-Forwarded-For is believed only when
 * TRUST_PROXY is set (behind exactly one proxy of ours), and only its last entry: the proxy
 * appends the address it saw, and anything left of it came from the client.
 */
export function clientAddress(input: { forwardedFor: string | undefined; remote: string | undefined; trustProxy: boolean }): string {
  const forwarded = input.trustProxy ? input.forwardedFor?.split(',').at(-1)?.trim() : undefined;
  return forwarded || input.remote || 'unknown';
}

/**
 * Who an address stands for when counting per address: IPv4 as it is (also when written as
 * an IPv4-mapped IPv6 address), IPv6 by its /64, since one subscriber is routinely given a
 * whole /64 and could otherwise pick a fresh address for every connection.
 */
export function addressHolder(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
