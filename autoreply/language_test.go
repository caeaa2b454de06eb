package autoreply_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pagedesk/pagedesk/autoreply"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]autoreply.Language{
		"zh-Hant": autoreply.TraditionalChinese, "ZH-hant": autoreply.TraditionalChinese,
		"zh-TW": autoreply.TraditionalChinese, "zh-hk": autoreply.TraditionalChinese,
		"zh-MO": autoreply.TraditionalChinese, "zh-Hant-HK": autoreply.TraditionalChinese,
		" zh-Hant ": autoreply.TraditionalChinese,
		"zh-Hans":   autoreply.English, "zh-CN": autoreply.English, "zh": autoreply.English,
		"en": autoreply.English, "": autoreply.English, "fr-FR": autoreply.English,
	} {
		assert.Equal(t, want, autoreply.Match(tag), tag)
		assert.Equal(t, want == autoreply.TraditionalChinese, autoreply.Language(tag).Pick("en", "zh") == "zh", tag)
	}
}

func TestFormatCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0", 7: "7", 999: "999", 1000: "1,000", 2001: "2,001", 25000000: "25,000,000",
		-1234567: "-1,234,567",
	} {
		assert.Equal(t, want, autoreply.FormatCount(n), n)
	}
}

func TestSentence(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    string
		lang autoreply.Language
		want string
	}{
		{"token revoked", autoreply.English, "token revoked."},
		{"token revoked.", autoreply.English, "token revoked."},
		{" 權杖已撤銷 ", autoreply.English, "權杖已撤銷."},
		{"token revoked", autoreply.TraditionalChinese, "token revoked"},
		{"權杖已撤銷", autoreply.TraditionalChinese, "權杖已撤銷。"},
		{"權杖已撤銷。", autoreply.TraditionalChinese, "權杖已撤銷。"},
		{"Why?", autoreply.English, "Why?"},
		{"Stop!", autoreply.English, "Stop!"},
		{"and so on…", autoreply.English, "and so on…"},
		{"為什麼？", autoreply.TraditionalChinese, "為什麼？"},
		{"停！", autoreply.TraditionalChinese, "停！"},
		{"", autoreply.English, "."},
	} {
		assert.Equal(t, c.want, autoreply.Sentence(c.s, c.lang), "%q in %s", c.s, c.lang)
	}
}
