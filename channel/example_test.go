package channel_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

// exampleService is a channel service on a fake Graph API that knows one
// admin (code "code-1") managing the Page "p1", Acme.
func exampleService() (*channel.Service, *messengertest.Server, *memstore.Store) {
	fb := messengertest.New()
	fb.AddUser(messengertest.User{
		ID: "u1", Token: "user-token", Code: "code-1", Permissions: allGranted,
		Pages: []messenger.Account{{ID: "p1", Name: "Acme", Category: "Shop", AccessToken: "page-token", Tasks: []string{"MANAGE", "MESSAGING"}}},
	})
	graph, err := messenger.New(fb.Config())
	if err != nil {
		panic(err)
	}
	st := memstore.New()
	svc, err := channel.New(channel.Config{
		Store: st, Graph: graph,
		AppID: fb.AppID, AppSecret: fb.AppSecret,
		RedirectURL:       "https://desk.example/fb/callback",
		DeletionStatusURL: "https://desk.example/fb/deletion",
		NewID:             func() string { return "ch-1" },
	})
	if err != nil {
		panic(err)
	}
	return svc, fb, st
}

// The whole connection of a Page: the admin opens the login URL, Facebook
// sends them back to the redirect URL with a code, the admin picks a Page.
func Example() {
	svc, fb, _ := exampleService()
	defer fb.Close()
	ctx := context.Background()

	loginURL, _ := svc.LoginURL("service-1", "admin-7")
	u, _ := url.Parse(loginURL)
	fmt.Println("scopes:", u.Query().Get("scope"))

	// At the redirect URL: Facebook's query, with the code and our state.
	callback := url.Values{"code": {"code-1"}, "state": {u.Query().Get("state")}}
	login, err := svc.Exchange(ctx, "service-1", "admin-7", callback)
	if err != nil {
		fmt.Println(err)
		return
	}
	for p, err := range svc.Pages(ctx, login) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("page %s %q can message: %t\n", p.ID, p.Name, p.CanMessage)
	}
	ch, err := svc.Connect(ctx, channel.ConnectRequest{Login: login, PageID: "p1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.ID, ch.Name, ch.Status)
	fmt.Println("subscribed:", strings.Join(fb.Subscribed("p1"), ","))
	// Output:
	// scopes: pages_messaging pages_show_list pages_read_engagement pages_manage_metadata
	// page p1 "Acme" can message: true
	// ch-1 Acme active
	// subscribed: messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,message_reactions,messaging_handovers,standby
}

func exampleConnected() (*channel.Service, *messengertest.Server, *store.Channel) {
	svc, fb, _ := exampleService()
	ctx := context.Background()
	loginURL, _ := svc.LoginURL("service-1", "admin-7")
	u, _ := url.Parse(loginURL)
	login, err := svc.Exchange(ctx, "service-1", "admin-7", url.Values{"code": {"code-1"}, "state": {u.Query().Get("state")}})
	if err != nil {
		panic(err)
	}
	ch, err := svc.Connect(ctx, channel.ConnectRequest{Login: login, PageID: "p1"})
	if err != nil {
		panic(err)
	}
	return svc, fb, ch
}

// After a failed send, the enquiry service reports the error; an invalid
// token disconnects the channel, which then sends nothing.
func ExampleService_ReportGraphError() {
	svc, fb, ch := exampleConnected()
	defer fb.Close()
	ctx := context.Background()

	fb.RevokePageToken("p1") // the admin changed their password
	_, err := svc.PageClient(ch).Send(ctx, messenger.OutgoingMessage{Recipient: "psid-1", Text: "Hello"})
	disconnected, _ := svc.ReportGraphError(ctx, ch.ID, err)
	fmt.Println("disconnected:", disconnected)

	ch, _ = svc.Get(ctx, "service-1", ch.ID)
	err = svc.CanSend(ch)
	fmt.Println(errors.Is(err, channel.ErrDisconnected))
	// Output:
	// disconnected: true
	// true
}

func ExampleService_Diagnose() {
	svc, fb, ch := exampleConnected()
	defer fb.Close()
	report, err := svc.Diagnose(context.Background(), "service-1", ch.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range report.Checks {
		if c.OK {
			fmt.Printf("ok   %s\n", c.Name)
		} else {
			fmt.Printf("FAIL %s: %s\n", c.Name, c.Hint)
		}
	}
	// Output:
	// ok   status
	// ok   token
	// ok   permission pages_messaging
	// ok   permission pages_show_list
	// ok   permission pages_read_engagement
	// ok   permission pages_manage_metadata
	// ok   subscription
	// FAIL last webhook: check the app's webhook callback URL and verify token in the app dashboard, then send the Page a message or run SelfTest
}

func ExampleService_Update() {
	svc, fb, ch := exampleConnected()
	defer fb.Close()
	ctx := context.Background()

	set := channel.SettingsOf(ch)
	set.Name = "Acme customer service desk, Hong Kong office"
	_, err := svc.Update(ctx, "service-1", ch.ID, ch.Version, set)
	fmt.Println(err)

	set.Name = "Acme support"
	set.Dispatch = store.Dispatch{Mode: store.DispatchRoundRobin, Group: "support"}
	updated, err := svc.Update(ctx, "service-1", ch.ID, ch.Version, set)
	fmt.Println(updated.Name, updated.Version, err)

	// A second edit from the same stale form is a conflict.
	_, err = svc.Update(ctx, "service-1", ch.ID, ch.Version, set)
	fmt.Println(errors.Is(err, channel.ErrConflict))
	// Output:
	// channel name is 44 characters; the limit is 40
	// Acme support 2 <nil>
	// true
}

func ExampleValidateName() {
	fmt.Println(channel.ValidateName(strings.Repeat("客", 40)))
	fmt.Println(channel.ValidateName(strings.Repeat("客", 41)))
	// Output:
	// <nil>
	// channel name is 41 characters; the limit is 40
}
