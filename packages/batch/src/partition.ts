// Which partition of the EVENTS stream an event goes to. Collectors and engines must agree on it,
// so the hash is fixed and documented: FNV-1a, 32 bits, over the key's UTF-8 bytes, mod P.
//   h = 0x811c9dc5; for each byte b: h ^= b; h = (h * 0x01000193) mod 2^32
// Keys: the container id for events in a container, `host:<node>` for host processes (and, for
// k8s audit events, the namespace or `cluster`).

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** FNV-1a 32-bit hash of the UTF-8 encoding of `key`, as an unsigned integer. */
export function fnv1a32(key: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(utf8.encode(key));
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME);
  return h >>> 0;
}

/** The partition (0 .. partitions-1) of a partition key. */
export function partitionOf(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a whole number >= 1, got ${partitions}`);
  return fnv1a32(key) % partitions;
}

/** The partition key of host processes (no container) on `node`. */
export function hostPartitionKey(node: string): string {
  return `host:${node}`;
}

/** The partition key of a syscall event: its process' container id, or `host:<node>`. */
export function syscallPartitionKey(e: { readonly process?: { readonly container?: { readonly id: string } | undefined } | undefined }, node: string): string {
  const id = e.process?.container?.id;
  return id !== undefined && id !== '' && id !== 'host' ? id : hostPartitionKey(node);
}

/** The partition key of a k8s audit event: its namespace, or `cluster` for cluster-scoped objects. */
export function auditPartitionKey(namespace: string | undefined): string {
  return namespace === undefined || namespace === '' ? 'cluster' : namespace;
}
