package autoreply

// The placeholders an auto-reply's text may hold. Each is replaced by its
// value when the text is rendered; see Render for what happens when a value
// is missing.
const (
	// PlaceholderStaff is the staff member's name, as the NameFormat shows it.
	PlaceholderStaff = "{staff}"
	// PlaceholderVisitor is the visitor's first name.
	PlaceholderVisitor = "{visitor}"
	// PlaceholderPage is the name of the Facebook Page.
	PlaceholderPage = "{page}"
)

// The default texts. Each reads well with and without the names: a missing
// name is dropped with the punctuation and space that went with it, and the
// parts in square brackets are dropped whole when a name in them is missing.
// Welcome and away are sent before any staff member has the enquiry, so only
// close names the staff member.
var defaults = map[Language]map[Kind]string{
	English: {
		Welcome: "Hi {visitor}, thanks for your message[ to {page}]! Someone from our team will be with you shortly.",
		Away:    "Hi {visitor}, thanks for your message. No one is available to answer right now; we will reply as soon as someone is back.",
		Close:   "Thanks for chatting with us, {visitor}! This conversation is now closed; if you need anything else, just send us a new message.[ Best regards, {staff}]",
	},
	TraditionalChinese: {
		Welcome: "{visitor}您好！[這裡是{page}，]感謝您的訊息，我們的客服人員將盡快回覆您。",
		Away:    "{visitor}您好！感謝您的訊息。目前沒有客服人員可以回覆，我們會在人員上線後盡快回覆您。",
		Close:   "感謝您的聯絡，{visitor}！本次對話已結束；如需其他協助，歡迎隨時再傳訊息給我們。[{staff} 敬上]",
	},
}

// Default returns the SDK's default text of an auto-reply in a language,
// with its placeholders. An unknown language gives the English text; an
// unknown kind gives "".
func Default(k Kind, lang Language) string {
	texts, ok := defaults[lang]
	if !ok {
		texts = defaults[English]
	}
	return texts[k]
}
