package channel

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/store"
)

// The limits of a channel's settings.
const (
	// MaxNameChars is the most characters of a channel name (CHAN-1).
	MaxNameChars = 40
	// MaxCustomInfoChars is the most characters of a channel's custom info (CHAN-5).
	MaxCustomInfoChars = 10000
	// MaxGroupChars is the most characters of a dispatch group's name.
	MaxGroupChars = 100
	// MaxStaffIDs is the most staff a channel's dispatch may name.
	MaxStaffIDs = 1000
	// MaxStaffIDChars is the most characters of one staff id.
	MaxStaffIDChars = 200
)

// Settings are what an admin edits of a channel (CHAN-1..5). The rest of
// the record (status, token, Page) belongs to the service.
type Settings struct {
	// Name is required, at most MaxNameChars characters (CHAN-1);
	// surrounding spaces are dropped.
	Name string
	// Dispatch says where the channel's enquiries go and how they are
	// offered (CHAN-2). With neither Group nor StaffIDs set, every staff
	// member of the service is eligible.
	Dispatch store.Dispatch
	// AutoReply holds the welcome, away and close messages and the
	// display-name format (CHAN-3, CHAN-4).
	AutoReply autoreply.Settings
	// CustomInfo is a note for staff (CHAN-5), at most MaxCustomInfoChars
	// characters, shown to staff on every enquiry of the channel and never
	// sent to a visitor.
	CustomInfo store.CustomInfo
	// HumanAgent opts in to the HUMAN_AGENT message tag (human staff may
	// answer for 7 days instead of 24 hours). Only turn it on if the app
	// was granted Human Agent by Facebook.
	HumanAgent bool
}

// SettingsOf returns the settings of a channel record.
func SettingsOf(ch *store.Channel) Settings {
	d := ch.Dispatch
	d.StaffIDs = append([]string(nil), d.StaffIDs...)
	return Settings{Name: ch.Name, Dispatch: d, AutoReply: ch.AutoReply, CustomInfo: ch.CustomInfo, HumanAgent: ch.HumanAgent}
}

// apply copies the settings onto a channel record.
func (s Settings) apply(ch *store.Channel) {
	ch.Name = strings.TrimSpace(s.Name)
	ch.Dispatch = s.Dispatch
	ch.Dispatch.StaffIDs = append([]string(nil), s.Dispatch.StaffIDs...)
	ch.AutoReply = s.AutoReply
	ch.CustomInfo = s.CustomInfo
	ch.HumanAgent = s.HumanAgent
}

// Validate checks every setting and returns every problem at once, each
// naming its field, the limit and the length. errors.Is(err, ErrInvalid)
// holds for every problem; the channel's own are *ValidationError, the
// auto-replies' *autoreply.Error (errors.As finds either).
func (s Settings) Validate() error {
	var errs []error
	if err := ValidateName(s.Name); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateDispatch(s.Dispatch)...)
	if err := ValidateCustomInfo(s.CustomInfo); err != nil {
		errs = append(errs, err)
	}
	if err := s.AutoReply.Validate(); err != nil {
		errs = append(errs, invalidAutoReply{err})
	}
	return join(errs)
}

// invalidAutoReply makes auto-reply problems match ErrInvalid too.
type invalidAutoReply struct{ err error }

func (e invalidAutoReply) Error() string   { return e.err.Error() }
func (e invalidAutoReply) Unwrap() []error { return []error{e.err, ErrInvalid} }

// ValidateName checks a channel name (CHAN-1): required, at most
// MaxNameChars characters (runes: 40 CJK characters fit), on one line.
func ValidateName(name string) error {
	name = strings.TrimSpace(name)
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return &ValidationError{Field: "channel name", Problem: "is required", Length: 0, Limit: MaxNameChars}
	case n > MaxNameChars:
		return &ValidationError{Field: "channel name", Length: n, Limit: MaxNameChars}
	case strings.ContainsFunc(name, unicode.IsControl):
		return &ValidationError{Field: "channel name", Problem: "has a line break or another control character", Length: n, Limit: MaxNameChars}
	case !utf8.ValidString(name):
		return &ValidationError{Field: "channel name", Problem: "is not valid UTF-8", Length: n, Limit: MaxNameChars}
	}
	return nil
}

// ValidateCustomInfo checks a channel's custom info (CHAN-5): at most
// MaxCustomInfoChars characters, counted whether it is on or off (the text
// is kept while off), and some text when on.
func ValidateCustomInfo(c store.CustomInfo) error {
	n := utf8.RuneCountInString(c.Text)
	switch {
	case n > MaxCustomInfoChars:
		return &ValidationError{Field: "custom info", Length: n, Limit: MaxCustomInfoChars}
	case c.On && strings.TrimSpace(c.Text) == "":
		return &ValidationError{Field: "custom info", Problem: "is on but has no text", Length: n, Limit: MaxCustomInfoChars}
	}
	return nil
}

// ValidateDispatch checks dispatch settings (CHAN-2): a known mode, at most
// one target (a group or named staff; neither means every staff member of
// the service), and sane names.
func ValidateDispatch(d store.Dispatch) error { return join(validateDispatch(d)) }

func validateDispatch(d store.Dispatch) []error {
	var errs []error
	switch d.Mode {
	case store.DispatchAll, store.DispatchRoundRobin, store.DispatchLeastBusy:
	default:
		errs = append(errs, &ValidationError{Field: "dispatch mode", Problem: fmt.Sprintf(
			"%q is not one of %q (offer to all at once), %q and %q", string(d.Mode),
			store.DispatchAll, store.DispatchRoundRobin, store.DispatchLeastBusy)})
	}
	if d.Group != "" && len(d.StaffIDs) > 0 {
		errs = append(errs, &ValidationError{Field: "dispatch target", Problem: "names both a staff group and named staff; choose one"})
	}
	if n := utf8.RuneCountInString(d.Group); n > MaxGroupChars {
		errs = append(errs, &ValidationError{Field: "dispatch group", Length: n, Limit: MaxGroupChars})
	} else if d.Group != "" && strings.TrimSpace(d.Group) == "" {
		errs = append(errs, &ValidationError{Field: "dispatch group", Problem: "is only spaces"})
	}
	if n := len(d.StaffIDs); n > MaxStaffIDs {
		errs = append(errs, &ValidationError{Field: "dispatch staff", Problem: fmt.Sprintf("names %d staff; the limit is %d", n, MaxStaffIDs)})
		return errs
	}
	seen := make(map[string]bool, len(d.StaffIDs))
	for i, id := range d.StaffIDs {
		field := fmt.Sprintf("dispatch staff id %d", i+1)
		switch n := utf8.RuneCountInString(id); {
		case strings.TrimSpace(id) == "":
			errs = append(errs, &ValidationError{Field: field, Problem: "is empty"})
		case n > MaxStaffIDChars:
			errs = append(errs, &ValidationError{Field: field, Length: n, Limit: MaxStaffIDChars})
		case seen[id]:
			errs = append(errs, &ValidationError{Field: field, Problem: fmt.Sprintf("repeats %q", id)})
		}
		seen[id] = true
	}
	return errs
}

// defaultName makes a valid channel name of a Page's name.
func defaultName(pageName, pageID string) string {
	name := strings.Join(strings.FieldsFunc(pageName, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if name == "" {
		name = "Page " + pageID
	}
	if utf8.RuneCountInString(name) > MaxNameChars {
		r := []rune(name)
		name = strings.TrimSpace(string(r[:MaxNameChars]))
	}
	return name
}
