package channel_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

// FuzzExchangeState: no state but one LoginURL made is ever accepted,
// and checking never panics. A refused state is refused before any call to
// Facebook. Each fuzzing process signs with its own random key, so even a
// seed that was a good state elsewhere is a forgery here.
func FuzzExchangeState(f *testing.F) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e := newEnv(f, func(c *channel.Config) { c.StateKey = key })
	raw, err := e.svc.LoginURL("svc-a", "admin-a")
	if err != nil {
		f.Fatal(err)
	}
	u, _ := url.Parse(raw)
	good := u.Query().Get("state")
	// The harness can tell: this process's own state passes the check.
	if _, err := e.svc.Exchange(f.Context(), "svc-a", "admin-a", url.Values{"state": {good}, "code": {"unknown-code"}}); errors.Is(err, channel.ErrInvalidState) {
		f.Fatalf("a good state was refused: %v", err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add(good + "A")
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, state string) {
		if state == good {
			return
		}
		before := len(e.fb.Requests())
		_, err := e.svc.Exchange(t.Context(), "svc-a", "admin-a", url.Values{"state": {state}, "code": {"code-1"}})
		if !errors.Is(err, channel.ErrInvalidState) {
			t.Fatalf("state %q: got %v, want ErrInvalidState", state, err)
		}
		if len(e.fb.Requests()) != before {
			t.Fatalf("state %q: Facebook was called", state)
		}
	})
}

// FuzzDeletionStatusOf: only codes the service issued are known, and
// looking one up never panics. Each fuzzing process signs with its own
// random key, so a seed issued elsewhere is a forgery here.
func FuzzDeletionStatusOf(f *testing.F) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	e := newEnv(f, func(c *channel.Config) { c.StateKey = key })
	w := post(e.svc.DataDeletionHandler(), messengertest.SignedRequest(e.fb.AppSecret, "person-1"))
	var answer struct {
		Code string `json:"confirmation_code"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || answer.Code == "" {
		f.Fatalf("no confirmation code in %q", w.Body.String())
	}
	issued := answer.Code
	f.Add(issued)
	f.Add(issued[:len(issued)-1])
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("not a code")
	f.Fuzz(func(t *testing.T, c string) {
		st, err := e.svc.DeletionStatusOf(c)
		switch {
		case c == issued && (err != nil || !st.Completed || st.Visitors != 0):
			t.Fatalf("the issued code: %+v, %v", st, err)
		case c != issued && !errors.Is(err, channel.ErrBadConfirmationCode):
			t.Fatalf("code %q: got %+v, %v; want ErrBadConfirmationCode", c, st, err)
		}
	})
}
