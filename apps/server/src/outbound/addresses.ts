import { BlockList, isIP } from "node:net";

/**
 * Addresses an agent may not reach on its own: anything that is not the public internet. Checked on the
 * address actually connected to (after DNS), so a public name resolving to a private address is refused too.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is matched against the IPv4 ranges by BlockList itself.
 */
const IPV4_RANGES: [string, number][] = [
  ["0.0.0.0", 8], // "this network"; 0.0.0.0 reaches the local host
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, including cloud metadata 169.254.169.254
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast
];

const IPV6_RANGES: [string, number][] = [
  ["::", 96], // unspecified, loopback ::1 and IPv4-compatible ::a.b.c.d
  ["64:ff9b::", 96], // NAT64: reaches an embedded IPv4 address
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard
  ["2001::", 32], // Teredo: embeds an IPv4 address
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4: embeds an IPv4 address
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
];

const forbidden = new BlockList();
for (const [network, prefix] of IPV4_RANGES) forbidden.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of IPV6_RANGES) forbidden.addSubnet(network, prefix, "ipv6");

/** True for any address that is not plainly public; something that is not an IP address at all counts too. */
export function isForbiddenAddress(address: string): boolean {
  const version = isIP(address);
  if (!version) return true;
  return forbidden.check(address, version === 4 ? "ipv4" : "ipv6");
}

/** A URL's host without IPv6 brackets: "[::1]" → "::1". */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

export function effectivePort(url: URL): string {
  return url.port || (url.protocol === "https:" ? "443" : "80");
}

/**
 * Whether the account's allowlist lets agents reach this URL's host even if it is private. Entries are
 * "host" (any port) or "host:port"; IPv6 as "[::1]:8080" or a bare "::1". A scheme or path is ignored.
 */
export function isAllowlisted(url: URL, allowlist: readonly string[]): boolean {
  const host = url.hostname;
  const port = effectivePort(url);
  return allowlist.some((raw) => {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^[a-z][a-z0-9+.-]*:\/\//, "")
      .replace(/\/.*$/, "");
    if (!entry) return false;
    const withBrackets = isIP(entry) === 6 ? `[${entry}]` : entry;
    let parsed: URL;
    try {
      parsed = new URL(`http://${withBrackets}`);
    } catch {
      return false;
    }
    if (parsed.hostname !== host) return false;
    // URL drops a default port (":80"), so the entry's own text says whether it named one.
    const named = withBrackets.match(/:(\d+)$/)?.[1];
    return named === undefined || Number(named) === Number(port);
  });
}
