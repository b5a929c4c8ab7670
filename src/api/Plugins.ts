/**
 * The built-in plugins, each a module exporting its layer: transports (oci, skopeo, crane, an
 * OCI layout), auth providers (key file, access token, docker config, podman, credential
 * helpers, anonymous, ECR and Google identities) and signers (key file, cosign with KMS).
 * `import { Plugins } from "image-syncer"`, then `Plugins.OciTransport.layer()` and so on.
 */
export * as AccessTokenAuth from "../../plugins/auth/accessToken.ts"
export * as AnonymousAuth from "../../plugins/auth/anonymous.ts"
export * as CredentialHelper from "../../plugins/auth/credHelper.ts"
export * as DockerConfigAuth from "../../plugins/auth/dockerConfig.ts"
export * as EcrAuth from "../../plugins/auth/ecr.ts"
export * as EcrApi from "../../plugins/auth/ecrApi.ts"
export * as EcrRepositories from "../../plugins/auth/ecrRepositories.ts"
export * as GcpAuth from "../../plugins/auth/gcp.ts"
export * as JsonKeyAuth from "../../plugins/auth/jsonKey.ts"
export * as PodmanAuth from "../../plugins/auth/podman.ts"
export * as CosignSigner from "../../plugins/signers/cosign.ts"
export * as KeySigner from "../../plugins/signers/key.ts"
export * as CraneTransport from "../../plugins/transports/crane.ts"
export * as LayoutTransport from "../../plugins/transports/layout.ts"
export * as OciTransport from "../../plugins/transports/oci.ts"
export * as SkopeoTransport from "../../plugins/transports/skopeo.ts"
