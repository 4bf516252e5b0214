package survey

import "sort"

// Suppression (DESIGN.md "Anonymity", point 4): the one place deciding what a
// breakdown or filtered view may show.

// MinK is the floor of the anonymity threshold, whatever a campaign configures.
const MinK = 3

// EffectiveK is the threshold actually applied: k, but never below MinK.
func EffectiveK(k int) int { return max(k, MinK) }

// SuppressGroups decides which groups of a breakdown are hidden (true).
//
//   - If the breakdown's total is below k, every group is hidden (the whole
//     view must not be shown).
//   - A group with fewer than k responses is hidden.
//   - Complementary suppression: if exactly one non-empty group is hidden, the
//     total minus the visible groups would give its count (and its scores), so
//     the next-smallest visible non-empty group is hidden too (ties broken by
//     key). Then only the hidden groups' sum is derivable, never one group's;
//     and more are hidden, smallest first, until that sum is at least k, so
//     the sum describes no fewer than k people either.
//
// Empty groups (n = 0) are hidden but do not count as the complementary
// group: they hide nobody. Every key of counts appears in the result.
func SuppressGroups(counts map[string]int, k int) map[string]bool {
	k = EffectiveK(k)
	hidden := make(map[string]bool, len(counts))
	total := 0
	for _, n := range counts {
		total += n
	}
	hiddenNonEmpty, hiddenSum := 0, 0
	var visible []string
	for key, n := range counts {
		switch {
		case total < k || n < k:
			hidden[key] = true
			if n > 0 {
				hiddenNonEmpty++
				hiddenSum += n
			}
		default:
			hidden[key] = false
			visible = append(visible, key)
		}
	}
	// Hide the next-smallest visible groups until the hidden ones together
	// hold at least k people: then neither one hidden group nor their sum
	// describes fewer than k.
	sort.Slice(visible, func(i, j int) bool {
		a, b := visible[i], visible[j]
		if counts[a] != counts[b] {
			return counts[a] < counts[b]
		}
		return a < b
	})
	for _, v := range visible {
		if hiddenNonEmpty == 0 || hiddenNonEmpty >= 2 && hiddenSum >= k {
			break
		}
		hidden[v] = true
		hiddenNonEmpty++
		hiddenSum += counts[v]
	}
	return hidden
}

// AllowFilter reports whether a filtered view of filteredN responses may be
// shown given an already visible superset view of supersetN responses: it
// needs at least k responses itself, and must differ from the superset by 0
// (the same respondents) or by at least k — otherwise the difference of the
// two views would describe fewer than k people. A "superset" smaller than the
// filtered view is a caller error and is refused.
func AllowFilter(filteredN, supersetN, k int) bool {
	k = EffectiveK(k)
	if filteredN < k {
		return false
	}
	diff := supersetN - filteredN
	return diff == 0 || diff >= k
}
