package spec

import (
	"fmt"
	"math"
	"time"
)

// durationUnits are the units ParseDuration accepts, matching the schema's
// renewBefore pattern ^([0-9]+(d|h|m))+$.
var durationUnits = map[byte]time.Duration{
	'd': 24 * time.Hour,
	'h': time.Hour,
	'm': time.Minute,
}

// ParseDuration parses a renewBefore duration: a sum of whole days (d), hours
// (h) and minutes (m), e.g. "30d", "720h", "1d12h", "90m".
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration; write e.g. 30d, 720h or 1d12h")
	}
	var total time.Duration
	for i := 0; i < len(s); {
		start := i
		var n int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if n > (math.MaxInt64-9)/10 {
				return 0, fmt.Errorf("duration %q is too large", s)
			}
			n = n*10 + int64(s[i]-'0')
			i++
		}
		if i == start {
			return 0, fmt.Errorf("invalid duration %q: expected a number at %q; write e.g. 30d, 720h or 1d12h", s, s[i:])
		}
		if i == len(s) {
			return 0, fmt.Errorf("invalid duration %q: missing unit after %d (d, h or m)", s, n)
		}
		unit, ok := durationUnits[s[i]]
		if !ok {
			return 0, fmt.Errorf("invalid duration %q: unknown unit %q (use d, h or m)", s, s[i])
		}
		i++
		if n > int64(math.MaxInt64/unit) {
			return 0, fmt.Errorf("duration %q is too large", s)
		}
		part := time.Duration(n) * unit
		if total > math.MaxInt64-part {
			return 0, fmt.Errorf("duration %q is too large", s)
		}
		total += part
	}
	return total, nil
}
