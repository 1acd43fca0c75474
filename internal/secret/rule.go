package secret

import "strings"

// Use is one place a ${NAME} reference is used: the variable and the
// manifest key it appears in.
type Use struct {
	// Name is the variable, e.g. "CRON_SECRET".
	Name string
	// Key is the manifest key the reference appears in, as messages name
	// it: "url", "base_url", "path", "body", "signing_key", or
	// "headers.NAME" for a header value.
	Key string
	// Declared is true when the manifest lists Name under secrets.
	Declared bool
}

// IsSecret is the one rule that decides which substituted values are
// secret (masked in everything cronrelay prints or stores). A value is
// secret when any of these holds:
//
//   - the manifest lists its variable under secrets;
//   - its variable is named like a secret (see LooksSecret):
//     CRON_SECRET, GITHUB_TOKEN, API_KEY, DB_PASSWORD, SLACK_WEBHOOK...;
//   - it is used in signing_key;
//   - it is used in a header that carries credentials (see
//     CredentialHeader): Authorization, Cookie, X-Api-Key...
//
// Anything else is plain configuration, printed and stored as is: a base
// URL in ${APP_URL}, an environment name in X-Env: ${APP_ENV}. Masking
// those would hide nothing and turn ordinary text (a job named
// production-sync) into asterisks.
func IsSecret(u Use) bool {
	if u.Declared || LooksSecret(u.Name) || u.Key == "signing_key" {
		return true
	}
	if header, ok := strings.CutPrefix(u.Key, "headers."); ok {
		return CredentialHeader(header)
	}
	return false
}

// secretWords are the parts of a name that say it holds a secret.
var secretWords = []string{
	"SECRET", "TOKEN", "KEY", "PASSWORD", "PASSWD", "PASSPHRASE", "PWD",
	"CREDENTIAL", "AUTH", "PRIVATE", "SIGNATURE", "SIGNING", "COOKIE",
	"SESSION", "HOOK", "DSN", "SALT",
}

// LooksSecret reports whether a variable or header name is named like a
// secret: it contains, in any letter case, one of SECRET, TOKEN, KEY,
// PASSWORD, PASSWD, PASSPHRASE, PWD, CREDENTIAL, AUTH, PRIVATE,
// SIGNATURE, SIGNING, COOKIE, SESSION, HOOK (webhook URLs are
// credentials), DSN or SALT.
func LooksSecret(name string) bool {
	up := strings.ToUpper(name)
	for _, w := range secretWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	return false
}

// CredentialHeader reports whether a header's value is a credential:
// Authorization, Proxy-Authorization, Cookie, and any header named like a
// secret (X-Api-Key, X-Auth-Token, X-Hub-Signature).
func CredentialHeader(name string) bool {
	return LooksSecret(name)
}
