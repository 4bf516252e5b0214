package survey

import (
	"math"
	"testing"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestMannWhitneyWorkedExampleFromDesign(t *testing.T) {
	seniors := []int{0, 1, 1, 3, 3}
	others := []int{2, 4, 3, 2, 1}
	c := MannWhitney(seniors, others)
	if !c.Valid || c.N1 != 8 || c.N2 != 12 {
		t.Fatalf("comparison = %+v", c)
	}
	checks := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"U_S = 76", c.U1, 76, 1e-9},
		{"U_R = n1n2 - U_S = 20", c.U2, 20, 1e-9},
		{"Cliff's delta = 0.583", c.Delta, 0.583, 5e-4},
		{"tie-corrected variance = 160.295", c.Variance, 160.295, 5e-4},
		{"z = 2.212", c.Z, 2.212, 5e-4},
		{"two-sided normal p = 0.027", c.P, 0.027, 5e-4},
		{"exact permutation p = 0.035", c.ExactP.V, 0.035, 5e-4},
	}
	for _, ck := range checks {
		if !near(ck.got, ck.want, ck.tol) {
			t.Errorf("%s: got %.6f", ck.name, ck.got)
		}
	}
	if !c.ExactP.Valid {
		t.Error("n1n2 = 96 <= 400: exact p must be computed")
	}
	if c.Magnitude != DeltaLarge {
		t.Errorf("magnitude = %q, want large", c.Magnitude)
	}
	// Swapping the groups mirrors U, z and delta and keeps p.
	s := MannWhitney(others, seniors)
	if s.U1 != 20 || !near(s.Z, -c.Z, 1e-12) || !near(s.Delta, -c.Delta, 1e-12) || !near(s.P, c.P, 1e-12) || !near(s.ExactP.V, c.ExactP.V, 1e-12) {
		t.Errorf("swapped = %+v", s)
	}
}

func TestMannWhitneyHandComputedCases(t *testing.T) {
	tests := []struct {
		name      string
		a, b      []int
		valid     bool
		u1, delta float64
		variance  float64
		exactP    float64 // <0: don't check
	}{
		// a = {3,4}, b = {1,2}: every pair favours a. U = 4, var = 2·2·5/12,
		// exact p = 2 of C(4,2) = 6 arrangements as extreme.
		{"no ties, complete separation gives U = n1n2 and delta 1", []int{0, 0, 1, 1}, []int{1, 1, 0, 0}, true, 4, 1, 20.0 / 12, 2.0 / 6},
		// a = {1,4}, b = {2,3}: pairs a>b: 4>2, 4>3 → U = 2, delta 0, z 0, p 1.
		{"no ties, interleaved gives U = n1n2/2 and p = 1", []int{1, 0, 0, 1}, []int{0, 1, 1, 0}, true, 2, 0, 20.0 / 12, 1},
		{"all tied has no variance and is not computable", []int{0, 3, 0}, []int{0, 2, 0}, false, 3, 0, 0, -1},
		{"one group empty is not computable", []int{0, 0, 0, 0, 0}, []int{1, 2, 0, 0, 1}, false, 0, 0, 0, -1},
		{"both groups empty is not computable", nil, nil, false, 0, 0, 0, -1},
		// a = {x,x} at bin 1, b = {bin0, bin1}: pooled bins (1,3): midranks 1, 3.
		// R1 = 6, U1 = 6 − 3 = 3; var = 4/12·(5 − 24/12) = 1.
		{"ties use mid-ranks and the tie-corrected variance", []int{0, 2}, []int{1, 1}, true, 3, 0.5, 1, 1},
		{"histograms of different length are padded", []int{0, 2}, []int{1, 1, 0, 0}, true, 3, 0.5, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := MannWhitney(tc.a, tc.b)
			if c.Valid != tc.valid {
				t.Fatalf("valid = %v, want %v (%+v)", c.Valid, tc.valid, c)
			}
			if !tc.valid && (c.N1 == 0 || c.N2 == 0) {
				return
			}
			if !near(c.U1, tc.u1, 1e-9) || !near(c.Delta, tc.delta, 1e-9) || !near(c.Variance, tc.variance, 1e-9) {
				t.Errorf("U1 %.4f delta %.4f var %.4f, want %.4f %.4f %.4f", c.U1, c.Delta, c.Variance, tc.u1, tc.delta, tc.variance)
			}
			if tc.exactP >= 0 && (!c.ExactP.Valid || !near(c.ExactP.V, tc.exactP, 1e-9)) {
				t.Errorf("exact p = %+v, want %.4f", c.ExactP, tc.exactP)
			}
			if c.Valid && (math.IsNaN(c.P) || c.P < 0 || c.P > 1) {
				t.Errorf("p = %v", c.P)
			}
		})
	}
}

func TestMannWhitneyExactPIsSkippedAboveFourHundredPairs(t *testing.T) {
	c := MannWhitney([]int{5, 5, 5, 5, 1}, []int{5, 5, 5, 5, 2}) // 21 × 22 = 462
	if !c.Valid || c.ExactP.Valid {
		t.Errorf("n1n2 = 462: want a valid test without exact p, got %+v", c)
	}
}

func TestMannWhitneyValuesBinsDistinctValues(t *testing.T) {
	// Same data as the worked example, as raw scores.
	var s, r []float64
	add := func(dst *[]float64, h []int) {
		for i, n := range h {
			for range n {
				*dst = append(*dst, float64(i)*25)
			}
		}
	}
	add(&s, []int{0, 1, 1, 3, 3})
	add(&r, []int{2, 4, 3, 2, 1})
	c := MannWhitneyValues(s, r)
	if c.U1 != 76 || !near(c.Variance, 160.295, 5e-4) {
		t.Errorf("values version disagrees with histogram version: %+v", c)
	}
}

func TestCliffDeltaMagnitudeBands(t *testing.T) {
	tests := []struct {
		delta float64
		want  string
	}{
		{0, DeltaNegligible}, {0.146, DeltaNegligible}, {-0.146, DeltaNegligible},
		{0.147, DeltaSmall}, {-0.329, DeltaSmall},
		{0.33, DeltaMedium}, {0.473, DeltaMedium},
		{0.474, DeltaLarge}, {-1, DeltaLarge},
	}
	for _, tc := range tests {
		if got := DeltaMagnitude(tc.delta); got != tc.want {
			t.Errorf("|δ| band of %v = %q, want %q", tc.delta, got, tc.want)
		}
	}
}

func TestBenjaminiHochberg(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		adj  []float64
		sig  []bool
	}{
		{"empty input gives empty output", nil, []float64{}, []bool{}},
		{"a single p-value is unchanged", []float64{0.03}, []float64{0.03}, []bool{true}},
		// sorted: .01 .02 .03 .04 .5 → ×5/rank: .05 .05 .05 .05 .5
		{"step-up makes q-values monotone and keeps input order",
			[]float64{0.04, 0.5, 0.01, 0.03, 0.02},
			[]float64{0.05, 0.5, 0.05, 0.05, 0.05},
			[]bool{true, false, true, true, true}},
		// .01 ×3 = .03; .04 ×3/2 = .06; .045 ×1 = .045 → min from right: .03, .045, .045
		{"a larger p-value can rescue a smaller one",
			[]float64{0.045, 0.01, 0.04},
			[]float64{0.045, 0.03, 0.045},
			[]bool{true, true, true}},
		{"q-values are never below p", []float64{0.9, 0.8}, []float64{0.9, 0.9}, []bool{false, false}},
		{"ties share the same q-value", []float64{0.02, 0.02, 0.2}, []float64{0.03, 0.03, 0.2}, []bool{true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			adj, sig := BenjaminiHochberg(tc.p, 0.05)
			if len(adj) != len(tc.adj) || len(sig) != len(tc.sig) {
				t.Fatalf("lengths %d %d", len(adj), len(sig))
			}
			for i := range adj {
				if !near(adj[i], tc.adj[i], 1e-12) || sig[i] != tc.sig[i] {
					t.Errorf("[%d] p=%v: q=%v sig=%v, want %v %v", i, tc.p[i], adj[i], sig[i], tc.adj[i], tc.sig[i])
				}
			}
		})
	}
}
