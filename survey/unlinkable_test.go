package survey_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"gorm.io/gorm"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// Attack class 7 of issue 12: a read-only SQL user, with no secret, tries
// to pair a stored response with its invitation or participant, or with
// the order of submission. These tests play that user: on Postgres a role
// with SELECT and nothing else, on SQLite the read-only pool.

// submitRun is a campaign whose participants submitted in a shuffled order.
// Participant i's answers carry label[i], which only the test knows: it is
// how the test tells whose response is whose.
type submitRun struct {
	db       *survey.DB
	m        *survey.Model
	campaign int64
	rs       []*survey.Respondent // by participant, in the order of the links
	label    []int                // participant → label in the answers
	order    []int                // participants in the order they submitted
	answers  [][]byte             // participant → packed answers submitted
}

// labelDigits: the label is written in base 5 into the intention answers
// of the first labelDigits practices.
const labelDigits = 4

func labelAnswers(m *survey.Model, label, salt int) []survey.Answer {
	ps := m.Practices()
	var as []survey.Answer
	for d, v := 0, label; d < labelDigits; d, v = d+1, v/5 {
		as = append(as, survey.Answer{Practice: ps[d].ID, Dimension: survey.Intention, Level: survey.AnswerValue(v%5 + 1)})
	}
	for i, p := range ps[labelDigits : labelDigits+10] {
		as = append(as, survey.Answer{Practice: p.ID, Dimension: survey.Reality, Level: survey.AnswerValue(1 + (salt+i)%5)})
	}
	return as
}

func labelOf(m *survey.Model, answers []byte) int {
	label, scale := 0, 1
	for d := range labelDigits {
		label += (int(answers[m.Slot(m.Practices()[d], survey.Intention)]) - 1) * scale
		scale *= 5
	}
	return label
}

// submitAll lets n participants submit in a shuffled order, with a release
// after every publishEvery submits (0: none) and at the end.
func submitAll(t *testing.T, dialect string, n, publishEvery int) *submitRun {
	t.Helper()
	ctx := context.Background()
	db, m, rs := respondents(t, dialect, n)
	run := &submitRun{db: db, m: m, campaign: rs[0].Campaign.ID, rs: rs, label: mrand.Perm(n), order: mrand.Perm(n), answers: make([][]byte, n)}
	saver := survey.NewSaver(db)
	defer saver.Close()
	publish := func() {
		if _, err := survey.PublishRelease(ctx, db, testSecret, run.campaign); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	for k, i := range run.order {
		r := rs[i]
		if _, err := survey.StartDraft(ctx, db, m, r, r.Prefilled()); err != nil {
			t.Fatal(err)
		}
		slots, err := m.Slots(labelAnswers(m, run.label[i], k))
		if err != nil {
			t.Fatal(err)
		}
		if err := saver.Save(ctx, r.DraftKey, slots); err != nil {
			t.Fatal(err)
		}
		d, err := survey.LoadDraft(ctx, db, r.DraftKey)
		if err != nil {
			t.Fatal(err)
		}
		run.answers[i] = d.Answers
		if err := survey.Submit(ctx, db, testSecret, r); err != nil {
			t.Fatal(err)
		}
		if publishEvery > 0 && (k+1)%publishEvery == 0 {
			publish()
		}
	}
	if publishEvery > 0 {
		publish()
	}
	return run
}

// owner maps a response's answers to the participant who gave them.
func (run *submitRun) owner(t *testing.T, answers []byte) int {
	t.Helper()
	l := labelOf(run.m, answers)
	for i, li := range run.label {
		if li == l {
			return i
		}
	}
	t.Fatalf("a response with unknown label %d", l)
	return -1
}

// readOnly returns a connection that can read every table and nothing
// more: on Postgres a new role granted SELECT only, on SQLite the
// query_only pool.
func readOnly(t *testing.T, db *survey.DB) *gorm.DB {
	t.Helper()
	if db.Dialect != "postgres" {
		return db.Read
	}
	var dbName string
	if err := db.Write.Raw("SELECT current_database()").Scan(&dbName).Error; err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	role, password := "reader_"+hex.EncodeToString(b), hex.EncodeToString(b)
	for _, s := range []string{
		"CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'",
		"GRANT CONNECT ON DATABASE " + dbName + " TO " + role,
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role,
	} {
		if err := db.Write.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	u, err := url.Parse(os.Getenv(surveytest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	u.User, u.Path = url.UserPassword(role, password), "/"+dbName
	reader, err := survey.Open(u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		reader.Close()
		db.Write.Exec("DROP OWNED BY " + role)
		db.Write.Exec("DROP ROLE " + role)
	})
	if err := reader.Write.Exec("DELETE FROM invitations WHERE false").Error; err == nil {
		t.Fatal("the reader role can write: the test would not show what a read-only user sees")
	}
	return reader.Read
}

// On Postgres the pending row and the completed invitation are written by
// the same transaction, so they share xmin: a read-only user pairs them.
// What the pair gives is ciphertext, and responses holds nothing of the
// submit until a release.
func TestReadOnlyReaderPairsAnInvitationWithCiphertextOnly(t *testing.T) {
	run := submitAll(t, "postgres", 12, 0)
	reader := readOnly(t, run.db)
	var pairs []struct {
		ParticipantID int64
		Sealed        []byte
	}
	if err := reader.Raw(`SELECT i.participant_id, p.sealed FROM pending_responses p JOIN invitations i ON p.xmin = i.xmin`).Scan(&pairs).Error; err != nil {
		t.Fatal(err)
	}
	if len(pairs) != len(run.rs) {
		t.Errorf("xmin pairs %d pending rows with invitations, expected all %d: the test does not reach what it means to", len(pairs), len(run.rs))
	}
	var all [][]byte
	if err := reader.Raw(`SELECT sealed FROM pending_responses`).Scan(&all).Error; err != nil {
		t.Fatal(err)
	}
	for _, sealed := range append(all, func() (s [][]byte) {
		for _, p := range pairs {
			s = append(s, p.Sealed)
		}
		return s
	}()...) {
		for i, a := range run.answers {
			if bytes.Contains(sealed, a) || bytes.Contains(sealed, a[:16]) {
				t.Errorf("a pending row holds participant %d's answers in the clear", i)
			}
		}
	}
	var linked int64
	if err := reader.Raw(`SELECT count(*) FROM responses r JOIN invitations i ON r.xmin = i.xmin`).Scan(&linked).Error; err != nil {
		t.Fatal(err)
	}
	if linked != 0 {
		t.Errorf("%d responses share xmin with an invitation", linked)
	}
}

// spearman is the rank correlation of two orderings of the same items:
// pos[i] is item seq[i]'s position in the other ordering.
func spearman(seq []int, pos map[int]int) float64 {
	n := float64(len(seq))
	if n < 3 {
		return 0
	}
	// Ranks in the other ordering among the items present here.
	other := append([]int(nil), seq...)
	sort.Slice(other, func(a, b int) bool { return pos[other[a]] < pos[other[b]] })
	rank := map[int]int{}
	for r, it := range other {
		rank[it] = r
	}
	var d2 float64
	for r, it := range seq {
		d := float64(r - rank[it])
		d2 += d * d
	}
	return 1 - 6*d2/(n*(n*n-1))
}

// The whole attack on stored responses: after 200 submits, released every
// 10, a read-only user pairs no response with its invitation through
// xmin, finds the responses stored in an order unrelated to the order of
// submission, and no column of responses equals or orders with a column of
// invitations or participants so as to pair a response with its owner,
// nor does the profile as a whole.
func TestReadOnlyReaderCannotLinkStoredResponses(t *testing.T) {
	const n, every = 200, 10
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			run := submitAll(t, dialect, n, every)
			reader := readOnly(t, run.db)
			var released int64
			if err := reader.Raw("SELECT count(*) FROM responses WHERE campaign_id = ?", run.campaign).Scan(&released).Error; err != nil {
				t.Fatal(err)
			}
			if released < int64(n)*9/10 {
				t.Fatalf("%d of %d responses released: the test needs most of them", released, n)
			}
			submittedAt := map[int]int{} // participant → position in the order of submission
			for k, i := range run.order {
				submittedAt[i] = k
			}

			// (a) xmin: the release's transaction wrote the responses, not the submits'.
			if dialect == "postgres" {
				var pairs int64
				if err := reader.Raw(`SELECT count(*) FROM responses r JOIN invitations i ON r.xmin = i.xmin`).Scan(&pairs).Error; err != nil {
					t.Fatal(err)
				}
				if pairs != 0 {
					t.Errorf("%d responses share xmin with an invitation", pairs)
				}
			}

			// (b) storage order against the order of submission.
			// The natural scan has no WHERE, which could make it an index scan.
			orders := map[string]string{
				"natural scan": "SELECT campaign_id, answers FROM responses",
				"id":           "SELECT campaign_id, answers FROM responses ORDER BY id",
			}
			if dialect == "postgres" {
				orders["ctid"] = "SELECT campaign_id, answers FROM responses ORDER BY ctid"
			} else if reader.Exec("SELECT rowid FROM responses LIMIT 1").Error == nil {
				orders["rowid"] = "SELECT campaign_id, answers FROM responses ORDER BY rowid"
			}
			for name, q := range orders {
				var rows []struct {
					CampaignID int64
					Answers    []byte
				}
				if err := reader.Raw(q).Scan(&rows).Error; err != nil {
					t.Fatal(err)
				}
				var seq []int
				for _, r := range rows {
					if r.CampaignID == run.campaign {
						seq = append(seq, run.owner(t, r.Answers))
					}
				}
				rho := spearman(seq, submittedAt)
				t.Logf("responses in %s order: Spearman rho with the order of submission %.3f (n=%d)", name, rho, len(seq))
				if rho > 0.25 || rho < -0.25 {
					t.Errorf("responses in %s order follow the order of submission: rho = %.3f", name, rho)
				}
			}

			// (c) columns of responses against columns of invitations and participants.
			resps := tableRowsAsText(t, reader, "responses", run.campaign)
			respOwner := make([]int, len(resps))
			for k, r := range resps {
				a, _ := hex.DecodeString(r["answers"])
				respOwner[k] = run.owner(t, a)
			}
			ownerOfParticipant := map[string]int{}
			ownerOfInvitation := map[string]int{}
			for i, r := range run.rs {
				ownerOfParticipant[fmt.Sprintf("%020d", r.Participant.ID)] = i
				ownerOfInvitation[r.Invitation.ID] = i
			}
			for table, ownerOf := range map[string]func(map[string]string) (int, bool){
				"invitations": func(row map[string]string) (int, bool) { i, ok := ownerOfInvitation[row["id"]]; return i, ok },
				"participants": func(row map[string]string) (int, bool) {
					i, ok := ownerOfParticipant[row["id"]]
					return i, ok
				},
			} {
				others := tableRowsAsText(t, reader, table, run.campaign)
				for rc := range resps[0] {
					for oc := range others[0] {
						checkColumnPair(t, "responses."+rc, table+"."+oc, resps, respOwner, rc, others, ownerOf, oc)
					}
				}
			}

			// (d) the profile together: a response whose (unit, role,
			// seniority) is held by one participant only is that person's.
			parts := tableRowsAsText(t, reader, "participants", run.campaign)
			holders := map[string][]string{}
			for _, p := range parts {
				key := p["unit_id"] + "|" + p["role"] + "|" + p["seniority"]
				holders[key] = append(holders[key], p["id"])
			}
			single := 0
			for k, r := range resps {
				h := holders[r["unit_id"]+"|"+r["role"]+"|"+r["seniority"]]
				if len(h) == 1 && ownerOfParticipant[h[0]] == respOwner[k] {
					single++
				}
			}
			if single > 0 {
				t.Errorf("%d responses carry a (unit, role, seniority) that one participant alone holds: the participant list names them", single)
			}
		})
	}
}

var profileColumn = map[string]bool{"unit_id": true, "role": true, "seniority": true, "locale": true}

// checkColumnPair: equal values must not pair a response with its own
// owner's row (more than a few chance hits), and sorting both tables by the
// columns must not put owners in the same order. With about a hundred
// column pairs tested, the bound on |rho| is 0.35 (five standard
// deviations at n = 200) so that chance alone does not fail the test.
func checkColumnPair(t *testing.T, rName, oName string, resps []map[string]string, respOwner []int, rc string,
	others []map[string]string, ownerOf func(map[string]string) (int, bool), oc string) {
	t.Helper()
	byValue := map[string][]int{}
	var owned []map[string]string
	for _, row := range others {
		i, ok := ownerOf(row)
		if !ok {
			continue
		}
		owned = append(owned, row)
		if v, ok := row[oc]; ok && v != "\x00null" {
			byValue[v] = append(byValue[v], i)
		}
	}
	hits := 0
	for k, r := range resps {
		if c := byValue[r[rc]]; len(c) == 1 && c[0] == respOwner[k] {
			hits++
		}
	}
	// Profile columns hold the same attributes on both sides by design: a
	// value one participant alone holds is a link, but their order is the
	// population's, not a link (the profile as a whole is checked by the caller).
	attribute := profileColumn[rc] && profileColumn[oc]
	if hits > 3 || attribute && hits > 0 {
		t.Errorf("%s = %s pairs %d responses with their own participant", rName, oName, hits)
	}
	if attribute {
		return
	}
	// Order: responses by (rc, id), owners' rows by (oc, id).
	ridx := make([]int, len(resps))
	for k := range ridx {
		ridx[k] = k
	}
	sort.SliceStable(ridx, func(a, b int) bool {
		x, y := resps[ridx[a]], resps[ridx[b]]
		return x[rc] < y[rc] || x[rc] == y[rc] && x["id"] < y["id"]
	})
	sort.SliceStable(owned, func(a, b int) bool {
		x, y := owned[a], owned[b]
		return x[oc] < y[oc] || x[oc] == y[oc] && x["id"] < y["id"]
	})
	pos := map[int]int{}
	for p, row := range owned {
		i, _ := ownerOf(row)
		pos[i] = p
	}
	var seq []int
	for _, k := range ridx {
		seq = append(seq, respOwner[k])
	}
	if rho := spearman(seq, pos); rho > 0.35 || rho < -0.35 {
		t.Errorf("responses ordered by %s and %s ordered by %s put owners in the same order: rho = %.3f", rc, oName[:strings.IndexByte(oName, '.')], oc, rho)
	}
}

// tableRowsAsText reads a campaign's rows of a table, every column as
// text: bytes as hex, integers zero-padded so that text order is numeric
// order, NULL as "\x00null".
func tableRowsAsText(t *testing.T, reader *gorm.DB, table string, campaign int64) []map[string]string {
	t.Helper()
	var rows []map[string]any
	if err := reader.Table(table).Where("campaign_id = ?", campaign).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("no %s rows", table)
	}
	out := make([]map[string]string, len(rows))
	for k, row := range rows {
		out[k] = map[string]string{}
		for c, v := range row {
			switch v := v.(type) {
			case nil:
				out[k][c] = "\x00null"
			case []byte:
				out[k][c] = hex.EncodeToString(v)
			case int64:
				out[k][c] = fmt.Sprintf("%020d", v)
			default:
				out[k][c] = fmt.Sprint(v)
			}
		}
	}
	return out
}
