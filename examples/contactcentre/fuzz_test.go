package main

import (
	"net/http"
	"testing"
)

// FuzzParseStaff: the -staff parser never panics, and what it accepts is a
// usable staff list: ids present and unique, languages the console has.
func FuzzParseStaff(f *testing.F) {
	for _, s := range []string{"amy:Amy:Wong:en,wing:Wing:Chan:zh-Hant", "", ",", "a:b:c:en,a:b:c:en", "a:::fr", ":::", "x:陳:大文:zh-Hant"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		staff, err := parseStaff(s)
		if err != nil {
			return
		}
		if len(staff) == 0 {
			t.Fatal("accepted an empty staff list")
		}
		seen := map[string]bool{}
		for _, m := range staff {
			if m.ID == "" || seen[m.ID] {
				t.Fatalf("bad or repeated id %q in %q", m.ID, s)
			}
			seen[m.ID] = true
			if m.Language != langEnglish && m.Language != langChinese {
				t.Fatalf("language %q accepted", m.Language)
			}
		}
	})
}

// FuzzRequestLanguage: any Accept-Language gives one of the console's
// languages or none, never a panic.
func FuzzRequestLanguage(f *testing.F) {
	for _, s := range []string{"zh-Hant", "zh-TW,zh;q=0.9,en;q=0.8", "en-GB", "fr", "", ";;,", "ZH-HANT-HK"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := &http.Request{Header: http.Header{"Accept-Language": {s}}}
		switch l := requestLanguage(r); l {
		case "", langEnglish, langChinese:
		default:
			t.Fatalf("requestLanguage(%q) = %q", s, l)
		}
	})
}

func TestRequestLanguage(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"zh-Hant": langChinese, "zh-TW,zh;q=0.9": langChinese, "zh-HK": langChinese, "zh-Hant-HK": langChinese,
		"en-GB,en;q=0.9": langEnglish, "en": langEnglish, "fr-FR,zh-Hant;q=0.5": langChinese, "fr": "", "": "",
	} {
		r := &http.Request{Header: http.Header{"Accept-Language": {header}}}
		if got := requestLanguage(r); got != want {
			t.Errorf("requestLanguage(%q) = %q, want %q", header, got, want)
		}
	}
}
