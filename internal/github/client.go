// Package github holds what cronrelay's GitHub-backed code shares: building
// a go-github client for a GITHUB_API_URL-style base URL, an HTTP transport
// that retries server errors and rate limits within a deadline and counts
// every API call, and helpers that classify API errors.
//
// The stores (branchstore, giststore) use the real go-github client; tests
// run it against githubfake, an in-memory fake of the REST endpoints.
package github

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v62/github"
)

// DefaultAPIURL is the REST API root used when GITHUB_API_URL is empty.
const DefaultAPIURL = "https://api.github.com/"

// NewClient returns a go-github client that sends token with every request
// and resolves paths against apiURL, the value of GITHUB_API_URL: the public
// API ("https://api.github.com"), GitHub Enterprise Server
// ("https://ghe.example/api/v3") or a test server with a path prefix. A
// trailing slash is added when missing, since go-github resolves relative
// paths against the base URL and would otherwise drop its last segment. An
// empty apiURL means DefaultAPIURL.
//
// httpClient carries the transport (usually a *Transport) and is copied, not
// modified; nil means a client with http.DefaultTransport.
//
// See https://docs.github.com/rest/authentication/authenticating-to-the-rest-api.
func NewClient(httpClient *http.Client, apiURL, token string) (*gh.Client, error) {
	if token == "" {
		return nil, errors.New("github: no token: pass the token input (it defaults to ${{ github.token }}) or set GITHUB_TOKEN")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("github: the token contains white space; check how the secret was stored")
	}
	base, err := parseAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	c := gh.NewClient(httpClient).WithAuthToken(token)
	c.BaseURL = base
	// Uploads are not used; point them at the same host rather than at
	// uploads.github.com so that nothing can leave a GHES host by accident.
	upload := *base
	c.UploadURL = &upload
	return c, nil
}

// parseAPIURL checks an API root and gives it a trailing slash.
func parseAPIURL(apiURL string) (*url.URL, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil, fmt.Errorf("github: API URL %q: %v", apiURL, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("github: API URL %q: want an https or http URL like %q, got scheme %q", apiURL, "https://ghe.example/api/v3", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("github: API URL %q: no host", apiURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("github: API URL %s: must not carry credentials; pass the token separately", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("github: API URL %q: must not have a query or fragment", apiURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// BlobSHA returns the git object id of a blob holding data: the SHA-1 of
// "blob <len>\x00<data>". The Contents API reports it as a file's sha.
//
// See https://docs.github.com/rest/git/blobs.
func BlobSHA(data []byte) string {
	h := sha1.New()
	h.Write([]byte("blob " + strconv.Itoa(len(data)) + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}
