package github_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cronrelay/cronrelay/internal/github"
)

func TestNewClientBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		apiURL  string
		want    string
		wantErr string
	}{
		{apiURL: "", want: "https://api.github.com/"},
		{apiURL: "https://api.github.com", want: "https://api.github.com/"},
		{apiURL: "https://ghe.example/api/v3", want: "https://ghe.example/api/v3/"},
		{apiURL: "https://ghe.example/api/v3/", want: "https://ghe.example/api/v3/"},
		{apiURL: "http://127.0.0.1:8080/prefix/api", want: "http://127.0.0.1:8080/prefix/api/"},
		{apiURL: "ghe.example/api/v3", wantErr: `API URL "ghe.example/api/v3": want an https or http URL like "https://ghe.example/api/v3", got scheme ""`},
		{apiURL: "ftp://ghe.example/", wantErr: `want an https or http URL like "https://ghe.example/api/v3", got scheme "ftp"`},
		{apiURL: "https:///api/v3", wantErr: "no host"},
		{apiURL: "https://user:secret@ghe.example/api/v3", wantErr: "must not carry credentials"},
		{apiURL: "https://ghe.example/api/v3?x=1", wantErr: "must not have a query"},
		{apiURL: "https://ghe.example/%zz", wantErr: `API URL "https://ghe.example/%zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.apiURL, func(t *testing.T) {
			t.Parallel()
			c, err := github.NewClient(nil, tt.apiURL, "tok")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.BaseURL.String()); diff != "" {
				t.Errorf("BaseURL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewClientToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, token, wantErr string
	}{
		{name: "empty", token: "", wantErr: "no token"},
		{name: "newline", token: "ghs_abc\n", wantErr: "white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := github.NewClient(nil, "", tt.token)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestNewClientRequests checks that requests keep the base path and carry
// the token.
func TestNewClientRequests(t *testing.T) {
	t.Parallel()
	var gotPath, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"full_name":"o/r"}`))
	}))
	t.Cleanup(srv.Close)
	c, err := github.NewClient(srv.Client(), srv.URL+"/api/v3", "ghs_token")
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := c.Repositories.Get(context.Background(), "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{gotPath, gotAuth, repo.GetFullName()}
	if diff := cmp.Diff([]string{"/api/v3/repos/o/r", "Bearer ghs_token", "o/r"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBlobSHA(t *testing.T) {
	t.Parallel()
	// Values from `git hash-object`.
	tests := map[string]string{
		"":        "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
		"hello\n": "ce013625030ba8dba906f756967f9e9ca394464a",
	}
	for in, want := range tests {
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(want, github.BlobSHA([]byte(in))); diff != "" {
				t.Errorf("BlobSHA(%q) (-want +got):\n%s", in, diff)
			}
		})
	}
}
