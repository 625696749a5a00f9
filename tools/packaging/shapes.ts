// Shapes read from YAML, shared by the compose and the Kubernetes checks.

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** `name[:tag][@digest]` split at the right places (a registry port is not a tag). */
export function splitImageRef(image: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const at = image.indexOf("@");
  const ref = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? undefined : image.slice(at + 1);
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1), digest };
  return { name: ref, tag: undefined, digest };
}
