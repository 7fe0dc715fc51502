/**
 * Well-known hosting and cloud providers by AS number: the share of nodes on them says how much of the
 * network runs in data centres rather than at home. Numbers checked against the AS organisation names
 * in `@ip-location-db/asn`.
 */

/** AS number → the provider's short name */
export const HOSTING_ASNS: ReadonlyMap<number, string> = new Map([
  [16509, 'AWS'],
  [14618, 'AWS'],
  [15169, 'Google'],
  [396982, 'Google Cloud'],
  [8075, 'Microsoft Azure'],
  [24940, 'Hetzner'],
  [213230, 'Hetzner'],
  [16276, 'OVH'],
  [35540, 'OVH'],
  [14061, 'DigitalOcean'],
  [51167, 'Contabo'],
  [40021, 'Contabo'],
  [141995, 'Contabo'],
  [63949, 'Akamai (Linode)'],
  [45102, 'Alibaba Cloud'],
  [37963, 'Alibaba Cloud'],
  [31898, 'Oracle Cloud'],
  [20473, 'Vultr'],
  [12876, 'Scaleway'],
  [60781, 'Leaseweb'],
  [28753, 'Leaseweb'],
  [16265, 'Leaseweb'],
  [30633, 'Leaseweb'],
  [132203, 'Tencent Cloud'],
  [45090, 'Tencent Cloud'],
  [136907, 'Huawei Cloud'],
  [54825, 'Equinix Metal'],
  [8560, 'IONOS'],
  [197540, 'netcup'],
  [59642, 'Cherry Servers'],
  [396356, 'Latitude.sh'],
])

/** whether `asn` belongs to a well-known hosting or cloud provider */
export function isHostingAsn(asn: number | undefined): boolean {
  return asn !== undefined && HOSTING_ASNS.has(asn)
}
