package autoreply

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values are the names an auto-reply may mention. An empty value (or one of
// only spaces) is missing; see Render.
type Values struct {
	StaffFirstName   string
	StaffLastName    string
	VisitorFirstName string
	PageName         string
}

// Render returns the text of one auto-reply ready to send, and whether the
// message is on. A message that is off renders to ("", false, nil): there is
// nothing to send and nothing to check.
//
// The text is the message's own, or the default in the settings' language
// (see Settings.Text). Its placeholders are replaced: {staff} by the staff
// member's name as s.NameFormat shows it (see NameFormat.StaffName), {visitor}
// by the visitor's first name and {page} by the Page's name. Placeholders are
// matched ignoring case; {{ and }} stand for literal braces.
//
// A missing value never leaves a gap:
//
//   - the part of the text in square brackets around a placeholder is
//     dropped whole when any of its values is missing: "Hi[ {visitor}]!"
//     gives "Hi!" (brackets with no placeholder inside are ordinary text);
//   - a placeholder that is missing is dropped together with the space and
//     punctuation that only made sense with it: "Thanks, {visitor}!" gives
//     "Thanks!", "Hi {visitor}, welcome" gives "Hi, welcome", "{visitor}您好！"
//     gives "您好！", "({staff})" disappears, and no space is left before
//     punctuation or at the end of a line;
//   - the result is trimmed of surrounding whitespace.
//
// Values are substituted once (a name holding "{page}" stays as written) and
// their inner whitespace is collapsed to single spaces.
//
// err is an *Error: ErrPlaceholder for an unknown placeholder or a stray
// brace, ErrTooLong if the rendered text breaks RULE-1 (more than
// MaxTextChars characters), ErrEmpty if it renders to nothing, and
// ErrUnsupported for an unknown kind.
func Render(s Settings, k Kind, v Values) (text string, on bool, err error) {
	if !k.Valid() {
		return "", false, &Error{Field: "auto-reply kind", Err: ErrUnsupported,
			Detail: fmt.Sprintf("%q is not one of welcome, away and close", string(k))}
	}
	tmpl, on := s.Text(k)
	if !on {
		return "", false, nil
	}
	chunks, err := parse(string(k)+" text", tmpl)
	if err != nil {
		return "", true, err
	}
	vals := [numPlaceholders]string{
		phStaff:   s.NameFormat.StaffName(v.StaffFirstName, v.StaffLastName),
		phVisitor: clean(v.VisitorFirstName),
		phPage:    clean(v.PageName),
	}
	text = expand(chunks, &vals)
	field := "rendered " + string(k) + " text"
	if n := utf8.RuneCountInString(text); n > MaxTextChars {
		return "", true, &Error{Field: field, Length: n, Limit: MaxTextChars, Err: ErrTooLong}
	}
	if text == "" {
		return "", true, &Error{Field: field, Length: 0, Limit: 1, Err: ErrEmpty}
	}
	return text, true, nil
}

// Validate checks the settings as an admin saved them, whether each message
// is on or off (a text that is off is kept for when it is switched on). It
// returns every problem at once (errors.Join of *Error values), each naming
// its field and, for a length, the limit and the length:
//
//   - each text at most MaxTextChars characters, with only the known
//     placeholders and no stray brace;
//   - each text still says something when every name is missing;
//   - a known display-name format and language.
//
// A text may still render longer than MaxTextChars once long names are put
// in; Render reports that.
func (s Settings) Validate() error {
	var errs []error
	for _, k := range Kinds() {
		m := s.Message(k)
		field := string(k) + " text"
		if n := utf8.RuneCountInString(m.Text); n > MaxTextChars {
			errs = append(errs, &Error{Field: field, Length: n, Limit: MaxTextChars, Err: ErrTooLong})
			continue
		}
		if isBlank(m.Text) {
			continue // the default text, known good
		}
		chunks, err := parse(field, m.Text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if expand(chunks, &[numPlaceholders]string{}) == "" {
			errs = append(errs, &Error{Field: field + " without names", Length: 0, Limit: 1, Err: ErrEmpty})
		}
	}
	if !s.NameFormat.Valid() {
		errs = append(errs, &Error{Field: "display-name format", Err: ErrUnsupported,
			Detail: fmt.Sprintf("%q is not one of %q (none), %q and %q", string(s.NameFormat), NameNone, NameFirst, NameFull)})
	}
	if !s.Language.Valid() {
		errs = append(errs, &Error{Field: "auto-reply language", Err: ErrUnsupported,
			Detail: fmt.Sprintf("%q is not one of %q and %q", string(s.Language), English, TraditionalChinese)})
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	default:
		return joinedError(errs)
	}
}

// joinedError is errors.Join with the problems on one line, joined by "; ".
type joinedError []error

func (j joinedError) Error() string {
	var b strings.Builder
	for i, e := range j {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

func (j joinedError) Unwrap() []error { return j }

const (
	phStaff = iota
	phVisitor
	phPage
	numPlaceholders
)

var placeholderNames = [numPlaceholders]string{
	phStaff:   PlaceholderStaff,
	phVisitor: PlaceholderVisitor,
	phPage:    PlaceholderPage,
}

// part is a literal text (ph < 0) or a placeholder.
type part struct {
	lit string
	ph  int
}

// chunk is a run of parts; an optional chunk came from square brackets
// around a placeholder and is dropped whole when a value in it is missing.
type chunk struct {
	parts    []part
	optional bool
}

// parse splits a template into chunks, or returns an ErrPlaceholder *Error.
func parse(field, t string) ([]chunk, error) {
	var chunks []chunk
	var top []part
	lit := &strings.Builder{}
	flush := func(parts []part) []part {
		if lit.Len() > 0 {
			parts = append(parts, part{lit: lit.String(), ph: -1})
			lit.Reset()
		}
		return parts
	}
	for i := 0; i < len(t); {
		if t[i] != '[' {
			n, ph, err := scan(field, t, i, lit)
			if err != nil {
				return nil, err
			}
			if ph >= 0 {
				top = append(flush(top), part{ph: ph})
			}
			i += n
			continue
		}
		end := strings.IndexByte(t[i+1:], ']')
		if end < 0 {
			lit.WriteByte('[')
			i++
			continue
		}
		// Scan the bracketed text on its own; with no placeholder it is
		// ordinary text, brackets included.
		inner := t[i+1 : i+1+end]
		seg := &strings.Builder{}
		var segParts []part
		hasPH := false
		for j := 0; j < len(inner); {
			n, ph, err := scan(field, t, i+1+j, seg)
			if err != nil {
				return nil, err
			}
			if ph >= 0 {
				if seg.Len() > 0 {
					segParts = append(segParts, part{lit: seg.String(), ph: -1})
					seg.Reset()
				}
				segParts = append(segParts, part{ph: ph})
				hasPH = true
			}
			j += n
		}
		if !hasPH {
			lit.WriteByte('[')
			lit.WriteString(seg.String())
			lit.WriteByte(']')
		} else {
			if seg.Len() > 0 {
				segParts = append(segParts, part{lit: seg.String(), ph: -1})
			}
			top = flush(top)
			if len(top) > 0 {
				chunks = append(chunks, chunk{parts: top})
				top = nil
			}
			chunks = append(chunks, chunk{parts: segParts, optional: true})
		}
		i += 1 + end + 1
	}
	top = flush(top)
	if len(top) > 0 {
		chunks = append(chunks, chunk{parts: top})
	}
	return chunks, nil
}

// scan reads one item of t at i: a placeholder (returned as ph >= 0), an
// escaped brace or one byte of text (written to lit). It returns how many
// bytes it read. The closing bracket of a segment never reaches scan, since
// the caller bounds the segment.
func scan(field, t string, i int, lit *strings.Builder) (n, ph int, err error) {
	switch t[i] {
	case '{':
		if i+1 < len(t) && t[i+1] == '{' {
			lit.WriteByte('{')
			return 2, -1, nil
		}
		end := strings.IndexByte(t[i:], '}')
		if end > 0 {
			name := t[i : i+end+1]
			for k, p := range placeholderNames {
				if strings.EqualFold(name, p) {
					return len(name), k, nil
				}
			}
			if !strings.ContainsAny(name[1:], "{[]\n") && utf8.RuneCountInString(name) <= 32 {
				return 0, -1, placeholderError(field, t, i, fmt.Sprintf("has an unknown placeholder %s", name))
			}
		}
		return 0, -1, placeholderError(field, t, i, "has a '{' that starts no placeholder")
	case '}':
		if i+1 < len(t) && t[i+1] == '}' {
			lit.WriteByte('}')
			return 2, -1, nil
		}
		return 0, -1, placeholderError(field, t, i, "has a '}' that ends no placeholder")
	default:
		lit.WriteByte(t[i])
		return 1, -1, nil
	}
}

func placeholderError(field, t string, i int, what string) error {
	return &Error{Field: field, Err: ErrPlaceholder, Detail: fmt.Sprintf(
		"%s at character %d; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace)",
		what, utf8.RuneCountInString(t[:i])+1)}
}

// expand puts the values into the chunks, dropping what a missing value
// leaves dangling (see Render).
func expand(chunks []chunk, vals *[numPlaceholders]string) string {
	r := renderer{buf: make([]byte, 0, 256)}
	for _, c := range chunks {
		if c.optional && missingIn(c, vals) {
			r.gap = true
			continue
		}
		for _, p := range c.parts {
			switch {
			case p.ph < 0:
				r.text(p.lit)
			case vals[p.ph] == "":
				r.gap = true
			default:
				r.text(vals[p.ph])
			}
		}
	}
	if r.gap {
		r.buf = join(r.buf, r.ws)
	}
	return strings.TrimSpace(string(r.buf))
}

func missingIn(c chunk, vals *[numPlaceholders]string) bool {
	for _, p := range c.parts {
		if p.ph >= 0 && vals[p.ph] == "" {
			return true
		}
	}
	return false
}

// renderer builds the text. gap: something was dropped since the last text;
// ws: the spaces met since that gap, held until the next text shows what
// they sit between.
type renderer struct {
	buf []byte
	gap bool
	ws  string
}

func (r *renderer) text(s string) {
	if !r.gap {
		r.buf = append(r.buf, s...)
		return
	}
	if strings.TrimLeftFunc(s, isHSpace) == "" {
		r.ws += s
		return
	}
	r.buf = join(r.buf, r.ws+s)
	r.gap, r.ws = false, ""
}

// join appends right to left where something was dropped between them,
// tidying the spaces and punctuation around the hole.
func join(left []byte, right string) []byte {
	lt := trimRightHSpace(left)
	ws := string(left[len(lt):])
	rt := strings.TrimLeftFunc(right, isHSpace)
	if ws == "" {
		ws = right[:len(right)-len(rt)]
	}
	// An emptied pair of brackets or quotes goes too: "({staff})".
	for {
		l, ln := lastRune(lt)
		r, rn := utf8.DecodeRuneInString(rt)
		if ln == 0 || rn == 0 || closerOf(l) != r {
			break
		}
		lt = lt[:len(lt)-ln]
		rt = rt[rn:]
		t := trimRightHSpace(lt)
		if ws == "" {
			ws = string(lt[len(t):])
		}
		lt = t
		t2 := strings.TrimLeftFunc(rt, isHSpace)
		if ws == "" {
			ws = rt[:len(rt)-len(t2)]
		}
		rt = t2
	}
	// At the start of a line nothing before the hole needs its punctuation.
	if l, ln := lastRune(lt); ln == 0 || l == '\n' {
		rt = strings.TrimLeftFunc(rt, func(r rune) bool { return isLeadPunct(r) || isHSpace(r) })
		return append(lt, rt...)
	}
	l, _ := lastRune(lt)
	r, _ := utf8.DecodeRuneInString(rt)
	if (isTerminal(l) && (isTerminal(r) || isSeparator(r))) || (isSeparator(l) && isSeparator(r)) {
		// "Hello. {x}. Bye", "Thanks, {x}, bye": one mark is enough.
		rt = strings.TrimLeftFunc(rt, func(r rune) bool { return isTerminal(r) || isSeparator(r) })
		t := strings.TrimLeftFunc(rt, isHSpace)
		if ws == "" {
			ws = rt[:len(rt)-len(t)]
		}
		rt = t
		r, _ = utf8.DecodeRuneInString(rt)
	}
	endOfLine := rt == "" || r == '\n'
	if isSeparator(l) && (endOfLine || isTerminal(r) || isCloser(r)) {
		// "Thanks, {x}!" gives "Thanks!"; "Thanks, {x}" gives "Thanks".
		lt = trimRightHSpace(trimRightFunc(lt, isSeparator))
		return append(lt, rt...)
	}
	if endOfLine || isLeadPunct(r) || (closerOf(l) != 0 && l != '"') {
		return append(lt, rt...)
	}
	lt = append(lt, ws...)
	return append(lt, rt...)
}

func lastRune(b []byte) (rune, int) {
	if len(b) == 0 {
		return 0, 0
	}
	return utf8.DecodeLastRune(b)
}

func trimRightFunc(b []byte, f func(rune) bool) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeLastRune(b)
		if !f(r) {
			break
		}
		b = b[:len(b)-n]
	}
	return b
}

func trimRightHSpace(b []byte) []byte { return trimRightFunc(b, isHSpace) }

// isHSpace: space within a line.
func isHSpace(r rune) bool { return r == '\t' || unicode.Is(unicode.Zs, r) }

// isTerminal: marks that end a sentence.
func isTerminal(r rune) bool {
	switch r {
	case '.', '!', '?', '…', '。', '！', '？', '．':
		return true
	}
	return false
}

// isSeparator: marks that join parts of a sentence and dangle when the part
// after them goes.
func isSeparator(r rune) bool {
	switch r {
	case ',', ';', ':', '、', '，', '；', '：', '—', '–':
		return true
	}
	return false
}

// isCloser: closing brackets and quotes.
func isCloser(r rune) bool {
	switch r {
	case ')', ']', '）', '」', '』', '”', '’', '》', '〉', '】':
		return true
	}
	return false
}

// isLeadPunct: marks that never follow a space.
func isLeadPunct(r rune) bool { return isTerminal(r) || isSeparator(r) || isCloser(r) }

// closerOf returns the closing mark of an opening bracket or quote, or 0.
func closerOf(r rune) rune {
	switch r {
	case '(':
		return ')'
	case '[':
		return ']'
	case '（':
		return '）'
	case '「':
		return '」'
	case '『':
		return '』'
	case '“':
		return '”'
	case '‘':
		return '’'
	case '《':
		return '》'
	case '〈':
		return '〉'
	case '【':
		return '】'
	case '"':
		return '"'
	}
	return 0
}

func clean(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

func allHan(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return s != ""
}
