package channel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
)

func signed(secret string, payload map[string]any) string {
	b, _ := json.Marshal(payload)
	return messengertest.SignedRequestPayload(secret, b)
}

func TestDeauthorizeFromThePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	sr := signed(e.fb.AppSecret, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": e.clock.Now().Unix(), "profile_id": "p1", "user_id": "0"})

	w := post(e.svc.DeauthorizeHandler(), sr)
	require.Equal(t, http.StatusOK, w.Code)
	got, err := e.st.Channel(t.Context(), ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, got.Status)
	assert.Contains(t, got.DisconnectReason, "the app was removed from the Page")
	assert.Equal(t, e.clock.Now(), got.DisconnectedAt)
	assert.ErrorIs(t, e.svc.CanSend(got), channel.ErrDisconnected)
	assert.Equal(t, channel.NoticeDisconnected, e.notices.last().Kind)

	// A Page with no channel is fine too.
	sr = signed(e.fb.AppSecret, map[string]any{"algorithm": "HMAC-SHA256", "profile_id": "p-unknown"})
	assert.Equal(t, http.StatusOK, post(e.svc.DeauthorizeHandler(), sr).Code)
}

func TestDeauthorizeByTheAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *channel.Config) {
		c.Services = func(context.Context) ([]string, error) { return []string{"svc-a", "svc-b"}, nil }
	})
	a := e.connect(t)
	b, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-b", "admin-b", "code-2"), PageID: "p3"})
	require.NoError(t, err)

	// u1 removes the app from their account: Facebook revokes the tokens
	// their grant gave, then calls back naming only the user.
	e.fb.RevokeUserToken("u1")
	e.fb.RevokePageToken("p1")
	w := post(e.svc.DeauthorizeHandler(), messengertest.SignedRequest(e.fb.AppSecret, "u1"))
	require.Equal(t, http.StatusOK, w.Code)

	got, err := e.st.Channel(t.Context(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelDisconnected, got.Status)
	assert.Contains(t, got.DisconnectReason, "removed the app from their Facebook account")
	n := e.notices.last()
	assert.Equal(t, channel.NoticeDisconnected, n.Kind)
	assert.Equal(t, "u1", n.UserID)

	other, err := e.st.Channel(t.Context(), b.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelActive, other.Status, "a channel whose token still works stays")
}

func TestDeauthorizeWithoutServicesTellsTheHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	w := post(e.svc.DeauthorizeHandler(), messengertest.SignedRequest(e.fb.AppSecret, "u1"))
	require.Equal(t, http.StatusOK, w.Code)
	n := e.notices.last()
	assert.Equal(t, channel.NoticeDeauthorized, n.Kind)
	assert.Equal(t, "u1", n.UserID)

	// The channel goes at its next failed send.
	e.fb.RevokePageToken("p1")
	_, err := e.svc.PageClient(ch).Send(t.Context(), messengerText("psid-1", "hi"))
	gone, rerr := e.svc.ReportGraphError(t.Context(), ch.ID, err)
	require.NoError(t, rerr)
	assert.True(t, gone)
}

func TestCallbacksRefuseForgedSignedRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	payload := map[string]any{"algorithm": "HMAC-SHA256", "issued_at": time.Now().Unix(), "profile_id": "p1", "user_id": "psid-1"}
	tests := []struct {
		name string
		sr   string
	}{
		{"signed with another secret", signed("not-the-app-secret", payload)},
		{"another algorithm", signed(e.fb.AppSecret, map[string]any{"algorithm": "HMAC-SHA1", "profile_id": "p1", "user_id": "psid-1"})},
		{"no signature", "." + signed(e.fb.AppSecret, payload)[44:]},
		{"missing", ""},
		{"garbage", "not a signed request"},
	}
	for _, tt := range tests {
		for name, h := range map[string]http.Handler{"deauthorize": e.svc.DeauthorizeHandler(), "data deletion": e.svc.DataDeletionHandler()} {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				w := post(h, tt.sr)
				assert.Equal(t, http.StatusForbidden, w.Code)
				assert.NotContains(t, w.Body.String(), "confirmation_code")
			})
		}
	}
	got, err := e.st.Channel(t.Context(), ch.ID)
	require.NoError(t, err)
	assert.Equal(t, store.ChannelActive, got.Status, "nothing forged changed anything")

	for _, h := range []http.Handler{e.svc.DeauthorizeHandler(), e.svc.DataDeletionHandler()} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/cb?signed_request="+url.QueryEscape(signed(e.fb.AppSecret, payload)), nil))
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	}
}

// visit records an inbound message from psid on ch, in a new enquiry,
// and the visitor's names.
func (e *env) visit(t *testing.T, ch *store.Channel, psid, enquiryID, text string) {
	t.Helper()
	_, err := e.st.RecordInbound(t.Context(), store.Inbound{
		ServiceID: ch.ServiceID, ChannelID: ch.ID, PSID: psid, EnquiryID: enquiryID, Open: true, Window: true,
		Message: store.Message{ID: "m-" + enquiryID, Key: "k-" + enquiryID, Kind: store.KindMessage, Direction: store.DirectionIn,
			Author: store.AuthorVisitor, Text: text, State: store.StateReceived, CreatedAt: e.clock.Now()},
	})
	require.NoError(t, err)
	require.NoError(t, e.st.SetProfile(t.Context(), ch.ID, psid, store.Profile{FirstName: "Pat", LastName: "Lee"}, e.clock.Now()))
}

// erased says whether psid's names on ch and the texts of enquiryID are
// gone.
func (e *env) erased(t *testing.T, ch *store.Channel, psid, enquiryID string) bool {
	t.Helper()
	v, err := e.st.Visitor(t.Context(), ch.ID, psid)
	require.NoError(t, err)
	msgs, err := e.st.ListMessages(t.Context(), enquiryID, store.ListOptions{})
	require.NoError(t, err)
	require.Len(t, msgs.Items, 1)
	return v.FirstName == "" && v.LastName == "" && msgs.Items[0].Text == ""
}

func TestDataDeletion(t *testing.T) {
	t.Parallel()
	// Facebook names the person by their app-scoped id; the ID matching
	// API gives their Page-scoped ids. A host that stored the id Facebook
	// gives (user_id) is served too.
	tests := []struct {
		name   string
		userID string
		// mapped are the PSIDs (on p1 and p3) ids_for_pages lists for userID.
		mapped  map[string]string
		erased  []string // visitors erased, "page/psid"
		visitor int
	}{
		{
			name: "app-scoped id with a PSID on each of two Pages", userID: "asid-1",
			mapped: map[string]string{"p1": "person-1", "p3": "person-3"},
			erased: []string{"p1/person-1", "p3/person-3"}, visitor: 2,
		},
		{
			name: "the id the host stored", userID: "person-1",
			erased: []string{"p1/person-1"}, visitor: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			chs := map[string]*store.Channel{"p1": e.connect(t)}
			var err error
			chs["p3"], err = e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-b", "admin-b", "code-2"), PageID: "p3"})
			require.NoError(t, err)
			for page, psid := range tt.mapped {
				e.fb.AddPageScopedID(tt.userID, page, psid)
			}
			e.visit(t, chs["p1"], "person-1", "enq-1", "my phone is 5550100")
			e.visit(t, chs["p3"], "person-3", "enq-3", "my address is 1 Main St")
			e.visit(t, chs["p1"], "someone-else", "enq-9", "keep me")

			w := post(e.svc.DataDeletionHandler(), messengertest.SignedRequest(e.fb.AppSecret, tt.userID))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
			var answer struct {
				URL  string `json:"url"`
				Code string `json:"confirmation_code"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer))
			require.NotEmpty(t, answer.Code)

			want := map[string]bool{}
			for _, v := range tt.erased {
				want[v] = true
			}
			for _, v := range []struct{ page, psid, enquiry string }{{"p1", "person-1", "enq-1"}, {"p3", "person-3", "enq-3"}, {"p1", "someone-else", "enq-9"}} {
				assert.Equal(t, want[v.page+"/"+v.psid], e.erased(t, chs[v.page], v.psid, v.enquiry), "%s on %s erased", v.psid, v.page)
			}

			st, err := e.svc.DeletionStatusOf(answer.Code)
			require.NoError(t, err)
			assert.True(t, st.Completed)
			assert.Equal(t, tt.visitor, st.Visitors)

			sw := httptest.NewRecorder()
			e.svc.DeletionStatusHandler().ServeHTTP(sw, httptest.NewRequest(http.MethodGet, answer.URL, nil))
			require.Equal(t, http.StatusOK, sw.Code)
			assert.JSONEq(t, fmt.Sprintf(`{"confirmation_code":%q,"status":"completed","requested_at":"2026-03-01T09:00:00Z","visitors":%d}`, answer.Code, tt.visitor), sw.Body.String())
		})
	}
}

func TestDataDeletionLookupFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	e.fb.AddPageScopedID("asid-1", "p1", "person-1")
	e.visit(t, ch, "person-1", "enq-1", "my phone is 5550100")

	// Facebook is down: nothing is claimed, so Facebook calls again.
	e.fb.FailNext(1, messengertest.GraphError{Code: 2, Message: "Service temporarily unavailable"})
	w := post(e.svc.DataDeletionHandler(), messengertest.SignedRequest(e.fb.AppSecret, "asid-1"))
	assert.Equal(t, http.StatusBadGateway, w.Code)
	assert.NotContains(t, w.Body.String(), "confirmation_code")
	assert.NotContains(t, w.Body.String(), e.fb.AppSecret)
	assert.False(t, e.erased(t, ch, "person-1", "enq-1"), "nothing is erased before every id is known")

	// The retry succeeds.
	w = post(e.svc.DataDeletionHandler(), messengertest.SignedRequest(e.fb.AppSecret, "asid-1"))
	require.Equal(t, http.StatusOK, w.Code)
	assert.True(t, e.erased(t, ch, "person-1", "enq-1"))
}

func TestDataDeletionStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	e.visit(t, ch, "person-1", "enq-1", "my phone is 5550100")

	w := post(e.svc.DataDeletionHandler(), messengertest.SignedRequest(e.fb.AppSecret, "person-1"))
	require.Equal(t, http.StatusOK, w.Code)
	var answer struct {
		URL  string `json:"url"`
		Code string `json:"confirmation_code"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer))
	require.NotEmpty(t, answer.Code)
	u, err := url.Parse(answer.URL)
	require.NoError(t, err)
	assert.Equal(t, statusURL, u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, answer.Code, u.Query().Get("code"))
	st, err := e.svc.DeletionStatusOf(answer.Code)
	require.NoError(t, err)
	assert.Equal(t, e.clock.Now(), st.RequestedAt)

	// A code this service did not issue is unknown.
	forged := []byte(answer.Code)
	forged[3] ^= 1
	_, err = e.svc.DeletionStatusOf(string(forged))
	assert.ErrorIs(t, err, channel.ErrBadConfirmationCode)
	other := newEnv(t, func(c *channel.Config) { c.AppSecret = "another-secret" })
	_, err = other.svc.DeletionStatusOf(answer.Code)
	assert.ErrorIs(t, err, channel.ErrBadConfirmationCode, "codes are signed by the service's key")
	sw := httptest.NewRecorder()
	e.svc.DeletionStatusHandler().ServeHTTP(sw, httptest.NewRequest(http.MethodGet, statusURL+"?code=nope", nil))
	assert.Equal(t, http.StatusNotFound, sw.Code)

	// A signed_request with no user is refused.
	w = post(e.svc.DataDeletionHandler(), signed(e.fb.AppSecret, map[string]any{"algorithm": "HMAC-SHA256"}))
	assert.Equal(t, http.StatusBadRequest, w.Code)
}
