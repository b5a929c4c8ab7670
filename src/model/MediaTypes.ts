/** Media types of manifests, configs and signatures, written out once: everything else compares against these. */

/** OCI image index. */
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json"
/** OCI image manifest. */
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
/** Docker manifest list. */
export const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
/** Docker schema 2 manifest. */
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
/** Docker schema 1 (rejected with a clear error). */
export const DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
/** Docker schema 1, signed. */
export const DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"

/** The Accept header sent on every manifest HEAD and GET: a narrow one gets a different document. */
export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1]
  .join(", ")

/** True for multi-platform indexes / manifest lists. */
export const isIndex = (mediaType: string): boolean => mediaType === OCI_INDEX || mediaType === DOCKER_LIST

/** True for single-image manifests. */
export const isImageManifest = (mediaType: string): boolean => mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST

/** True for the legacy schema 1 formats, which we refuse. */
export const isSchema1 = (mediaType: string): boolean => mediaType === DOCKER_SCHEMA1 || mediaType === DOCKER_SCHEMA1_SIGNED

/** OCI image config. */
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
/** cosign's simple-signing payload layer. */
export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
/** OCI's empty descriptor type (the `{}` config of artifacts). */
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json"
/** A sigstore bundle, v0.3 (cosign v3's signatures and attestations, stored as OCI 1.1 referrers). */
export const SIGSTORE_BUNDLE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
/** A DSSE envelope (cosign's legacy `.att` layers). */
export const DSSE_ENVELOPE = "application/vnd.dsse.envelope.v1+json"
/** An in-toto statement: the payload type of DSSE envelopes that carry one. */
export const IN_TOTO = "application/vnd.in-toto+json"
