package messengertest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

const (
	pageID = "1001"
	token  = "EAAPageToken-messengertest"
)

func proof(tok string) string {
	m := hmac.New(sha256.New, []byte(messengertest.AppSecret))
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// raw makes a request to the fake without the SDK, to check what it
// accepts and refuses on its own.
func raw(t *testing.T, srv *messengertest.Server, method, path string, q url.Values, ctype, body string) (int, map[string]any) {
	t.Helper()
	u := srv.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	require.NoError(t, json.Unmarshal(b, &out), "body %s", b)
	return resp.StatusCode, out
}

func graphCode(out map[string]any) float64 {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return c
}

func TestServerChecksTokenAndProof(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	msg := `{"recipient":{"id":"2"},"message":{"text":"hi"}}`
	path := "/v25.0/" + pageID + "/messages"
	tests := []struct {
		name   string
		q      url.Values
		status int
		code   float64
	}{
		{"no token", url.Values{}, 400, 2500},
		{"unknown token", url.Values{"access_token": {"nope"}, "appsecret_proof": {proof("nope")}}, 400, 190},
		{"missing proof", url.Values{"access_token": {token}}, 400, 100},
		{"wrong proof", url.Values{"access_token": {token}, "appsecret_proof": {proof("other")}}, 400, 100},
		{"ok in the query", url.Values{"access_token": {token}, "appsecret_proof": {proof(token)}}, 200, 0},
	}
	for _, tt := range tests {
		status, out := raw(t, srv, "POST", path, tt.q, "application/json", msg)
		assert.Equal(t, tt.status, status, tt.name)
		assert.Equal(t, tt.code, graphCode(out), tt.name)
	}
	srv.RequireAppSecretProof(false)
	status, _ := raw(t, srv, "POST", path, url.Values{"access_token": {token}}, "application/json", msg)
	assert.Equal(t, 200, status, "proof optional when not required")
	status, out := raw(t, srv, "POST", path, url.Values{"access_token": {token}, "appsecret_proof": {"00"}}, "application/json", msg)
	assert.Equal(t, 400, status, "a wrong proof is always refused")
	assert.Equal(t, float64(100), graphCode(out))

	// Form-encoded sends, as other clients make them.
	form := url.Values{"recipient": {`{"id":"3"}`}, "message": {`{"text":"form"}`}, "messaging_type": {"UPDATE"},
		"access_token": {token}, "appsecret_proof": {proof(token)}}
	status, _ = raw(t, srv, "POST", path, nil, "application/x-www-form-urlencoded", form.Encode())
	assert.Equal(t, 200, status)
	sent := srv.Sent(pageID)
	require.NotEmpty(t, sent)
	assert.Equal(t, messengertest.SentMessage{PageID: pageID, RecipientID: "3", MessageID: sent[len(sent)-1].MessageID, MessagingType: "UPDATE", Text: "form"}, sent[len(sent)-1])
	assert.Len(t, srv.Requests(), len(tests)+3, "every request is recorded")
}

func TestServerRefusesWhatFacebookRefuses(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	srv.AddPage("other", "Other", "EAAOtherPageToken")
	q := url.Values{"access_token": {token}, "appsecret_proof": {proof(token)}}
	tests := []struct {
		name string
		path string
		body string
		code float64
	}{
		{"no recipient", "/v25.0/1001/messages", `{"message":{"text":"hi"}}`, 100},
		{"no message", "/v25.0/1001/messages", `{"recipient":{"id":"2"}}`, 100},
		{"2,001 characters", "/v25.0/1001/messages", `{"recipient":{"id":"2"},"message":{"text":"` + strings.Repeat("中", 2001) + `"}}`, 100},
		{"tag missing", "/v25.0/1001/messages", `{"recipient":{"id":"2"},"messaging_type":"MESSAGE_TAG","message":{"text":"x"}}`, 100},
		{"bad type", "/v25.0/1001/messages", `{"recipient":{"id":"2"},"messaging_type":"PROMO","message":{"text":"x"}}`, 100},
		{"bad attachment", "/v25.0/1001/messages", `{"recipient":{"id":"2"},"message":{"attachment":{"type":"sticker","payload":{"url":"u"}}}}`, 100},
		{"another page's token", "/v25.0/other/messages", `{"recipient":{"id":"2"},"message":{"text":"x"}}`, 200},
		{"wrong version", "/v2.0/1001/messages", `{"recipient":{"id":"2"},"message":{"text":"x"}}`, 100},
		{"unknown path", "/v25.0/1001/feed", `{}`, 100},
	}
	for _, tt := range tests {
		status, out := raw(t, srv, "POST", tt.path, q, "application/json", tt.body)
		assert.Equal(t, 400, status, tt.name)
		assert.Equal(t, tt.code, graphCode(out), tt.name)
	}
	assert.Empty(t, srv.Sent(""))
}

func TestServerFailNextCountsCalls(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	page := srv.Client(t).Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
	srv.FailNext(2, messengertest.GraphError{HTTPStatus: 429, Code: 4, RetryAfter: 5e9, UserTitle: "Slow down", UserMsg: "Try later"})
	ctx := context.Background()
	m := messenger.OutgoingMessage{Recipient: "2", Text: "x"}
	for range 2 {
		_, err := page.Send(ctx, m)
		require.ErrorIs(t, err, messenger.ErrRateLimited)
		d, ok := messenger.RetryAfter(err)
		assert.True(t, ok)
		assert.Equal(t, 5e9, float64(d))
		var ge *messenger.Error
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, "Slow down", ge.UserTitle)
		assert.Equal(t, "Try later", ge.UserMessage)
	}
	_, err := page.Send(ctx, m)
	require.NoError(t, err)
	assert.Len(t, srv.Sent(pageID), 1)
}

func TestServerOnSendAndUsage(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	srv.SetUsage("X-Page-Usage", `{"call_count":88,"total_cputime":1,"total_time":1}`)
	var mu sync.Mutex
	var hooked []string
	srv.OnSend(func(m messengertest.SentMessage) {
		mu.Lock()
		hooked = append(hooked, m.MessageID)
		mu.Unlock()
		srv.Requests() // hooks may call the server
	})
	page := srv.Client(t).Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
	res, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: "2", Text: "x"})
	require.NoError(t, err)
	mu.Lock()
	assert.Equal(t, []string{res.MessageID}, hooked, "the hook ran before Send returned")
	mu.Unlock()
	require.NotNil(t, page.Usage().Page)
	assert.Equal(t, 88, page.Usage().Page.CallCount)
	srv.SetUsage("X-Page-Usage", "")
}

func TestServerPageMe(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page Name", token)
	status, out := raw(t, srv, "GET", "/v25.0/me", url.Values{"access_token": {token}, "appsecret_proof": {proof(token)}}, "", "")
	assert.Equal(t, 200, status)
	assert.Equal(t, map[string]any{"id": pageID, "name": "Page Name"}, out)

	// A new token replaces the old one.
	srv.AddPage(pageID, "Page Name", "EAANewToken")
	status, out = raw(t, srv, "GET", "/v25.0/me", url.Values{"access_token": {token}, "appsecret_proof": {proof(token)}}, "", "")
	assert.Equal(t, 400, status)
	assert.Equal(t, float64(190), graphCode(out))
}

func TestServerUploadNeedsFile(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	q := url.Values{"access_token": {token}, "appsecret_proof": {proof(token)}}
	status, out := raw(t, srv, "POST", "/v25.0/1001/message_attachments", q, "application/json", `{}`)
	assert.Equal(t, 400, status)
	assert.Equal(t, float64(100), graphCode(out))
	body := "--b\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n{\"attachment\":{\"type\":\"image\",\"payload\":{\"is_reusable\":true}}}\r\n--b--\r\n"
	status, _ = raw(t, srv, "POST", "/v25.0/1001/message_attachments", q, "multipart/form-data; boundary=b", body)
	assert.Equal(t, 400, status, "no filedata")
}

func TestServerIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	c := srv.Client(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			page := c.Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
			for range 10 {
				_, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: string(rune('a' + i)), Text: "x"})
				assert.NoError(t, err)
				srv.Sent(pageID)
				srv.AddProfile("p", messenger.Profile{FirstName: "x"})
			}
		})
	}
	wg.Wait()
	sent := srv.Sent(pageID)
	assert.Len(t, sent, 80)
	ids := map[string]bool{}
	for _, m := range sent {
		ids[m.MessageID] = true
	}
	assert.Len(t, ids, 80, "message ids are unique")
}

func TestCloseReleasesStalledCalls(t *testing.T) {
	t.Parallel()
	srv := messengertest.New()
	srv.AddPage(pageID, "Page", token)
	srv.Stall(1)
	arrived := make(chan struct{})
	srv.OnRequest(func(messengertest.Request) { close(arrived) })
	done := make(chan error, 1)
	page := srv.Client(t).Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token}))
	go func() {
		_, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: "2", Text: "x"})
		done <- err
	}()
	<-arrived
	srv.Close()
	err := <-done
	require.ErrorIs(t, err, messenger.ErrMaybeDelivered)
	srv.Close() // twice is fine
}

func TestServerIDsForPagesTakesTheAppToken(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Page", token)
	srv.AddPageScopedID("asid-1", pageID, "psid-old")
	srv.AddPageScopedID("asid-1", pageID, "psid-1")
	path := "/v25.0/asid-1/ids_for_pages"
	app := srv.AppID + "|" + srv.AppSecret

	status, out := raw(t, srv, "GET", path, url.Values{"access_token": {token}, "appsecret_proof": {proof(token)}}, "", "")
	assert.Equal(t, 400, status, "a Page token is refused")
	assert.Equal(t, float64(190), graphCode(out))

	status, out = raw(t, srv, "GET", path, url.Values{"access_token": {app}, "appsecret_proof": {proof(app)}}, "", "")
	require.Equal(t, 200, status)
	assert.Equal(t, []any{map[string]any{"id": "psid-1", "page": map[string]any{"id": pageID, "name": "Page"}}}, out["data"],
		"a second id for the same Page replaces the first")
}
