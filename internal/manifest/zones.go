package manifest

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// zoneInOtherCase returns the zone name s means when written in the wrong
// case ("europe/berlin", "AMERICA/NEW_YORK", "utc"), or "". Zone names are
// file names in the tz database, so they are case-sensitive; rather than
// ship a list of them, it tries the spellings the database uses: all
// capitals (UTC, EST5EDT) and words capitalised (Europe/Berlin,
// America/Port_of_Spain).
func zoneInOtherCase(s string) string {
	if len(s) > 64 || strings.ContainsAny(s, ". \\") {
		return ""
	}
	lower := strings.ToLower(s)
	candidates := []string{strings.ToUpper(s), capitalise(lower, false), capitalise(lower, true)}
	for _, c := range candidates {
		if c == s {
			continue
		}
		if _, err := time.LoadLocation(c); err == nil {
			return c
		}
	}
	return ""
}

// capitalise upper-cases the first letter of each word, words being split
// by "/", "_" and "-". With smallWords, "of", "au" and "es" stay lower
// case (America/Port_of_Spain, America/Port-au-Prince,
// America/Dar_es_Salaam).
func capitalise(s string, smallWords bool) string {
	var b strings.Builder
	start := true
	for i, r := range s {
		if start && !(smallWords && isSmallWord(s[i:])) {
			r = unicode.ToUpper(r)
		}
		b.WriteRune(r)
		start = r == '/' || r == '_' || r == '-'
	}
	return b.String()
}

func isSmallWord(rest string) bool {
	for _, w := range []string{"of_", "au-", "es_"} {
		if strings.HasPrefix(rest, w) {
			return true
		}
	}
	return false
}

// fixedZones are the tz database's abbreviation-named zones with a fixed
// offset, and the zone people usually mean by them.
var fixedZones = map[string]string{
	"EST": "America/New_York",
	"MST": "America/Denver (or America/Phoenix, which has no daylight saving)",
	"HST": "Pacific/Honolulu",
}

// fixedOffsetZone returns a warning for a zone that is a fixed offset
// under a name that reads like a region's time (EST, MST, HST, Etc/GMT+5):
// it never moves to daylight saving time, so a job at 09:00 "EST" runs at
// 10:00 New York time all summer.
func fixedOffsetZone(name string, loc *time.Location) string {
	off := offsetText(loc)
	if mean, ok := fixedZones[name]; ok {
		return fmt.Sprintf("%q is a fixed offset (%s) with no daylight saving time; for the time people keep there, use %s", name, off, mean)
	}
	if rest, ok := strings.CutPrefix(name, "Etc/GMT"); ok && rest != "" && rest != "0" && rest != "+0" && rest != "-0" {
		return fmt.Sprintf("%q is a fixed offset (%s, the sign is inverted in Etc/GMT names) with no daylight saving time; if you mean a place, use its zone, e.g. Europe/Berlin or America/New_York", name, off)
	}
	return ""
}

func offsetText(loc *time.Location) string {
	_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, off/3600, off%3600/60)
}
