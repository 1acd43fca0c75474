// Package version holds what the build stamps in with -ldflags -X.
package version

import "runtime"

// Set at build time: -X github.com/cronrelay/cronrelay/internal/version.Version=v1.2.3
var (
	Version = "dev"
	Commit  = "none"
)

// GoVersion is the Go release the binary was built with.
func GoVersion() string { return runtime.Version() }

// UserAgent is the User-Agent of every delivery.
func UserAgent() string { return "cronrelay/" + Version }
