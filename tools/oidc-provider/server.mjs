// A real OpenID provider (panva/oidc-provider) for mhp-federation's end-to-end tests.
// TEST USE ONLY: fixed test users, no passwords, sign-in by naming the user in `login_hint`.
//
//   node tools/oidc-provider/server.mjs [PORT]
//
// Listens on 127.0.0.1 (PORT, or OIDC_PORT, or 0 for any free port) and prints one line
// `listening http://127.0.0.1:PORT` on stdout once it accepts requests; the issuer is that URL.
//
// Environment:
//   OIDC_REDIRECT_URI   the one redirect URI of the client (default http://127.0.0.1:9/callback)
//   OIDC_CLIENT_ID      default "mhp"
//   OIDC_CLIENT_SECRET  default "mhp-test-client-secret"
//   OIDC_ALG            ID token signing algorithm: RS256 (default), PS256, ES256, EdDSA.
//                       A fresh key (with a fresh kid) is generated at every start, so a restart
//                       on the same port is a key rotation.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const redirectUri = process.env.OIDC_REDIRECT_URI ?? 'http://127.0.0.1:9/callback';
const clientId = process.env.OIDC_CLIENT_ID ?? 'mhp';
const clientSecret = process.env.OIDC_CLIENT_SECRET ?? 'mhp-test-client-secret';
const alg = process.env.OIDC_ALG ?? 'RS256';

// Test users, chosen by `login_hint`.
const USERS = {
  alice: {
    sub: 'alice-0001',
    email: 'Alice@Clinic.Example',
    email_verified: true,
    name: 'Alice Example',
    groups: ['mhp-clinicians', 'mhp-admins', 'staff'],
  },
  bob: {
    sub: 'bob-0002',
    email: 'bob@elsewhere.example',
    email_verified: true,
    name: 'Bob Elsewhere',
    groups: ['mhp-clinicians'],
  },
  carol: {
    sub: 'carol-0003',
    email: 'carol@clinic.example',
    email_verified: false,
    name: 'Carol Unverified',
    groups: ['mhp-clinicians'],
  },
};

function signingKey(algorithm) {
  let pair;
  switch (algorithm) {
    case 'RS256':
    case 'PS256':
      pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      break;
    case 'ES256':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      break;
    case 'EdDSA':
    case 'Ed25519':
      pair = generateKeyPairSync('ed25519');
      break;
    default:
      throw new Error(`unsupported OIDC_ALG ${algorithm}`);
  }
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: algorithm };
}

async function findAccount(ctx, sub) {
  const user = Object.values(USERS).find((u) => u.sub === sub);
  if (!user) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { ...user };
    },
  };
}

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  // Put the requested claims in the ID token (as Okta, Entra ID, Keycloak and Cognito do); the
  // relying party reads only the ID token.
  conformIdTokenClaims: false,
  cookies: { keys: [randomBytes(32).toString('hex')] },
  features: { devInteractions: { enabled: false } },
  findAccount,
  jwks: { keys: [signingKey(alg)] },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
};

// The non-interactive "login page": signs in the user named by login_hint, grants what the
// client asked for, and sends the browser back to the authorization endpoint.
async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    const user = USERS[params.login_hint];
    result = user
      ? { login: { accountId: user.sub } }
      : { error: 'access_denied', error_description: 'unknown test user' };
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    result = { consent: details.grantId ? {} : { grantId } };
  } else {
    result = { error: 'access_denied', error_description: `unexpected prompt ${prompt.name}` };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
      interaction(provider, req, res).catch((err) => {
        console.error(err);
        res.statusCode = 500;
        res.end('interaction failed');
      });
      return;
    }
    callback(req, res);
  });
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
