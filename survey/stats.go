package survey

import (
	"math"
	"sort"
)

// Statistics for comparing two groups (DESIGN.md "Statistics"): Mann-Whitney
// U from binned counts, Cliff's δ, and Benjamini-Hochberg correction.

// MaxExactPairs is the largest n₁·n₂ for which the exact permutation p is computed.
const MaxExactPairs = 400

// Comparison is the result of a Mann-Whitney U test of group 1 against group 2.
type Comparison struct {
	// Valid is false when either group is empty or every observation is
	// tied (no variance): then nothing below is meaningful.
	Valid    bool
	N1, N2   int
	U1, U2   float64 // U1 counts pairs where group 1 is higher, ties as ½
	Variance float64 // of U under H0, tie-corrected
	Z        float64 // (U1 − n₁n₂/2) / √Variance, no continuity correction
	P        float64 // two-sided, normal approximation
	// ExactP is the two-sided permutation p (P(|U − n₁n₂/2| ≥ observed))
	// conditional on the observed ties; valid only when n₁n₂ ≤ MaxExactPairs.
	ExactP    Value
	Delta     float64 // Cliff's δ = 2·U1/(n₁n₂) − 1, positive when group 1 is higher
	Magnitude string  // of |δ|: negligible, small, medium, large
}

// Cliff's δ magnitude bands.
const (
	DeltaNegligible = "negligible"
	DeltaSmall      = "small"
	DeltaMedium     = "medium"
	DeltaLarge      = "large"
)

// DeltaMagnitude names the size of Cliff's δ: |δ| < 0.147 negligible,
// < 0.33 small, < 0.474 medium, else large.
func DeltaMagnitude(delta float64) string {
	d := math.Abs(delta)
	switch {
	case d < 0.147:
		return DeltaNegligible
	case d < 0.33:
		return DeltaSmall
	case d < 0.474:
		return DeltaMedium
	}
	return DeltaLarge
}

// MannWhitney compares two histograms over the same ordered bins (ascending
// value, e.g. Histogram.ByScore: scores 0, 25, 50, 75, 100) using mid-ranks.
// The shorter histogram is padded with empty bins.
func MannWhitney(a, b []int) Comparison {
	nb := max(len(a), len(b))
	ca := make([]int, nb)
	cb := make([]int, nb)
	copy(ca, a)
	copy(cb, b)
	c := Comparison{}
	for i := range nb {
		c.N1 += ca[i]
		c.N2 += cb[i]
	}
	if c.N1 == 0 || c.N2 == 0 {
		return c
	}
	n1, n2 := float64(c.N1), float64(c.N2)
	n := n1 + n2
	// Mid-ranks per bin; rank sum of group 1; tie term Σ(t³ − t).
	midRanks := make([]float64, nb)
	var r1, ties float64
	below := 0
	for i := range nb {
		t := ca[i] + cb[i]
		midRanks[i] = float64(below) + float64(t+1)/2
		r1 += float64(ca[i]) * midRanks[i]
		ft := float64(t)
		ties += ft*ft*ft - ft
		below += t
	}
	c.U1 = r1 - n1*(n1+1)/2
	c.U2 = n1*n2 - c.U1
	c.Delta = 2*c.U1/(n1*n2) - 1
	c.Magnitude = DeltaMagnitude(c.Delta)
	c.Variance = n1 * n2 / 12 * ((n + 1) - ties/(n*(n-1)))
	if c.Variance <= 0 {
		return c // all tied: no test possible
	}
	c.Valid = true
	c.Z = (c.U1 - n1*n2/2) / math.Sqrt(c.Variance)
	c.P = math.Erfc(math.Abs(c.Z) / math.Sqrt2)
	if c.N1*c.N2 <= MaxExactPairs {
		c.ExactP = Value{V: exactP(ca, cb, midRanks, r1), Valid: true}
	}
	return c
}

// exactP enumerates, bin by bin, how many of group 1's n₁ observations can
// fall in each bin (multivariate hypergeometric given the pooled counts) and
// sums the probability of rank sums at least as far from their mean as the
// observed one. Rank sums are doubled to stay integral (mid-ranks are halves).
func exactP(a, b []int, midRanks []float64, r1 float64) float64 {
	n1 := 0
	for _, x := range a {
		n1 += x
	}
	// ways[k][s] = number of ways to place k of group 1 with doubled rank sum s.
	type key struct{ k, s int }
	ways := map[key]float64{{0, 0}: 1}
	for i := range a {
		t := a[i] + b[i]
		r2 := int(math.Round(2 * midRanks[i]))
		next := map[key]float64{}
		for st, w := range ways {
			for x := 0; x <= t && st.k+x <= n1; x++ {
				next[key{st.k + x, st.s + x*r2}] += w * binom(t, x)
			}
		}
		ways = next
	}
	var total, extreme float64
	var nAll int
	for i := range a {
		nAll += a[i] + b[i]
	}
	mean2 := float64(n1) * float64(nAll+1) // doubled expected rank sum
	obs := math.Abs(2*r1 - mean2)
	for st, w := range ways {
		if st.k != n1 {
			continue
		}
		total += w
		if math.Abs(float64(st.s)-mean2) >= obs-1e-9 {
			extreme += w
		}
	}
	return extreme / total
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// Run is a value and how often it occurs in a sample.
type Run struct {
	V float64
	N int
}

// Runs is a sorted sample as its distinct values with their counts.
func Runs(sorted []float64) []Run {
	var out []Run
	for _, v := range sorted {
		if len(out) > 0 && out[len(out)-1].V == v {
			out[len(out)-1].N++
		} else {
			out = append(out, Run{v, 1})
		}
	}
	return out
}

// MannWhitneyRuns is MannWhitneyValues from the two samples' runs, each
// in increasing order of value: ranks need only the counts of tied values.
func MannWhitneyRuns(a, b []Run) Comparison {
	ha := make([]int, 0, len(a)+len(b))
	hb := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].V < b[j].V:
			ha, hb = append(ha, a[i].N), append(hb, 0)
			i++
		case i == len(a) || b[j].V < a[i].V:
			ha, hb = append(ha, 0), append(hb, b[j].N)
			j++
		default:
			ha, hb = append(ha, a[i].N), append(hb, b[j].N)
			i++
			j++
		}
	}
	return MannWhitney(ha, hb)
}

// BenjaminiHochberg adjusts p-values for the false discovery rate: the
// adjusted q-value of the i-th smallest of m p-values is
// min over j ≥ i of p₍ⱼ₎·m/j, capped at 1; a test is significant when its
// q-value is ≤ q (the step-up procedure). Results are in input order.
func BenjaminiHochberg(p []float64, q float64) (adjusted []float64, significant []bool) {
	m := len(p)
	adjusted = make([]float64, m)
	significant = make([]bool, m)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return p[order[i]] < p[order[j]] })
	running := 1.0
	for r := m - 1; r >= 0; r-- {
		i := order[r]
		v := p[i] * float64(m) / float64(r+1)
		if v < running {
			running = v
		}
		adjusted[i] = running
		significant[i] = running <= q
	}
	return adjusted, significant
}
