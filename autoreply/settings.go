package autoreply

// Kind names one of the three automatic replies of a channel (CHAN-3).
type Kind string

// The three automatic replies.
const (
	// Welcome greets a visitor the first time they message the Page.
	Welcome Kind = "welcome"
	// Away is sent only when no staff member is available for a new enquiry.
	Away Kind = "away"
	// Close is sent to the visitor when their enquiry is closed.
	Close Kind = "close"
)

// NameFormat says how an auto-reply names the staff member (CHAN-4).
type NameFormat string

// The display-name formats. The zero value is NameNone.
const (
	NameNone  NameFormat = ""      // the staff member is not named
	NameFirst NameFormat = "first" // first name only
	NameFull  NameFormat = "full"  // first name and last name
)

// Language is a BCP 47 tag of a language the SDK has texts for.
type Language string

// The languages of the default texts. The zero value means English.
const (
	English            Language = "en"
	TraditionalChinese Language = "zh-Hant"
)

// Message is one auto-reply's setting. A message that is off is never sent.
// While it is on, an empty Text means the SDK's default text in the
// channel's language.
type Message struct {
	On   bool
	Text string
}

// Settings are a channel's auto-reply settings. The zero value has every
// message off, names no staff member and uses English.
type Settings struct {
	Welcome    Message
	Away       Message
	Close      Message
	NameFormat NameFormat
	Language   Language
}

// Kinds returns the three auto-replies in the order an admin sees them.
func Kinds() []Kind { return []Kind{Welcome, Away, Close} }

// Valid reports whether k is one of Welcome, Away and Close.
func (k Kind) Valid() bool { return k == Welcome || k == Away || k == Close }

// Valid reports whether f is one of NameNone, NameFirst and NameFull.
func (f NameFormat) Valid() bool { return f == NameNone || f == NameFirst || f == NameFull }

// StaffName returns the staff member's name as the format shows it: empty
// for NameNone, the first name for NameFirst, and for NameFull the first and
// last names joined by a space, or written together family name first when
// both are in Han characters (陳 and 大文 give 陳大文), as such names are
// written. Surrounding and repeated whitespace is dropped. An unknown format
// names nobody.
func (f NameFormat) StaffName(first, last string) string {
	first, last = clean(first), clean(last)
	switch f {
	case NameFirst:
		return first
	case NameFull:
		switch {
		case first == "":
			return last
		case last == "":
			return first
		case allHan(first) && allHan(last):
			return last + first
		default:
			return first + " " + last
		}
	default:
		return ""
	}
}

// Valid reports whether the SDK has texts in l. The zero value (English) is valid.
func (l Language) Valid() bool { return l == "" || l == English || l == TraditionalChinese }

// Message returns the setting of one auto-reply; an unknown kind gives the
// zero Message (off).
func (s Settings) Message(k Kind) Message {
	switch k {
	case Welcome:
		return s.Welcome
	case Away:
		return s.Away
	case Close:
		return s.Close
	default:
		return Message{}
	}
}

// SetMessage replaces the setting of one auto-reply. It reports false (and
// changes nothing) for an unknown kind.
func (s *Settings) SetMessage(k Kind, m Message) bool {
	switch k {
	case Welcome:
		s.Welcome = m
	case Away:
		s.Away = m
	case Close:
		s.Close = m
	default:
		return false
	}
	return true
}

// Text returns the template of one auto-reply: its own text, or the default
// text in the settings' language when its own is empty (or only spaces), and
// whether the message is on. The template still holds its placeholders; see
// Render.
func (s Settings) Text(k Kind) (text string, on bool) {
	m := s.Message(k)
	if isBlank(m.Text) {
		return Default(k, s.Language), m.On
	}
	return m.Text, m.On
}

// DefaultSettings returns settings with all three auto-replies on, each with
// the default text of lang (an empty Text means the default), staff named by
// first name. It is a sensible start for a new channel; the zero Settings
// has every message off.
func DefaultSettings(lang Language) Settings {
	return Settings{
		Welcome:    Message{On: true},
		Away:       Message{On: true},
		Close:      Message{On: true},
		NameFormat: NameFirst,
		Language:   lang,
	}
}
