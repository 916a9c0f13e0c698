// Verifies an MHP access token the way another service would, with panva's jose (installed
// with oidc-provider; not MHP's code): reads MHP's OpenID discovery document, takes the issuer
// and the key set from it, and checks the token's signature, issuer, audience and times.
//
//   node verify-token.mjs DISCOVERY_URL TOKEN [AT_UNIX_SECONDS]
//
// Prints the verified claims as JSON and exits 0; exits 1 with the reason otherwise.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [discoveryUrl, token, at] = process.argv.slice(2);
try {
  const discovery = await (await fetch(discoveryUrl)).json();
  if (!discovery.issuer || !discovery.jwks_uri) {
    throw new Error("the discovery document has no issuer or jwks_uri");
  }
  const keys = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
    issuer: discovery.issuer,
    audience: "mhp-api",
    algorithms: discovery.id_token_signing_alg_values_supported,
    currentDate: at ? new Date(Number(at) * 1000) : undefined,
  });
  console.log(JSON.stringify({ alg: protectedHeader.alg, ...payload }));
} catch (e) {
  console.error(`not verified: ${e.message}`);
  process.exit(1);
}
