package autoreply

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Match returns the language the SDK has texts in for a BCP 47 tag:
// TraditionalChinese for "zh-Hant" (with or without a region) and for the
// regions that write it ("zh-TW", "zh-HK", "zh-MO"), in any letter case;
// English for any other tag. Hosts use it to map a staff member's or a
// browser's language to the SDK's texts.
func Match(tag string) Language {
	l := strings.ToLower(strings.TrimSpace(tag))
	switch l {
	case "zh-hant", "zh-tw", "zh-hk", "zh-mo":
		return TraditionalChinese
	}
	if strings.HasPrefix(l, "zh-hant-") {
		return TraditionalChinese
	}
	return English
}

// Pick returns zhHant when l matches Traditional Chinese (see Match), else en.
func (l Language) Pick(en, zhHant string) string {
	if Match(string(l)) == TraditionalChinese {
		return zhHant
	}
	return en
}

// FormatCount writes n with thousands separators (2,001), as texts in both
// languages write counts for people.
func FormatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Sentence ends s as a sentence of a text in l: with "." in English and
// "。" in Chinese, unless it already ends a sentence (a full stop, a
// question or exclamation mark, an ellipsis, in either script). A text in
// Latin script quoted in a Chinese text (a reason recorded in English, say)
// gets no Chinese stop: it would read wrong after English words.
func Sentence(s string, l Language) string {
	s = strings.TrimSpace(s)
	if last, _ := utf8.DecodeLastRuneInString(s); strings.ContainsRune(".!?…。！？", last) {
		return s
	}
	if Match(string(l)) != TraditionalChinese {
		return s + "."
	}
	if last, _ := utf8.DecodeLastRuneInString(s); last < 0x2E80 {
		return s
	}
	return s + "。"
}
