package survey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

// demoCampaign returns a store with the demo organisation and its open wave.
func demoCampaign(t *testing.T, db *survey.DB) int64 {
	t.Helper()
	res, err := survey.CreateDemo(context.Background(), db, surveytest.Model(t), survey.DemoOptions{
		Responses: 0, Links: 0, BaseURL: "http://x", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return res.CampaignID
}

func sealAll(t *testing.T, db *survey.DB, ps []survey.PendingResponse) []string {
	t.Helper()
	var ids []string
	err := db.Write.Transaction(func(tx *gorm.DB) error {
		for _, p := range ps {
			id, err := survey.SealPending(tx, testSecret, p)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestPendingResponsesAreSealed(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := surveytest.Open(t, dialect)
			campaign := demoCampaign(t, db)
			unit := int64(7)
			answers := func(v byte) []byte { return bytes.Repeat([]byte{v}, 208) }
			in := []survey.PendingResponse{
				{CampaignID: campaign, UnitID: &unit, Role: "researcher", Seniority: "senior-manager", Locale: "fr", Answers: answers(3)},
				{CampaignID: campaign, Locale: "en", Answers: answers(6)},
			}
			ids := sealAll(t, db, in)
			var rows []survey.PendingRow
			db.Read.Where("campaign_id = ?", campaign).Find(&rows)
			if len(rows) != 2 {
				t.Fatalf("%d pending rows", len(rows))
			}
			if len(rows[0].Sealed) != len(rows[1].Sealed) {
				t.Errorf("sealed lengths %d and %d: the length tells the profile apart", len(rows[0].Sealed), len(rows[1].Sealed))
			}
			for _, r := range rows {
				if bytes.Contains(r.Sealed, []byte("researcher")) || bytes.Contains(r.Sealed, answers(3)[:16]) || bytes.Contains(r.Sealed, answers(6)[:16]) {
					t.Errorf("pending row %s holds plaintext", r.ID)
				}
			}

			got, err := survey.LoadPending(db.Read, testSecret, campaign)
			if err != nil || len(got) != 2 {
				t.Fatalf("LoadPending: %d, %v", len(got), err)
			}
			byID := map[string]survey.PendingResponse{}
			for _, p := range got {
				byID[p.ID] = p
			}
			for i, id := range ids {
				p, want := byID[id], in[i]
				want.ID = id
				if fmt.Sprint(p.UnitID != nil, p.Role, p.Seniority, p.Locale) != fmt.Sprint(want.UnitID != nil, want.Role, want.Seniority, want.Locale) ||
					p.UnitID != nil && *p.UnitID != unit || !bytes.Equal(p.Answers, want.Answers) || p.CampaignID != campaign {
					t.Errorf("opened %+v, sealed %+v", p, want)
				}
			}

			t.Run("another secret opens nothing and names the row", func(t *testing.T) {
				_, err := survey.LoadPending(db.Read, []byte("another secret entirely, 32 byte"), campaign)
				if err == nil || !strings.Contains(err.Error(), ids[0]) && !strings.Contains(err.Error(), ids[1]) {
					t.Errorf("got %v", err)
				}
			})
			t.Run("a ciphertext moved to another row does not open", func(t *testing.T) {
				if err := db.Write.Exec("UPDATE pending_responses SET sealed = (SELECT sealed FROM pending_responses WHERE id = ?) WHERE id = ?", ids[0], ids[1]).Error; err != nil {
					t.Fatal(err)
				}
				_, err := survey.LoadPending(db.Read, testSecret, campaign)
				if err == nil || !strings.Contains(err.Error(), ids[1]) {
					t.Errorf("got %v, want an error naming %s", err, ids[1])
				}
			})
			t.Run("delete removes exactly the released ones, once", func(t *testing.T) {
				if err := survey.DeletePending(db.Write, ids[:1]); err != nil {
					t.Fatal(err)
				}
				if n := count(t, db, &survey.PendingRow{}, "campaign_id = ?", campaign); n != 1 {
					t.Errorf("%d left, want 1", n)
				}
				err := db.Write.Transaction(func(tx *gorm.DB) error { return survey.DeletePending(tx, ids) })
				if !errors.Is(err, survey.ErrPendingGone) {
					t.Errorf("deleting a released one again: %v", err)
				}
				if n := count(t, db, &survey.PendingRow{}, "campaign_id = ?", campaign); n != 1 {
					t.Errorf("a failed delete must roll its transaction back; %d left", n)
				}
			})
			t.Run("no secret, no seal", func(t *testing.T) {
				_, err := survey.SealPending(db.Write, nil, in[0])
				if !errors.Is(err, survey.ErrNoSecret) {
					t.Errorf("got %v", err)
				}
			})
		})
	}
}

// With secure_delete, SQLite overwrites what it deletes: once a release has
// deleted pending rows and the WAL is checkpointed, their ciphertexts are
// nowhere in the files. (Before the checkpoint the WAL still holds them.)
func TestSQLiteOverwritesDeletedPendingRows(t *testing.T) {
	ctx := context.Background()
	url := surveytest.SQLiteURL(t)
	path := strings.TrimPrefix(url, "sqlite:")
	db, err := survey.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]*gorm.DB{"writer": db.Write, "reader": db.Read} {
		var on int
		if err := g.Raw("PRAGMA secure_delete").Scan(&on).Error; err != nil || on != 1 {
			t.Errorf("%s: secure_delete = %d, %v", name, on, err)
		}
	}
	campaign := demoCampaign(t, db)
	// Enough rows to fill many pages, so deleting them frees pages and
	// merges others, not only cells on one page.
	var ps []survey.PendingResponse
	for i := range 300 {
		ps = append(ps, survey.PendingResponse{CampaignID: campaign, Role: "technologist", Answers: bytes.Repeat([]byte{byte(1 + i%5)}, 208)})
	}
	ids := sealAll(t, db, ps)
	var rows []survey.PendingRow
	db.Read.Where("campaign_id = ?", campaign).Find(&rows)
	checkpoint := func() {
		t.Helper()
		if err := db.Write.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
			t.Fatal(err)
		}
	}
	found := func() (n int) {
		t.Helper()
		var files []byte
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Fatal(err)
			}
			files = append(files, b...)
		}
		for _, r := range rows {
			// 24 bytes of ciphertext past the nonce: unique to the row.
			if bytes.Contains(files, r.Sealed[12:36]) {
				n++
			}
		}
		return n
	}
	checkpoint()
	if n := found(); n != len(rows) {
		t.Fatalf("only %d of %d ciphertexts found in %s before the delete: the search proves nothing", n, len(rows), filepath.Base(path))
	}
	if err := db.Write.Transaction(func(tx *gorm.DB) error { return survey.DeletePending(tx, ids) }); err != nil {
		t.Fatal(err)
	}
	checkpoint()
	if n := found(); n != 0 {
		t.Errorf("%d of %d deleted ciphertexts are still in the database files", n, len(rows))
	}
}
