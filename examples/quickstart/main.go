// Command quickstart is the smallest real PageDesk backend: the Messenger
// webhook feeds the enquiry service, which keeps everything in memory, and
// POST /reply answers a visitor. README.md shows this file as its quickstart.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

func main() {
	h, err := newHandler(context.Background(), os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", h))
}

func newHandler(ctx context.Context, getenv func(string) string) (http.Handler, error) {
	env := map[string]string{}
	for _, name := range []string{"PAGEDESK_APP_ID", "PAGEDESK_APP_SECRET", "PAGEDESK_VERIFY_TOKEN", "PAGEDESK_PAGE_ID", "PAGEDESK_PAGE_TOKEN"} {
		if env[name] = getenv(name); env[name] == "" {
			return nil, fmt.Errorf("quickstart: set the environment variable %s (see README.md, Facebook app setup)", name)
		}
	}
	// Plug a store: memstore here, sqlstore or your own in production.
	st := memstore.New()
	err := st.CreateChannel(ctx, &store.Channel{ID: "my-page", ServiceID: "my-service", Name: "My Page",
		PageID: env["PAGEDESK_PAGE_ID"], PageToken: env["PAGEDESK_PAGE_TOKEN"], Status: store.ChannelActive,
		AutoReply: autoreply.Settings{Welcome: autoreply.Message{On: true}}})
	if err != nil {
		return nil, err
	}
	graph, err := messenger.New(messenger.Config{AppID: env["PAGEDESK_APP_ID"], AppSecret: env["PAGEDESK_APP_SECRET"],
		BaseURL: getenv("PAGEDESK_GRAPH_URL")}) // empty: Facebook; tests point it at messengertest
	if err != nil {
		return nil, err
	}
	desk, err := enquiry.New(enquiry.Config{Store: st, Graph: graph,
		Staff: &enquiry.StaticDirectory{Staff: []enquiry.Staff{{ID: "sam", FirstName: "Sam", Available: true}}},
		Notifier: enquiry.NotifierFunc(func(_ context.Context, n enquiry.Notice) {
			if n.Kind == enquiry.NoticeOpened {
				log.Printf("new enquiry %s from %s", n.Enquiry.ID, n.Enquiry.PSID)
			}
		})})
	if err != nil {
		return nil, err
	}
	// Mount the webhook: it verifies each delivery and hands it to the desk.
	webhook, err := messenger.NewWebhook(messenger.WebhookConfig{AppSecret: env["PAGEDESK_APP_SECRET"],
		VerifyToken: env["PAGEDESK_VERIFY_TOKEN"], Handler: desk})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/webhook", webhook)
	// Reply to a visitor: POST /reply?enquiry=ID with the text as the body.
	mux.HandleFunc("POST /reply", func(w http.ResponseWriter, r *http.Request) {
		text, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		id := r.URL.Query().Get("enquiry")
		if _, err := desk.Take(r.Context(), id, "sam"); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		if _, err := desk.Reply(r.Context(), id, "sam", string(text)); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity) // e.g. RULE-1, RULE-5
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux, nil
}
