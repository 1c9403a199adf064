// A real OpenID Provider for the SSO tests: panva's oidc-provider with its development
// login and consent pages (any password), one confidential client, and users read from a
// JSON file on every sign-in, so a test can move a user between groups.
//
// Environment: OIDC_PROVIDER_PACKAGE (the installed package's folder), OIDC_PORT,
// OIDC_USERS_FILE, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, OIDC_LOGOUT_URI.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const { default: Provider } = await import(
  pathToFileURL(join(env.OIDC_PROVIDER_PACKAGE, 'lib', 'index.js')).href);

const users = () => JSON.parse(readFileSync(env.OIDC_USERS_FILE, 'utf8'));

const provider = new Provider(`http://127.0.0.1:${env.OIDC_PORT}`, {
  clients: [{
    client_id: env.OIDC_CLIENT_ID,
    client_secret: env.OIDC_CLIENT_SECRET,
    redirect_uris: [env.OIDC_REDIRECT_URI],
    post_logout_redirect_uris: [env.OIDC_LOGOUT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  async findAccount(ctx, id) {
    const user = users()[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...user }; } };
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['parlor-tests-only'] },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));
provider.listen(Number(env.OIDC_PORT), '127.0.0.1', () => console.log('listening'));
