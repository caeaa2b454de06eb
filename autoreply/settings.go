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
