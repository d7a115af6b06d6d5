// Splitting an image reference into container.image.repository / .tag / .digest the way libsinsp's
// split_container_image does (repository keeps its registry host and port).

export interface ImageParts {
  /** `docker.io/library/busybox`, `localhost:5000/a/b`, `busybox`. */
  readonly repository: string;
  /** Empty when the reference names none. */
  readonly tag: string;
  /** `sha256:<hex>`, or empty. */
  readonly digest: string;
}

function cut(s: string, sep: string): [string, string] | undefined {
  const i = s.indexOf(sep);
  return i < 0 ? undefined : [s.slice(0, i), s.slice(i + 1)];
}

/**
 * `docker.io/library/busybox:1.36` -> repository `docker.io/library/busybox`, tag `1.36`;
 * `localhost:5000/a/b@sha256:..` -> `localhost:5000/a/b`, no tag, digest `sha256:..`.
 * The first path component is taken as `host[:port]` only to keep its colon out of the tag search.
 */
export function parseImageReference(image: string): ImageParts {
  const slash = cut(image, '/');
  const prefix = slash ? `${slash[0]}/` : '';
  const rest = slash ? slash[1] : image;
  const at = cut(rest, '@');
  const nameTag = at ? at[0] : rest;
  const digest = at ? at[1] : '';
  const colon = cut(nameTag, ':');
  return { repository: prefix + (colon ? colon[0] : nameTag), tag: colon ? colon[1] : '', digest };
}

/** True for a reference that is only an image id (`sha256:<hex>` or bare hex), which names no repository. */
export function isImageId(image: string): boolean {
  return /^(?:sha256:)?[0-9a-f]{12,64}$/.test(image);
}
