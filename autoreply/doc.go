// Package autoreply holds a channel's automatic replies (welcome, away,
// close), their default texts in English and Traditional Chinese, the
// display-name formats, and their rendering.
//
// Each of the three messages has an on/off switch and a text; an empty text
// means the SDK's default in the channel's language (CHAN-3). The
// display-name format (CHAN-4) says how the staff member is named. A text
// may hold the placeholders {staff}, {visitor} and {page}; Render fills them
// in and, when a name is missing, drops the placeholder with the spaces and
// punctuation that went with it, and drops whole any part in square brackets
// whose name is missing, so no text is ever sent with a gap in it:
//
//	"Hi {visitor}, thanks for your message[ to {page}]!"
//	→ "Hi Bob, thanks for your message to Acme!"  (both known)
//	→ "Hi, thanks for your message!"                (neither known)
//
// An auto-reply is a message, so its rendered text obeys RULE-1 (at most
// 2,000 characters); Render reports a text that breaks it. Settings.Validate
// checks what an admin saves, naming the field, the limit and the length.
//
// The package imports nothing else of PageDesk, so that package store can
// keep Settings in the channel record. The enquiry service calls Render when
// an event fires an auto-reply; the channel service validates the settings.
package autoreply
