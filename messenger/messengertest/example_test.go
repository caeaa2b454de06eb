package messengertest_test

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

// A backend's tests point its messenger.Client at the fake Graph API,
// send, and check what Facebook would have received; then make the next
// call fail as Facebook does.
func Example() {
	srv := messengertest.New() // in a test: messengertest.NewServer(t)
	defer srv.Close()
	srv.AddPage("1001", "Acme Support", "page-token-1001")

	client, err := messenger.New(srv.Config())
	if err != nil {
		panic(err)
	}
	page := client.Page("1001", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "page-token-1001"}))
	ctx := context.Background()

	res, err := page.Send(ctx, messenger.OutgoingMessage{Recipient: "2002", Text: "您好！我們很快回覆您。"})
	fmt.Println(res.RecipientID, err)
	for _, m := range srv.Sent("1001") {
		fmt.Printf("%s -> %s: %s (%s)\n", m.PageID, m.RecipientID, m.Text, m.MessagingType)
	}

	// The visitor's 24-hour window has closed.
	srv.FailNext(1, messengertest.GraphError{Code: 10, Subcode: 2018278})
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: "2002", Text: "Still there?"})
	fmt.Println(errors.Is(err, messenger.ErrOutsideWindow))

	// The admin changed their password: the Page token is dead.
	srv.RevokePageToken("1001")
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: "2002", Text: "Hello?"})
	fmt.Println(errors.Is(err, messenger.ErrInvalidToken))
	// Output:
	// 2002 <nil>
	// 1001 -> 2002: 您好！我們很快回覆您。 (RESPONSE)
	// true
	// true
}
