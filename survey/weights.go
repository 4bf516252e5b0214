package survey

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Section weights scale recommendation priority per campaign (DESIGN.md
// "Recommendations"): equal by default; an organisation that cares more
// about, say, retention gives that section 2. Stored on the campaign as
// "RE=2,TS=0.5"; sections not named weigh 1.

// Weight bounds: 0 would hide a section's recommendations entirely, which a
// manager should do by reading, not by configuration.
const (
	MinSectionWeight = 0.1
	MaxSectionWeight = 10.0
)

// ParseSectionWeights reads the stored form; anything malformed weighs 1.
func ParseSectionWeights(s string) map[string]float64 {
	if s == "" {
		return nil
	}
	out := map[string]float64{}
	for _, part := range strings.Split(s, ",") {
		id, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		w, err := strconv.ParseFloat(val, 64)
		if ok && err == nil && w >= MinSectionWeight && w <= MaxSectionWeight {
			out[id] = w
		}
	}
	return out
}

// FormatSectionWeights is the stored form, sections in order, weight 1 left out.
func FormatSectionWeights(w map[string]float64) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(w)) {
		if w[id] != 1 {
			parts = append(parts, fmt.Sprintf("%s=%s", id, strconv.FormatFloat(w[id], 'f', -1, 64)))
		}
	}
	return strings.Join(parts, ",")
}

// ParseWeightField reads one typed weight: empty is 1; a comma works as the
// decimal separator (German and French keyboards). ok is false when the text
// is not a number in bounds.
func ParseWeightField(s string) (float64, bool) {
	s = strings.TrimSpace(strings.Replace(s, ",", ".", 1))
	if s == "" {
		return 1, true
	}
	w, err := strconv.ParseFloat(s, 64)
	if err != nil || !(w >= MinSectionWeight && w <= MaxSectionWeight) {
		return 0, false
	}
	return w, true
}
