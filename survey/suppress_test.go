package survey

import (
	"fmt"
	"maps"
	"math/rand"
	"testing"
)

func TestSuppressGroups(t *testing.T) {
	tests := []struct {
		name   string
		counts map[string]int
		k      int
		hidden []string
	}{
		{"groups of at least k are shown", map[string]int{"a": 5, "b": 7}, 5, nil},
		{"one group below k also hides the next-smallest visible group",
			map[string]int{"a": 2, "b": 6, "c": 9, "d": 30}, 5, []string{"a", "b"}},
		{"two groups below k hide each other and nothing more",
			map[string]int{"a": 2, "b": 4, "c": 9}, 5, []string{"a", "b"}},
		{"k is never below 3 even if configured lower",
			map[string]int{"a": 2, "b": 3, "c": 4}, 1, []string{"a", "b"}},
		{"complementary ties are broken by key",
			map[string]int{"z": 1, "b": 8, "a": 8, "c": 20}, 5, []string{"z", "a"}},
		{"an empty group is hidden but is no complement for a small one",
			map[string]int{"empty": 0, "a": 3, "b": 10, "c": 12}, 5, []string{"empty", "a", "b"}},
		{"only empty groups hidden need no complement",
			map[string]int{"empty": 0, "b": 10, "c": 12}, 5, []string{"empty"}},
		{"a total below k hides everything", map[string]int{"a": 2, "b": 1}, 5, []string{"a", "b"}},
		{"a single group of at least k is shown", map[string]int{"a": 6}, 5, nil},
		{"no groups hide nothing", map[string]int{}, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SuppressGroups(tc.counts, tc.k)
			want := map[string]bool{}
			for g := range tc.counts {
				want[g] = false
			}
			for _, g := range tc.hidden {
				want[g] = true
			}
			if !maps.Equal(got, want) {
				t.Errorf("hidden = %v, want %v", got, want)
			}
		})
	}
}

// An attacker sees the visible groups' counts, the breakdown's total and
// which groups are hidden, and even knows which hidden groups are empty. The
// only equation they get is Σ hidden = total − Σ visible: one group's count
// (and so its scores) follows only if it is the only non-empty hidden group.
func TestSuppressGroupsPropertyNoHiddenGroupCanBeRecovered(t *testing.T) {
	rng := rand.New(rand.NewSource(20261101))
	complemented := 0
	for org := range 1000 {
		k := 1 + rng.Intn(8)
		counts := map[string]int{}
		for g := range 1 + rng.Intn(10) {
			switch rng.Intn(4) {
			case 0:
				counts[fmt.Sprint("g", g)] = rng.Intn(3) // tiny or empty
			case 1:
				counts[fmt.Sprint("g", g)] = rng.Intn(EffectiveK(k) + 1) // around k
			default:
				counts[fmt.Sprint("g", g)] = rng.Intn(40)
			}
		}
		hidden := SuppressGroups(counts, k)
		total := 0
		for _, n := range counts {
			total += n
		}
		if total < EffectiveK(k) {
			for g, h := range hidden {
				if !h {
					t.Fatalf("org %d: total %d < k but %s shown", org, total, g)
				}
			}
			continue // the whole view (total included) is refused
		}
		derivable := total
		var nonEmptyHidden []string
		for g, n := range counts {
			if !hidden[g] {
				if n < EffectiveK(k) {
					t.Fatalf("org %d: %s shown with %d < k=%d (%v)", org, g, n, EffectiveK(k), counts)
				}
				derivable -= n
			} else if n > 0 {
				nonEmptyHidden = append(nonEmptyHidden, g)
			}
		}
		if len(nonEmptyHidden) >= 2 {
			complemented++
		}
		if len(nonEmptyHidden) == 1 && counts[nonEmptyHidden[0]] == derivable {
			t.Fatalf("org %d: %s recovered as %d from total %d minus visible (%v → %v)",
				org, nonEmptyHidden[0], derivable, total, counts, hidden)
		}
	}
	if complemented < 100 {
		t.Errorf("only %d of 1000 organisations exercised suppression; the generator is too gentle", complemented)
	}
}

func TestSuppressFilteredViewsAllowFilter(t *testing.T) {
	tests := []struct {
		name               string
		filtered, superset int
		k                  int
		want               bool
	}{
		{"a view of at least k that differs by at least k is shown", 10, 15, 5, true},
		{"a view below k is refused", 4, 20, 5, false},
		{"a view differing from its superset by fewer than k is refused", 10, 12, 5, false},
		{"a view differing by exactly k is shown", 10, 15, 5, true},
		{"a view equal to its superset reveals nobody", 10, 10, 5, true},
		{"k is never below 3 for the view size", 2, 20, 1, false},
		{"k is never below 3 for the difference", 10, 12, 1, false},
		{"a superset smaller than the view is refused", 10, 8, 5, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := AllowFilter(tc.filtered, tc.superset, tc.k); got != tc.want {
				t.Errorf("AllowFilter(%d, %d, %d) = %v", tc.filtered, tc.superset, tc.k, got)
			}
		})
	}
}
