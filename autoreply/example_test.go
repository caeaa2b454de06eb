package autoreply_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pagedesk/pagedesk/autoreply"
)

func ExampleRender() {
	s := autoreply.DefaultSettings(autoreply.English)
	s.Close = autoreply.Message{On: true, Text: "Thanks, {visitor}! [This was {staff} of {page}. ]Bye for now."}

	// Every name known.
	text, on, err := autoreply.Render(s, autoreply.Close, autoreply.Values{
		StaffFirstName: "Amy", StaffLastName: "Chan", VisitorFirstName: "Bob", PageName: "Acme",
	})
	fmt.Println(text, on, err)

	// No names: the text still reads well.
	text, _, _ = autoreply.Render(s, autoreply.Close, autoreply.Values{})
	fmt.Println(text)
	// Output:
	// Thanks, Bob! This was Amy of Acme. Bye for now. true <nil>
	// Thanks! Bye for now.
}

func ExampleRender_defaults() {
	s := autoreply.DefaultSettings(autoreply.TraditionalChinese)
	for _, v := range []autoreply.Values{{VisitorFirstName: "小明", PageName: "好味餐廳"}, {}} {
		text, _, _ := autoreply.Render(s, autoreply.Welcome, v)
		fmt.Println(text)
	}
	// Output:
	// 小明您好！這裡是好味餐廳，感謝您的訊息，我們的客服人員將盡快回覆您。
	// 您好！感謝您的訊息，我們的客服人員將盡快回覆您。
}

func ExampleSettings_Validate() {
	s := autoreply.Settings{
		Welcome:    autoreply.Message{On: true, Text: strings.Repeat("歡", 2001)},
		Away:       autoreply.Message{On: true, Text: "Back soon, {vistor}"},
		NameFormat: autoreply.NameFirst,
	}
	err := s.Validate()
	var e *autoreply.Error
	if errors.As(err, &e) {
		fmt.Println(e.Field, e.Length, e.Limit)
	}
	fmt.Println(errors.Is(err, autoreply.ErrTooLong), errors.Is(err, autoreply.ErrPlaceholder))
	fmt.Println(err)
	// Output:
	// welcome text 2001 2000
	// true true
	// welcome text is 2001 characters; the limit is 2000; away text has an unknown placeholder {vistor} at character 12; the placeholders are {staff}, {visitor} and {page} (write {{ or }} for a brace)
}

func ExampleNameFormat_StaffName() {
	for _, f := range []autoreply.NameFormat{autoreply.NameNone, autoreply.NameFirst, autoreply.NameFull} {
		fmt.Printf("%q %q\n", f.StaffName("Amy", "Chan"), f.StaffName("大文", "陳"))
	}
	// Output:
	// "" ""
	// "Amy" "大文"
	// "Amy Chan" "陳大文"
}

func ExampleDefault() {
	fmt.Println(autoreply.Default(autoreply.Away, autoreply.English))
	// Output:
	// Hi {visitor}, thanks for your message. No one is available to answer right now; we will reply as soon as someone is back.
}
