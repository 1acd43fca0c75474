package manifest

import (
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// The rules of single string keys, which the key table (keys.go) names as
// each key's check. Each reports what is wrong and returns nil, or returns
// the decoded value.

func checkTimezone(p *parser, vn *yaml.Node, path, s string) *value {
	if s == "" || s == "Local" || strings.EqualFold(s, "local") {
		p.errorf(vn, path, "%q is not allowed; name an IANA zone like UTC or Europe/Berlin", s)
		return nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		// A zone in the wrong case works on case-insensitive file
		// systems (macOS) and nowhere else: use the right name
		// everywhere, and say so.
		if z := zoneInOtherCase(s); z != "" {
			p.warnf(vn, path, "zone names are case-sensitive: %q is read as %q; write it so", s, z)
			loc, _ := time.LoadLocation(z)
			return &value{v: loc}
		}
		p.errorf(vn, path, "unknown time zone %q; use an IANA name like UTC, Europe/Berlin or America/New_York", diag.Truncate(s, 60))
		return nil
	}
	if hint := fixedOffsetZone(s, loc); hint != "" {
		p.warnf(vn, path, "%s", hint)
	}
	return &value{v: loc}
}

func checkBaseURL(p *parser, vn *yaml.Node, path, s string) *value {
	if problem := templURLProblem(s, true); problem != "" {
		p.errorf(vn, path, "%s", problem)
		return nil
	}
	if strings.ContainsAny(s, "?#") {
		p.errorf(vn, path, "%q must not have a query or fragment; path is appended to it", s)
		return nil
	}
	return &value{v: s}
}

func checkURL(p *parser, vn *yaml.Node, path, s string) *value {
	if problem := templURLProblem(s, true); problem != "" {
		p.errorf(vn, path, "%s", problem)
		return nil
	}
	return &value{v: s}
}

func checkPath(p *parser, vn *yaml.Node, path, s string) *value {
	if !strings.HasPrefix(s, "/") {
		p.errorf(vn, path, "%s", diag.Want(`a path starting with "/"`, strconv.Quote(diag.Truncate(s, 60))))
		return nil
	}
	return &value{v: s}
}

// checkJobRef: "" (none) or a job name.
func checkJobRef(p *parser, vn *yaml.Node, path, s string) *value {
	if s != "" && !jobNameRE.MatchString(s) {
		p.errorf(vn, path, "%s", diag.Want("a job name", strconv.Quote(diag.Truncate(s, 70))))
		return nil
	}
	return &value{v: s}
}

func checkSchedule(p *parser, vn *yaml.Node, path, s string) *value {
	if strings.TrimSpace(s) == "" {
		p.errorf(vn, path, `empty; give a cron expression like "0 9 * * *" or remove the key`)
		return nil
	}
	return &value{v: s}
}
