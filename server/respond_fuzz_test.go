package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"tiltline/survey"
)

// FuzzAutosave drives PUT /s/{token}/answers with any body and content
// type: the answer is 204 (and then the draft holds exactly what the body
// said, last answer per slot winning), 400 (and then the body is not a
// valid batch for the model), 413 or 415 — never a 5xx, and every refusal
// is a JSON error that stores nothing.
func FuzzAutosave(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"practice":"AP-01","dimension":"intention","level":3}`},
		{"application/json; charset=utf-8", `[{"practice":"AP-01","dimension":"reality","level":"dk"},{"practice":"AP-01","dimension":"reality","level":2}]`},
		{"application/json", `{"practice":"AP-01","dimension":"intention","level":""}`},
		{"application/json", `{"practice":"ZZ-99","dimension":"intention","level":1}`},
		{"application/json", `[{"practice":"AP-01","dimension":"intention","level":1},{"practice":"AP-01","dimension":"dream","level":1}]`},
		{"application/json", `{"practice":"AP-01","dimension":"intention","level":1,"user":"x"}`},
		{"application/json", `[]`},
		{"application/json", "\x00\xff"},
		{"APPLICATION/JSON", `{"practice":"PR-01","dimension":"reality","level":5}`},
		{"application/json;;", `{"practice":"PR-01","dimension":"reality","level":5}`},
		{"text/plain", `{"practice":"AP-01","dimension":"intention","level":3}`},
		{"application/x-www-form-urlencoded", "practice=AP-01&level=1"},
		{"multipart/form-data; boundary=x", "--x\r\n\r\n--x--"},
		{"", `{"practice":"AP-01","dimension":"intention","level":3}`},
		{"application/json\x00", `{}`},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	a, demo := newFuzzApp(f, nil)
	ctx := context.Background()
	link := linkPath(demo.Links[0])
	token := strings.TrimPrefix(link, "/s/")
	r, err := survey.ResolveInvitation(ctx, a.db, a.cfg.Secret, token)
	if err != nil {
		f.Fatal(err)
	}
	m := a.models.Latest()
	if _, err := survey.StartDraft(ctx, a.db, m, r, survey.Profile{Locale: "en"}); err != nil {
		f.Fatal(err)
	}
	csrf := a.csrfToken(r.DraftKey)
	load := func(t *testing.T) []byte {
		d, err := survey.LoadDraft(ctx, a.db, r.DraftKey)
		if err != nil {
			t.Fatal(err)
		}
		return d.Answers
	}

	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		before := load(t)
		req := httptest.NewRequest(http.MethodPut, link+"/answers", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-CSRF-Token", csrf)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		after := load(t)

		mt, _, _ := mime.ParseMediaType(contentType)
		answers, perr := survey.ParseAnswers(body)
		var slots []survey.SlotValue
		if perr == nil {
			slots, perr = m.Slots(answers)
		}
		switch rec.Code {
		case http.StatusNoContent:
			if mt != "application/json" || perr != nil {
				t.Fatalf("stored %q as %q (valid: %v)", body, contentType, perr)
			}
			want := bytes.Clone(before)
			for _, s := range slots {
				want[s.Slot] = s.Value
			}
			if !bytes.Equal(after, want) {
				t.Fatalf("draft after %s differs from what it said", body)
			}
			return
		case http.StatusUnsupportedMediaType:
			if mt == "application/json" {
				t.Fatalf("415 for %q", contentType)
			}
		case http.StatusBadRequest:
			if mt != "application/json" || perr == nil {
				t.Fatalf("400 for a valid batch %s as %q", body, contentType)
			}
		case http.StatusRequestEntityTooLarge:
			if len(body) <= maxAutosaveBody {
				t.Fatalf("413 for %d bytes", len(body))
			}
		default:
			t.Fatalf("status %d for %q %q: %s", rec.Code, contentType, body, rec.Body)
		}
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
			t.Fatalf("%d without a JSON error: %s", rec.Code, rec.Body)
		}
		if !bytes.Equal(after, before) {
			t.Fatalf("a refused autosave (%d) changed the draft", rec.Code)
		}
		if errors.Is(perr, context.Canceled) {
			t.Fatal(perr)
		}
	})
}
