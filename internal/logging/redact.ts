/** What a secret is replaced with. */
export const REDACTED = "***";

/**
 * A query parameter whose value is a credential: `password`, `pass`, `passwd`, `pwd`,
 * `sslpassword`, `token`, `secret`, `api_key`, `auth`... Masking a harmless one (`sslkey`, a
 * file path) costs nothing; leaking one costs a rotation.
 */
const SECRET_QUERY_PARAM = /([?&;][^=&#\s]*?(?:pass|pwd|secret|token|key|auth|credential|signature)[^=&#\s]*=)[^&#]*/gi;

/**
 * The password of a URL's user info: from the `:` after the user name to the LAST `@`, so a
 * password written with a raw `@`, `/` or `?` is hidden whole, also when the URL does not parse.
 * The scheme is optional (`user:secret@host`). The user name is kept: it is not a secret and
 * says who connects. Values may hold spaces: a rejected configuration value is shown whole.
 */
const USERINFO_PASSWORD = /^((?:[a-z][a-z\d+.-]*:\/\/|(?![a-z][a-z\d+.-]*:\/\/))[^/?#@:\s]*):[\s\S]*@/i;

/** A URL inside free text (an error message, a stack). */
const URL_IN_TEXT = /[a-z][a-z\d+.-]*:\/\/[^\s"'<>]+/gi;

/**
 * `scheme://user:secret@host/db?password=secret` → `scheme://user:***@host/db?password=***`.
 * The one place that hides credentials in a URL, for logs, config problems and terminals. Works
 * on strings that do not parse as URLs (a rejected configuration value); does not normalise the
 * rest, so what is shown is what was given.
 */
export function redactUrl(raw: string): string {
  // Query first: a raw `@` in a query value would otherwise end the user-info match there.
  return raw.replace(SECRET_QUERY_PARAM, `$1${REDACTED}`).replace(USERINFO_PASSWORD, `$1:${REDACTED}@`);
}

/** `text` with every URL in it passed through `redactUrl`. */
export function redactUrlsInText(text: string): string {
  return text.includes("://") ? text.replace(URL_IN_TEXT, redactUrl) : text;
}
