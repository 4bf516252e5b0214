package survey_test

import (
	"context"
	"errors"
	"testing"

	"tiltline/survey"
	"tiltline/survey/surveytest"
)

func TestOrgLogoAndBrandOnBothDialects(t *testing.T) {
	for _, dialect := range surveytest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := surveytest.Open(t, dialect)
			org, err := survey.SaveOrganisation(ctx, db, 0, survey.OrgInput{Name: "Brand Co"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := survey.BrandOf(ctx, db, org.ID)
			if err != nil || b != (survey.Brand{Name: "Brand Co"}) {
				t.Fatalf("without a logo: %+v %v", b, err)
			}
			if _, err := survey.LoadOrgLogo(ctx, db, org.ID); !errors.Is(err, survey.ErrNotFound) {
				t.Errorf("no logo yet: %v", err)
			}
			h1, err := survey.SaveOrgLogo(ctx, db, org.ID, "image/png", []byte("first"))
			if err != nil {
				t.Fatal(err)
			}
			h2, err := survey.SaveOrgLogo(ctx, db, org.ID, "image/gif", []byte("second"))
			if err != nil || h1 == h2 || len(h2) != 16 {
				t.Fatalf("replace: %q then %q, %v", h1, h2, err)
			}
			if b, _ := survey.BrandOf(ctx, db, org.ID); b.LogoHash != h2 || b.LogoType != "image/gif" {
				t.Errorf("brand after the replacement: %+v", b)
			}
			if l, err := survey.LoadOrgLogo(ctx, db, org.ID); err != nil || string(l.Body) != "second" {
				t.Errorf("logo: %v %v", l, err)
			}
			if err := survey.DeleteOrgLogo(ctx, db, org.ID); err != nil {
				t.Fatal(err)
			}
			if b, _ := survey.BrandOf(ctx, db, org.ID); b.LogoHash != "" {
				t.Errorf("brand after removal: %+v", b)
			}
			if _, err := survey.BrandOf(ctx, db, org.ID+1000); !errors.Is(err, survey.ErrNotFound) {
				t.Errorf("unknown organisation: %v", err)
			}
		})
	}
}

func TestCampaignNameIn(t *testing.T) {
	in := survey.CampaignInput{Name: "Pulse", Locales: []string{"en", "de"}, KMin: 5,
		Names: map[string]string{"de": "  Puls ", "fr": "", "xx": "bogus"}}
	if fe := in.Validate(); fe == nil || fe["name_xx"] == "" || len(fe) != 1 {
		t.Fatalf("an unknown language's name: %v", fe)
	}
	delete(in.Names, "xx")
	if fe := in.Validate(); fe != nil {
		t.Fatal(fe)
	}
	ctx := context.Background()
	db := surveytest.Open(t, "sqlite")
	org, err := survey.SaveOrganisation(ctx, db, 0, survey.OrgInput{Name: "Pulse Co"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := survey.CreateCampaign(ctx, db, org.ID, 1, in)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en": "Pulse", "de": "Puls", "fr": "Pulse"} {
		if got := c.NameIn(lang); got != want {
			t.Errorf("NameIn(%s) = %q, want %q", lang, got, want)
		}
	}
	if got := survey.InputOf(c).Names; got["de"] != "Puls" || len(got) != 1 {
		t.Errorf("the form gets back %v", got)
	}
}
