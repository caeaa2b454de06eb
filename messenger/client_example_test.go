package messenger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

// Sending as a Page, and telling the failures apart.
func ExamplePage_Send() {
	fake := messengertest.New() // stands in for graph.facebook.com
	defer fake.Close()
	fake.AddPage("1001", "Acme Support", "stored-page-token")

	client, err := messenger.New(messenger.Config{
		AppID:     messengertest.AppID,
		AppSecret: messengertest.AppSecret, // every call then carries appsecret_proof
		BaseURL:   fake.URL,                // omit in production
	})
	if err != nil {
		panic(err)
	}
	page := client.Page("1001", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "stored-page-token"}))

	res, err := page.Send(context.Background(), messenger.OutgoingMessage{
		Recipient:    "2002",
		Text:         "Which branch?",
		QuickReplies: []messenger.QuickReply{{Title: "Taipei", Payload: "TPE"}, {Title: "Kaohsiung", Payload: "KHH"}},
	})
	switch {
	case errors.Is(err, messenger.ErrMaybeDelivered):
		fmt.Println("record the message as uncertain; never resend it")
	case errors.Is(err, messenger.ErrOutsideWindow):
		fmt.Println("the 24-hour window has passed")
	case errors.Is(err, messenger.ErrInvalidToken):
		fmt.Println("the Page must be reconnected")
	case err != nil:
		fmt.Println("failed:", err)
	default:
		fmt.Println("sent to", res.RecipientID)
	}
	// Output: sent to 2002
}

// RULE-1 counts characters, not bytes.
func ExampleValidateText() {
	fmt.Println(messenger.ValidateText(strings.Repeat("中", 2000)))
	fmt.Println(messenger.ValidateText(strings.Repeat("中", 2001)))
	// Output:
	// <nil>
	// messenger: Text is 2,001 characters; the limit is 2,000
}

// Finding the Page-scoped ids of the person a data-deletion callback names
// by their app-scoped id.
func ExampleClient_PageScopedIDs() {
	fake := messengertest.New() // stands in for graph.facebook.com
	defer fake.Close()
	fake.AddPage("1001", "Acme Support", "stored-page-token")
	fake.AddPageScopedID("app-scoped-42", "1001", "psid-7")

	client, err := messenger.New(messenger.Config{
		AppID:     messengertest.AppID, // the call takes the app token: both are needed
		AppSecret: messengertest.AppSecret,
		BaseURL:   fake.URL, // omit in production
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for id, err := range client.PageScopedIDs(context.Background(), "app-scoped-42") {
		if err != nil {
			fmt.Println("lookup failed:", err)
			return
		}
		fmt.Printf("%s on %s (%s)\n", id.PSID, id.PageName, id.PageID)
	}
	// Output:
	// psid-7 on Acme Support (1001)
}
