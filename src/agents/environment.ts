/**
 * The environment an agent starts from: a short allow-list of what programs need to run at all,
 * plus exactly what the agent's config names. Orch's own secrets (tracker tokens, the API token) and
 * anything else in the daemon's environment never reach an agent unless its config says so.
 */
const ALLOWED = ['PATH', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];
const ALLOWED_PREFIXES = ['LC_'];

export function agentBaseEnvironment(source: NodeJS.ProcessEnv, configured: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (ALLOWED.includes(name) || ALLOWED_PREFIXES.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  for (const entry of configured) {
    const equals = entry.indexOf('=');
    if (equals > 0) {
      env[entry.slice(0, equals)] = entry.slice(equals + 1);
    } else {
      // A bare NAME passes the daemon's value through, when it has one.
      const value = source[entry];
      if (value !== undefined) env[entry] = value;
    }
  }
  return env;
}
