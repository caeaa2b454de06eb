package autoreply_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
)

// on returns settings whose welcome message is on with text t.
func on(t string, f autoreply.NameFormat) autoreply.Settings {
	return autoreply.Settings{Welcome: autoreply.Message{On: true, Text: t}, NameFormat: f}
}

var full = autoreply.Values{StaffFirstName: "Amy", StaffLastName: "Chan", VisitorFirstName: "Bob", PageName: "Acme"}

func TestRenderPlaceholders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		f    autoreply.NameFormat
		v    autoreply.Values
		want string
	}{
		{"all present", "Hi {visitor}, this is {staff} at {page}.", autoreply.NameFirst, full, "Hi Bob, this is Amy at Acme."},
		{"full name", "This is {staff}.", autoreply.NameFull, full, "This is Amy Chan."},
		{"full han name family first", "我是{staff}。", autoreply.NameFull, autoreply.Values{StaffFirstName: "大文", StaffLastName: "陳"}, "我是陳大文。"},
		{"first name only set", "This is {staff}.", autoreply.NameFull, autoreply.Values{StaffFirstName: "Amy"}, "This is Amy."},
		{"last name only set", "This is {staff}.", autoreply.NameFull, autoreply.Values{StaffLastName: "Chan"}, "This is Chan."},
		{"format none hides staff", "Bye[ from {staff}].", autoreply.NameNone, full, "Bye."},
		{"case insensitive", "Hi {Visitor}!", autoreply.NameNone, full, "Hi Bob!"},
		{"escaped braces", "{{visitor}} is {visitor}", autoreply.NameNone, full, "{visitor} is Bob"},
		{"value not re-expanded", "Hi {visitor}", autoreply.NameNone, autoreply.Values{VisitorFirstName: "{page}", PageName: "Acme"}, "Hi {page}"},
		{"value whitespace collapsed", "Hi {visitor}!", autoreply.NameNone, autoreply.Values{VisitorFirstName: "  Bob \n  Lee "}, "Hi Bob Lee!"},
		{"brackets without placeholder are text", "[Notice] Hi {visitor}", autoreply.NameNone, full, "[Notice] Hi Bob"},
		{"unclosed bracket is text", "Hi [{visitor}", autoreply.NameNone, full, "Hi [Bob"},
		{"segment kept when present", "Hi[ {visitor}]!", autoreply.NameNone, full, "Hi Bob!"},

		// Missing values.
		{"segment dropped", "Hi[ {visitor}]!", autoreply.NameNone, autoreply.Values{}, "Hi!"},
		{"segment with one of two missing", "Hi.[ I am {staff} of {page}.] Bye.", autoreply.NameFirst, autoreply.Values{PageName: "Acme"}, "Hi. Bye."},
		{"comma after", "Hi {visitor}, welcome", autoreply.NameNone, autoreply.Values{}, "Hi, welcome"},
		{"comma before bang", "Thanks, {visitor}!", autoreply.NameNone, autoreply.Values{}, "Thanks!"},
		{"comma at end", "Thanks, {visitor}", autoreply.NameNone, autoreply.Values{}, "Thanks"},
		{"at start", "{visitor}, welcome!", autoreply.NameNone, autoreply.Values{}, "welcome!"},
		{"between words", "This is {staff} from Acme", autoreply.NameFirst, autoreply.Values{}, "This is from Acme"},
		{"two in a row", "Hi {visitor} {staff}!", autoreply.NameFirst, autoreply.Values{}, "Hi!"},
		{"empty parentheses", "Hello ({staff}) there", autoreply.NameFirst, autoreply.Values{}, "Hello there"},
		{"parenthesis stays tight", "({staff} here) ok", autoreply.NameFirst, autoreply.Values{}, "(here) ok"},
		{"double full stop", "Hello. {staff}. Bye", autoreply.NameFirst, autoreply.Values{}, "Hello. Bye"},
		{"end of line", "Hi {visitor}\nBye", autoreply.NameNone, autoreply.Values{}, "Hi\nBye"},
		{"start of line", "Hi\n{visitor}, bye", autoreply.NameNone, autoreply.Values{}, "Hi\nbye"},
		{"cjk greeting", "{visitor}您好！", autoreply.NameNone, autoreply.Values{}, "您好！"},
		{"cjk comma", "感謝您的聯絡，{visitor}！", autoreply.NameNone, autoreply.Values{}, "感謝您的聯絡！"},
		{"cjk corner brackets", "您好「{visitor}」！", autoreply.NameNone, autoreply.Values{}, "您好！"},
		{"blank value is missing", "Hi {visitor}!", autoreply.NameNone, autoreply.Values{VisitorFirstName: " \t"}, "Hi!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, isOn, err := autoreply.Render(on(tt.text, tt.f), autoreply.Welcome, tt.v)
			require.NoError(t, err)
			assert.True(t, isOn)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRenderDefaultsReadWell(t *testing.T) {
	t.Parallel()
	want := map[autoreply.Language]map[autoreply.Kind][2]string{
		autoreply.English: {
			autoreply.Welcome: {
				"Hi, thanks for your message! Someone from our team will be with you shortly.",
				"Hi Bob, thanks for your message to Acme! Someone from our team will be with you shortly.",
			},
			autoreply.Away: {
				"Hi, thanks for your message. No one is available to answer right now; we will reply as soon as someone is back.",
				"Hi Bob, thanks for your message. No one is available to answer right now; we will reply as soon as someone is back.",
			},
			autoreply.Close: {
				"Thanks for chatting with us! This conversation is now closed; if you need anything else, just send us a new message.",
				"Thanks for chatting with us, Bob! This conversation is now closed; if you need anything else, just send us a new message. Best regards, Amy",
			},
		},
		autoreply.TraditionalChinese: {
			autoreply.Welcome: {"您好！感謝您的訊息，我們的客服人員將盡快回覆您。", "Bob您好！這裡是Acme，感謝您的訊息，我們的客服人員將盡快回覆您。"},
			autoreply.Away:    {"您好！感謝您的訊息。目前沒有客服人員可以回覆，我們會在人員上線後盡快回覆您。", "Bob您好！感謝您的訊息。目前沒有客服人員可以回覆，我們會在人員上線後盡快回覆您。"},
			autoreply.Close:   {"感謝您的聯絡！本次對話已結束；如需其他協助，歡迎隨時再傳訊息給我們。", "感謝您的聯絡，Bob！本次對話已結束；如需其他協助，歡迎隨時再傳訊息給我們。Amy 敬上"},
		},
	}
	for lang, kinds := range want {
		for k, w := range kinds {
			t.Run(string(lang)+"/"+string(k), func(t *testing.T) {
				t.Parallel()
				s := autoreply.DefaultSettings(lang)
				none, isOn, err := autoreply.Render(s, k, autoreply.Values{})
				require.NoError(t, err)
				assert.True(t, isOn)
				assert.Equal(t, w[0], none)
				named, _, err := autoreply.Render(s, k, full)
				require.NoError(t, err)
				assert.Equal(t, w[1], named)
			})
		}
	}
}

func TestRenderOffSendsNothing(t *testing.T) {
	t.Parallel()
	s := autoreply.Settings{Welcome: autoreply.Message{On: false, Text: "{bogus"}}
	text, isOn, err := autoreply.Render(s, autoreply.Welcome, full)
	require.NoError(t, err, "an off message is not checked")
	assert.False(t, isOn)
	assert.Empty(t, text)
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("字", 1995)
	tests := []struct {
		name    string
		s       autoreply.Settings
		k       autoreply.Kind
		v       autoreply.Values
		is      error
		message string
	}{
		{"rule-1 after names", on(long+" {page}", autoreply.NameNone), autoreply.Welcome,
			autoreply.Values{PageName: "Acme Corp"}, autoreply.ErrTooLong,
			"rendered welcome text is 2005 characters; the limit is 2000"},
		{"renders empty", on("{visitor}", autoreply.NameNone), autoreply.Welcome, autoreply.Values{}, autoreply.ErrEmpty,
			"rendered welcome text is 0 characters; it needs at least 1"},
		{"unknown placeholder", on("Hi {vistor}!", autoreply.NameNone), autoreply.Welcome, full, autoreply.ErrPlaceholder,
			"welcome text has an unknown placeholder {vistor} at character 4; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace)"},
		{"stray open brace", on("Hi { there", autoreply.NameNone), autoreply.Welcome, full, autoreply.ErrPlaceholder,
			"welcome text has a '{' that starts no placeholder at character 4; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace)"},
		{"stray close brace", on("Hi } there", autoreply.NameNone), autoreply.Welcome, full, autoreply.ErrPlaceholder,
			"welcome text has a '}' that ends no placeholder at character 4; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace)"},
		{"unknown kind", on("x", autoreply.NameNone), autoreply.Kind("bye"), full, autoreply.ErrUnsupported,
			`auto-reply kind "bye" is not one of welcome, away and close`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := autoreply.Render(tt.s, tt.k, tt.v)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			assert.EqualError(t, err, tt.message)
			var e *autoreply.Error
			require.ErrorAs(t, err, &e)
		})
	}
}

func TestRenderRule1Boundary(t *testing.T) {
	t.Parallel()
	// 2,000 CJK characters fit (RULE-1 counts characters, not bytes); 2,001 do not.
	fits := strings.Repeat("字", autoreply.MaxTextChars)
	got, _, err := autoreply.Render(on(fits, autoreply.NameNone), autoreply.Welcome, autoreply.Values{})
	require.NoError(t, err)
	assert.Equal(t, autoreply.MaxTextChars, utf8.RuneCountInString(got))

	_, _, err = autoreply.Render(on(fits[:len(fits)-3]+"{page}", autoreply.NameNone), autoreply.Welcome, autoreply.Values{PageName: "ab"})
	var e *autoreply.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 2001, e.Length)
	assert.Equal(t, 2000, e.Limit)
	assert.Equal(t, "rendered welcome text", e.Field)
}

func TestSettingsText(t *testing.T) {
	t.Parallel()
	s := autoreply.Settings{
		Welcome:  autoreply.Message{On: true},
		Away:     autoreply.Message{On: false, Text: "Back soon"},
		Close:    autoreply.Message{On: true, Text: "  "},
		Language: autoreply.TraditionalChinese,
	}
	text, isOn := s.Text(autoreply.Welcome)
	assert.True(t, isOn)
	assert.Equal(t, autoreply.Default(autoreply.Welcome, autoreply.TraditionalChinese), text)
	text, isOn = s.Text(autoreply.Away)
	assert.False(t, isOn)
	assert.Equal(t, "Back soon", text, "the text is kept while off")
	text, _ = s.Text(autoreply.Close)
	assert.Equal(t, autoreply.Default(autoreply.Close, autoreply.TraditionalChinese), text, "a blank text means the default")
}

func TestDefault(t *testing.T) {
	t.Parallel()
	for _, k := range autoreply.Kinds() {
		en := autoreply.Default(k, autoreply.English)
		zh := autoreply.Default(k, autoreply.TraditionalChinese)
		assert.NotEmpty(t, en)
		assert.NotEmpty(t, zh)
		assert.NotEqual(t, en, zh)
		assert.Equal(t, en, autoreply.Default(k, ""), "the zero language is English")
		assert.Equal(t, en, autoreply.Default(k, "fr"), "an unknown language falls back to English")
		assert.NoError(t, autoreply.Settings{Welcome: autoreply.Message{Text: en}, Away: autoreply.Message{Text: zh}}.Validate())
	}
	assert.Empty(t, autoreply.Default("bye", autoreply.English))
}

func TestSetMessage(t *testing.T) {
	t.Parallel()
	var s autoreply.Settings
	for _, k := range autoreply.Kinds() {
		require.True(t, s.SetMessage(k, autoreply.Message{On: true, Text: string(k)}))
		assert.Equal(t, autoreply.Message{On: true, Text: string(k)}, s.Message(k))
	}
	assert.False(t, s.SetMessage("bye", autoreply.Message{On: true}))
	assert.Equal(t, autoreply.Message{}, s.Message("bye"))
}

func TestStaffName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f           autoreply.NameFormat
		first, last string
		want        string
	}{
		{autoreply.NameNone, "Amy", "Chan", ""},
		{autoreply.NameFirst, "Amy", "Chan", "Amy"},
		{autoreply.NameFull, "Amy", "Chan", "Amy Chan"},
		{autoreply.NameFull, " Amy ", "  ", "Amy"},
		{autoreply.NameFull, "大文", "陳", "陳大文"},
		{autoreply.NameFull, "Amy", "陳", "Amy 陳"},
		{autoreply.NameFormat("nick"), "Amy", "Chan", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.f.StaffName(tt.first, tt.last), "%q %q %q", tt.f, tt.first, tt.last)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    autoreply.Settings
		is   []error
		msg  string
	}{
		{"zero value", autoreply.Settings{}, nil, ""},
		{"defaults", autoreply.DefaultSettings(autoreply.TraditionalChinese), nil, ""},
		{"2000 CJK characters pass", autoreply.Settings{Away: autoreply.Message{Text: strings.Repeat("字", 2000)}}, nil, ""},
		{"2001 CJK characters fail", autoreply.Settings{Away: autoreply.Message{Text: strings.Repeat("字", 2001)}},
			[]error{autoreply.ErrTooLong}, "away text is 2001 characters; the limit is 2000"},
		{"checked while off", autoreply.Settings{Close: autoreply.Message{On: false, Text: "Bye {nme}"}},
			[]error{autoreply.ErrPlaceholder}, "close text has an unknown placeholder {nme} at character 5; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace)"},
		{"says nothing without names", autoreply.Settings{Welcome: autoreply.Message{On: true, Text: " {visitor}! "}},
			[]error{autoreply.ErrEmpty}, "welcome text without names is 0 characters; it needs at least 1"},
		{"name format", autoreply.Settings{NameFormat: "nick"}, []error{autoreply.ErrUnsupported},
			`display-name format "nick" is not one of "" (none), "first" and "full"`},
		{"language", autoreply.Settings{Language: "fr"}, []error{autoreply.ErrUnsupported},
			`auto-reply language "fr" is not one of "en" and "zh-Hant"`},
		{"every problem at once", autoreply.Settings{
			Welcome:  autoreply.Message{Text: strings.Repeat("a", 2001)},
			Away:     autoreply.Message{Text: "{x}"},
			Language: "fr",
		}, []error{autoreply.ErrTooLong, autoreply.ErrPlaceholder, autoreply.ErrUnsupported},
			`welcome text is 2001 characters; the limit is 2000; away text has an unknown placeholder {x} at character 1; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace); auto-reply language "fr" is not one of "en" and "zh-Hant"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.s.Validate()
			if tt.is == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, is := range tt.is {
				assert.ErrorIs(t, err, is)
			}
			assert.EqualError(t, err, tt.msg)
			var e *autoreply.Error
			require.True(t, errors.As(err, &e))
			assert.NotEmpty(t, e.Field)
		})
	}
}

func TestValidTags(t *testing.T) {
	t.Parallel()
	assert.True(t, autoreply.Language("").Valid())
	assert.True(t, autoreply.TraditionalChinese.Valid())
	assert.False(t, autoreply.Language("zh-TW").Valid())
	assert.True(t, autoreply.NameFull.Valid())
	assert.False(t, autoreply.NameFormat("last").Valid())
	assert.True(t, autoreply.Close.Valid())
	assert.False(t, autoreply.Kind("").Valid())
}

// FuzzRender checks that rendering any text never panics, never breaks
// RULE-1, never leaves a placeholder or a brace that the text did not escape,
// and that dropping missing names never adds a double space, a space before
// punctuation or surrounding whitespace.
func FuzzRender(f *testing.F) {
	for _, k := range autoreply.Kinds() {
		f.Add(autoreply.Default(k, autoreply.English), "Amy", "Chan", "Bob", "Acme")
		f.Add(autoreply.Default(k, autoreply.TraditionalChinese), "大文", "陳", "", "")
	}
	f.Add("Hi[ {visitor}], ({staff}) {page}!", "", "", "", "")
	f.Add("{{a}} [b {page}] c] {", "x", "y", "z", "w")
	f.Add("Thanks, {visitor}\n{staff}: hi", " ", "", "Bob", "")
	f.Fuzz(func(t *testing.T, text, staffFirst, staffLast, visitor, page string) {
		s := autoreply.Settings{Close: autoreply.Message{On: true, Text: text}, NameFormat: autoreply.NameFull}
		v := autoreply.Values{StaffFirstName: staffFirst, StaffLastName: staffLast, VisitorFirstName: visitor, PageName: page}
		out, isOn, err := autoreply.Render(s, autoreply.Close, v)
		if !isOn {
			t.Fatal("an on message reported off")
		}
		if err != nil {
			var e *autoreply.Error
			if !errors.As(err, &e) || e.Field == "" {
				t.Fatalf("error %v is not an *Error naming its field", err)
			}
			return
		}
		if n := utf8.RuneCountInString(out); n == 0 || n > autoreply.MaxTextChars {
			t.Fatalf("rendered %d characters", n)
		}
		if allValid(text, staffFirst, staffLast, visitor, page) && !utf8.ValidString(out) {
			t.Fatalf("valid input rendered invalid UTF-8: %q", out)
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("surrounding whitespace in %q", out)
		}
		if !strings.Contains(text, "{{") && !strings.Contains(text, "}}") && !strings.ContainsAny(staffFirst+staffLast+visitor+page, "{}") &&
			strings.ContainsAny(out, "{}") {
			t.Fatalf("a placeholder or brace was left in %q (from %q)", out, text)
		}
		// With every name missing, the output is made of the text's own
		// pieces: what the text does not hold, dropping must not add.
		bare, _, err := autoreply.Render(s, autoreply.Close, autoreply.Values{})
		if err != nil {
			return
		}
		for _, bad := range []string{"  ", " ,", " .", " !", " ?", " ;", " :", "()", " \n"} {
			if !strings.Contains(text, bad) && strings.Contains(bare, bad) {
				t.Fatalf("rendering %q without names added %q: %q", text, bad, bare)
			}
		}
	})
}

func allValid(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func BenchmarkRender(b *testing.B) {
	s := autoreply.DefaultSettings(autoreply.English)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := autoreply.Render(s, autoreply.Close, full); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderMissingNames(b *testing.B) {
	s := autoreply.DefaultSettings(autoreply.TraditionalChinese)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := autoreply.Render(s, autoreply.Close, autoreply.Values{}); err != nil {
			b.Fatal(err)
		}
	}
}
