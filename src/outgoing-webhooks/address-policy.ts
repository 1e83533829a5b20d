/**
 * Which addresses an outgoing webhook may connect to: public unicast only.
 * Private (RFC 1918, unique-local), loopback, link-local (which holds the
 * cloud metadata service at 169.254.169.254), carrier-grade NAT, multicast,
 * broadcast, unspecified, reserved and documentation ranges are refused, and
 * so are IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo).
 * An IPv4-mapped address is judged as the IPv4 address it maps.
 */
import ipaddr from 'ipaddr.js';

/** Public addresses that are metadata or host-agent endpoints all the same. */
const METADATA_ADDRESSES = new Set(['168.63.129.16' /* Azure WireServer */, '100.100.100.200' /* Alibaba; also CGNAT */]);

/** Why the address may not be used ("10.0.0.7, a private address"), or undefined when it is a public unicast address. */
export function refusedAddress(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}", not an IP address`;
  // process() turns ::ffff:a.b.c.d into a.b.c.d, so the IPv4 rules apply to it.
  const parsed = ipaddr.process(address);
  const normal = parsed.toString();
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).zoneId !== undefined) return `${address}, an address with a zone id`;
  if (METADATA_ADDRESSES.has(normal)) return `${normal}, a cloud metadata address`;
  const range = parsed.range();
  if (range !== 'unicast') return `${normal}, a ${describeRange(range)} address`;
  return undefined;
}

function describeRange(range: string): string {
  switch (range) {
    case 'private':
    case 'uniqueLocal':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'linkLocal':
      return 'link-local (metadata)';
    case 'carrierGradeNat':
      return 'carrier-grade NAT';
    case 'multicast':
      return 'multicast';
    default:
      return `non-public (${range})`;
  }
}
