package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/enquiry"
	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

// TestDemo starts the contact centre in demo mode on a free port, drives
// the staff API as the console does (an enquiry arrives, take, reply, the
// rules refuse, close) and stops it. It waits on the server's own live
// events, never on the wall clock.
func TestDemo(t *testing.T) {
	demoFlow(t)
}

// TestDemoOnPostgres runs the same flow with -postgres, in a schema of its
// own, when SQLSTORE_DSN names a PostgreSQL (as in CI; see README.md).
func TestDemoOnPostgres(t *testing.T) {
	dsn, schema := testSchema(t)
	demoFlow(t, "-postgres", dsn, "-postgres-schema", schema)
}

// TestTwoProcessesOnPostgres runs two contact centres on one PostgreSQL,
// as behind a load balancer: a visitor's message that lands on A shows up
// live on B's console, the take is one compare-and-set across both, and B
// answers. Skipped without SQLSTORE_DSN.
func TestTwoProcessesOnPostgres(t *testing.T) {
	dsn, schema := testSchema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := []string{"-postgres", dsn, "-postgres-schema", schema}
	a := startDemo(ctx, t, args...)
	b := startDemo(ctx, t, args...) // after A: B reconnects the demo Page A connected
	eventsB := b.events(ctx, t)

	a.call(ctx, t, "POST", "/demo/visitor?lang=en", "", nil, http.StatusOK, nil)
	id := waitEvent(ctx, t, eventsB, func(e liveEvent) bool { return e.Type == string(enquiry.NoticeOpened) }).EnquiryID

	var e enquiryJSON
	b.as("wing").call(ctx, t, "POST", "/api/enquiries/"+id+"/take", "", nil, http.StatusOK, &e)
	var refused struct{ Error apiError }
	a.call(ctx, t, "POST", "/api/enquiries/"+id+"/take", "", nil, http.StatusConflict, &refused)
	assert.Equal(t, "wing took this enquiry first.", refused.Error.Message)
	var sent messageJSON
	b.as("wing").call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", map[string]string{"text": "Hi Alice"}, http.StatusOK, &sent)
	assert.Equal(t, "sent", sent.State)
	waitEvent(ctx, t, eventsB, func(e liveEvent) bool { return e.Type == string(enquiry.NoticeTaken) && e.EnquiryID == id })
	a.stop(ctx, t)
	b.stop(ctx, t)
}

// testSchema returns SQLSTORE_DSN and a fresh schema name, dropped when the
// test ends, or skips the test when SQLSTORE_DSN is not set.
func testSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	dsn = os.Getenv("SQLSTORE_DSN")
	if dsn == "" {
		t.Skip("SQLSTORE_DSN not set: skipping the PostgreSQL run; see README.md, Running on PostgreSQL")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema = "contactcentre_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return dsn, schema
}

func demoFlow(t *testing.T, args ...string) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cc := startDemo(ctx, t, args...)
	events := cc.events(ctx, t)

	// A visitor writes to the demo Page: a signed webhook delivery.
	cc.call(ctx, t, "POST", "/demo/visitor?lang=en", "", nil, http.StatusOK, nil)
	opened := waitEvent(ctx, t, events, func(e liveEvent) bool { return e.Type == string(enquiry.NoticeOpened) })
	id := opened.EnquiryID
	require.NotEmpty(t, id)

	var queue struct{ Enquiries []enquiryJSON }
	cc.call(ctx, t, "GET", "/api/enquiries", "", nil, http.StatusOK, &queue)
	var listed *enquiryJSON
	for i := range queue.Enquiries {
		if queue.Enquiries[i].ID == id {
			listed = &queue.Enquiries[i]
		}
	}
	require.NotNil(t, listed, "the new enquiry is in the queue")
	assert.Equal(t, "Alice", listed.Visitor.FirstName, "the profile was fetched from the fake Graph API")
	assert.NotEmpty(t, listed.Preview)

	// amy takes it; wing cannot take it any more.
	var e enquiryJSON
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/take", "", nil, http.StatusOK, &e)
	assert.Equal(t, "taken", e.Status)
	assert.Equal(t, "amy", e.StaffID)
	var refused struct{ Error apiError }
	cc.as("wing").call(ctx, t, "POST", "/api/enquiries/"+id+"/take", "", nil, http.StatusConflict, &refused)
	assert.Equal(t, "already_taken", refused.Error.Code)
	assert.Equal(t, "amy 已先接手此查詢。", refused.Error.Message, "wing reads it in Traditional Chinese")

	// amy replies; the message goes through the fake Graph API.
	var sent messageJSON
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", map[string]string{"text": "Hello Alice, let me check."}, http.StatusOK, &sent)
	assert.Equal(t, "sent", sent.State)
	assert.Equal(t, "staff", sent.Author)

	// A file: the demo's photo goes through the fake Graph API's upload.
	pic, err := parcelPNG()
	require.NoError(t, err)
	var file messageJSON
	cc.sendFile(ctx, t, id, "parcel.png", "image/png", int64(len(pic)), bytes.NewReader(pic), http.StatusOK, &file)
	require.Len(t, file.Attachments, 1)
	assert.Equal(t, attachmentJSON{Type: "image", Name: "parcel.png", Size: int64(len(pic))}, file.Attachments[0])

	// RULE-3: a file of 25,000,001 bytes is refused from its declared
	// length, before its body is read.
	cc.sendFile(ctx, t, id, "big.bin", "application/octet-stream", messenger.MaxFileBytes+1, zeros{}, http.StatusRequestEntityTooLarge, &refused)
	assert.Equal(t, apiError{Code: "too_large", Rule: "RULE-3",
		Message: `The file "big.bin" is 25.000001 MB; the limit is 25 MB.`}, refused.Error)

	// RULE-1: 2,001 characters are refused, in the staff member's language.
	long := map[string]string{"text": strings.Repeat("字", 2001)}
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", long, http.StatusUnprocessableEntity, &refused)
	assert.Equal(t, apiError{Code: "too_long", Rule: "RULE-1", Message: "The message is 2,001 characters; the limit is 2,000."}, refused.Error)
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", langChinese, long, http.StatusUnprocessableEntity, &refused)
	assert.Equal(t, "訊息有 2,001 個字元，上限為 2,000 個字元。", refused.Error.Message)

	// The conversation as staff see it: the visitor's message, the welcome
	// auto-reply, the reply, and the channel's custom info (CHAN-5).
	var view struct {
		Enquiry    enquiryJSON
		Messages   []messageJSON
		CustomInfo string `json:"custom_info"`
	}
	cc.call(ctx, t, "GET", "/api/enquiries/"+id, "", nil, http.StatusOK, &view)
	assert.Equal(t, demoCustomInfo, view.CustomInfo)
	authors := map[string]int{}
	for _, m := range view.Messages {
		authors[m.Author]++
	}
	assert.Positive(t, authors["visitor"])
	assert.Positive(t, authors["autoreply"], "the welcome auto-reply")
	assert.Equal(t, 2, authors["staff"], "the reply and the file; nothing refused was recorded")

	// RULE-5: 25 hours later the window has passed.
	cc.call(ctx, t, "POST", "/demo/advance?d=25h", "", nil, http.StatusOK, nil)
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", map[string]string{"text": "Still there?"}, http.StatusConflict, &refused)
	assert.Equal(t, apiError{Code: "outside_window", Rule: "RULE-5", Message: enquiry.WindowTextEnglish}, refused.Error)
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", langChinese, map[string]string{"text": "還在嗎?"}, http.StatusConflict, &refused)
	assert.Equal(t, enquiry.WindowTextTraditionalChinese, refused.Error.Message)

	// amy transfers it to wing, and can no longer act on it.
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/transfer", "", map[string]string{"to": "wing"}, http.StatusOK, &e)
	assert.Equal(t, "wing", e.StaffID)
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/transfer", "", map[string]string{"to": "amy"}, http.StatusConflict, &refused)
	assert.Equal(t, "This enquiry is held by wing.", refused.Error.Message)

	// wing closes it: the console hears of it live.
	cc.as("wing").call(ctx, t, "POST", "/api/enquiries/"+id+"/close", "", nil, http.StatusOK, &e)
	assert.Equal(t, "closed", e.Status)
	waitEvent(ctx, t, events, func(e liveEvent) bool { return e.Type == string(enquiry.NoticeClosed) && e.EnquiryID == id })
	cc.call(ctx, t, "GET", "/api/enquiries?status=closed", "", nil, http.StatusOK, &queue)
	require.NotEmpty(t, queue.Enquiries)
	assert.Equal(t, id, queue.Enquiries[0].ID)

	// The channel's diagnosis passes on the fake Graph API.
	var channels struct{ Channels []channelJSON }
	cc.call(ctx, t, "GET", "/api/channels", "", nil, http.StatusOK, &channels)
	require.Len(t, channels.Channels, 1)
	var diag struct {
		OK     bool
		Checks []checkJSON
	}
	cc.call(ctx, t, "POST", "/api/channels/"+channels.Channels[0].ID+"/diagnose", "", nil, http.StatusOK, &diag)
	assert.True(t, diag.OK, "diagnosis: %+v", diag.Checks)

	// Unknown staff are refused; the console page renders.
	cc.as("mallory").call(ctx, t, "GET", "/api/enquiries", "", nil, http.StatusUnauthorized, nil)
	page := cc.get(ctx, t, "/")
	assert.Contains(t, page, `<option value="wing" data-lang="zh-Hant">Wing Chan</option>`)

	cc.stop(ctx, t)
}

// TestConnectFlow connects the demo admin's second Page through the whole
// Facebook Login flow: /connect, the (demo) login dialog, the callback,
// the Page picker, POST /connect/pages.
func TestConnectFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cc := startDemo(ctx, t)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	res := mustDo(t, client, mustRequest(ctx, t, "GET", cc.base+"/connect", nil))
	dialog := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, dialog)
	assert.Contains(t, dialog, "pages_messaging")
	cont := between(dialog, `class="button" href="`, `"`)
	require.NotEmpty(t, cont)
	res = mustDo(t, client, mustRequest(ctx, t, "GET", strings.ReplaceAll(cont, "&amp;", "&"), nil))
	picker := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, picker)
	assert.Contains(t, picker, demoOtherName)
	assert.Contains(t, picker, "already a channel (active)")

	form := strings.NewReader("page_id=" + demoOtherPageID)
	req := mustRequest(ctx, t, "POST", cc.base+"/connect/pages", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res = mustDo(t, client, req)
	result := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, result)
	assert.Contains(t, result, "connected as channel")

	var channels struct{ Channels []channelJSON }
	cc.call(ctx, t, "GET", "/api/channels", "", nil, http.StatusOK, &channels)
	assert.Len(t, channels.Channels, 2)
	cc.stop(ctx, t)
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	full := map[string]string{"PAGEDESK_APP_ID": "1", "PAGEDESK_APP_SECRET": "s", "PAGEDESK_VERIFY_TOKEN": "v"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"demo needs nothing", []string{"-demo"}, nil, ""},
		{"everything from the environment", nil, full, ""},
		{"missing app id", nil, without(full, "PAGEDESK_APP_ID"), "PAGEDESK_APP_ID"},
		{"missing app secret", nil, without(full, "PAGEDESK_APP_SECRET"), "PAGEDESK_APP_SECRET"},
		{"missing verify token", nil, without(full, "PAGEDESK_VERIFY_TOKEN"), "PAGEDESK_VERIFY_TOKEN"},
		{"flag instead of variable", []string{"-verify-token", "v"}, without(full, "PAGEDESK_VERIFY_TOKEN"), ""},
		{"bad staff language", []string{"-demo", "-staff", "a:A:B:fr"}, nil, `language "fr"`},
		{"duplicate staff", []string{"-demo", "-staff", "a:A:B:en,a:C:D:en"}, nil, "appears twice"},
		{"bad log level", []string{"-demo", "-log-level", "loud"}, nil, "-log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestListenSet(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want bool
	}{
		{[]string{"-demo"}, nil, false},
		{[]string{"-demo", "-listen", "127.0.0.1:9000"}, nil, true},
		{[]string{"-demo"}, map[string]string{"PAGEDESK_LISTEN": "127.0.0.1:9000"}, true},
	} {
		c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, tt.want, c.ListenSet, "%v %v", tt.args, tt.env)
	}
}

func without(m map[string]string, key string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// --- a running contact centre -------------------------------------------

type running struct {
	base   string
	staff  string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

func startDemo(ctx context.Context, t *testing.T, args ...string) *running {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	cc := &running{staff: "amy", cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	started := make(chan string, 1)
	go func() {
		// -demo-auto=false: the visitors write only when the test says so,
		// so no timer of the demo races the test's steps.
		cc.done <- run(runCtx, append([]string{"-demo", "-demo-auto=false", "-listen", "127.0.0.1:0", "-log-level", "debug"}, args...),
			func(string) string { return "" }, io.Discard, cc.logs, func(u string) { started <- u })
	}()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			t.Logf("server log:\n%s", cc.logs.String())
		}
	})
	select {
	case cc.base = <-started:
	case err := <-cc.done:
		t.Fatalf("contactcentre stopped at start: %v", err)
	case <-ctx.Done():
		t.Fatal("contactcentre did not start in time")
	}
	return cc
}

// as returns the same server seen by another staff member.
func (cc *running) as(staff string) *running {
	c := *cc
	c.staff = staff
	return &c
}

// stop asks for a graceful shutdown and waits for it.
func (cc *running) stop(ctx context.Context, t *testing.T) {
	t.Helper()
	cc.cancel()
	select {
	case err := <-cc.done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("contactcentre did not stop in time")
	}
}

// call makes an API call as the console does and decodes the answer.
func (cc *running) call(ctx context.Context, t *testing.T, method, path, lang string, body any, wantStatus int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req := mustRequest(ctx, t, method, cc.base+path, rd)
	req.Header.Set("X-Staff-ID", cc.staff)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res := mustDo(t, http.DefaultClient, req)
	data := readBody(t, res)
	require.Equal(t, wantStatus, res.StatusCode, "%s %s: %s", method, path, data)
	if out != nil {
		require.NoError(t, json.Unmarshal([]byte(data), out), data)
	}
}

func (cc *running) get(ctx context.Context, t *testing.T, path string) string {
	t.Helper()
	res := mustDo(t, http.DefaultClient, mustRequest(ctx, t, "GET", cc.base+path, nil))
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	return body
}

// sendFile posts a file as the console does: the body is the file. With
// Expect: 100-continue the body is only sent if the server wants it.
func (cc *running) sendFile(ctx context.Context, t *testing.T, id, name, typ string, size int64, body io.Reader, wantStatus int, out any) {
	t.Helper()
	req := mustRequest(ctx, t, "POST", cc.base+"/api/enquiries/"+id+"/file", io.LimitReader(body, size))
	req.ContentLength = size
	req.Header.Set("Content-Type", typ)
	req.Header.Set("X-File-Name", url.QueryEscape(name))
	req.Header.Set("X-Staff-ID", cc.staff)
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Minute}}
	defer client.CloseIdleConnections()
	res := mustDo(t, client, req)
	data := readBody(t, res)
	require.Equal(t, wantStatus, res.StatusCode, data)
	require.NoError(t, json.Unmarshal([]byte(data), out), data)
}

// zeros is an endless file of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// events subscribes to the live stream as the console's EventSource does.
func (cc *running) events(ctx context.Context, t *testing.T) <-chan liveEvent {
	t.Helper()
	res := mustDo(t, http.DefaultClient, mustRequest(ctx, t, "GET", cc.base+"/api/events", nil))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	out := make(chan liveEvent, 256)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e liveEvent
			if json.Unmarshal([]byte(data), &e) == nil {
				out <- e
			}
		}
	}()
	return out
}

// waitEvent returns the first event that matches, failing at ctx's deadline.
func waitEvent(ctx context.Context, t *testing.T, events <-chan liveEvent, match func(liveEvent) bool) liveEvent {
	t.Helper()
	for {
		select {
		case e, ok := <-events:
			require.True(t, ok, "the event stream ended")
			if match(e) {
				return e
			}
		case <-ctx.Done():
			t.Fatal("the expected live event did not come")
		}
	}
}

func mustRequest(ctx context.Context, t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	require.NoError(t, err)
	return req
}

func mustDo(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	res, err := c.Do(req)
	require.NoError(t, err)
	return res
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFacebookCallbacks posts Facebook's signed callbacks to the running
// contact centre: data deletion (answered with a status URL that works) and
// deauthorize from the Page, after which the channel is disconnected, the
// consoles hear of it, and a staff reply is refused with the reason
// (CONN-7). A forged signed_request is refused.
func TestFacebookCallbacks(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cc := startDemo(ctx, t)
	events := cc.events(ctx, t)
	cc.call(ctx, t, "POST", "/demo/visitor?lang=zh-Hant", "", nil, http.StatusOK, nil)
	id := waitEvent(ctx, t, events, func(e liveEvent) bool { return e.Type == string(enquiry.NoticeOpened) }).EnquiryID
	cc.as("wing").call(ctx, t, "POST", "/api/enquiries/"+id+"/take", "", nil, http.StatusOK, nil)

	post := func(path, signed string) (int, string) {
		req := mustRequest(ctx, t, "POST", cc.base+path, strings.NewReader(url.Values{"signed_request": {signed}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res := mustDo(t, http.DefaultClient, req)
		return res.StatusCode, readBody(t, res)
	}
	forged := messengertest.SignedRequest("not-the-app-secret", demoFacebookUser)
	status, _ := post("/facebook/deauthorize", forged)
	assert.Equal(t, http.StatusForbidden, status)

	// Data deletion: the visitor's data is erased; the status URL answers.
	status, body := post("/facebook/data-deletion", messengertest.SignedRequest(messengertest.AppSecret, demoVisitors[1].psid))
	require.Equal(t, http.StatusOK, status, body)
	var deletion struct {
		URL              string `json:"url"`
		ConfirmationCode string `json:"confirmation_code"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &deletion))
	require.True(t, strings.HasPrefix(deletion.URL, cc.base+"/facebook/data-deletion/status?code="), deletion.URL)
	assert.Contains(t, cc.get(ctx, t, strings.TrimPrefix(deletion.URL, cc.base)), `"status":"completed"`)

	// Deauthorize from the Page: the channel is disconnected.
	payload, err := json.Marshal(map[string]any{"algorithm": "HMAC-SHA256", "issued_at": time.Now().Unix(),
		"user_id": demoFacebookUser, "profile_id": demoPageID})
	require.NoError(t, err)
	status, body = post("/facebook/deauthorize", messengertest.SignedRequestPayload(messengertest.AppSecret, payload))
	require.Equal(t, http.StatusOK, status, body)
	waitEvent(ctx, t, events, func(e liveEvent) bool { return e.Type == "channel.disconnected" })
	var channels struct{ Channels []channelJSON }
	cc.call(ctx, t, "GET", "/api/channels", "", nil, http.StatusOK, &channels)
	require.Len(t, channels.Channels, 1)
	assert.Equal(t, "disconnected", channels.Channels[0].Status)
	assert.NotEmpty(t, channels.Channels[0].DisconnectReason)

	var refused struct{ Error apiError }
	cc.as("wing").call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", map[string]string{"text": "你好"}, http.StatusConflict, &refused)
	assert.Equal(t, apiError{Code: "channel_disconnected", Rule: "CONN-7",
		Message: "此頻道與 Facebook 專頁的連接已中斷：管理員須重新連接專頁。原因：the app was removed from the Page on Facebook; connect the Page again"}, refused.Error)
	cc.stop(ctx, t)
}

// TestShutdownLetsWebhooksFinish stops the contact centre while a webhook
// delivery is in flight: the listener closes at once, and the delivery
// still completes (and is answered 200) before run returns.
func TestShutdownLetsWebhooksFinish(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	testHookWebhook = func(r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	t.Cleanup(func() { testHookWebhook = nil })

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cc := startDemo(ctx, t)
	answered := make(chan int, 1)
	go func() {
		req := messengertest.Delivery(messengertest.AppSecret).Text(demoPageID, demoVisitors[0].psid, "are you there?").
			Request(cc.base + "/webhook").WithContext(ctx)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	select {
	case <-entered:
	case <-ctx.Done():
		t.Fatal("the delivery never reached the webhook")
	}

	cc.cancel() // SIGINT
	// Shutdown has begun once new connections are refused.
	for {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Do(mustRequest(ctx, t, "GET", cc.base+"/", nil))
		if err != nil {
			break
		}
		res.Body.Close()
		require.NoError(t, ctx.Err(), "the listener never closed")
	}
	select {
	case err := <-cc.done:
		t.Fatalf("run returned (%v) while a delivery was in flight", err)
	default:
	}
	close(release)
	assert.Equal(t, http.StatusOK, <-answered, "the in-flight delivery was answered")
	select {
	case err := <-cc.done:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("run did not return after the delivery finished")
	}
}

// TestChannelSettings edits the demo channel through the staff API: a
// name over 40 characters is refused in the staff member's language, a
// valid edit moves the version, a stale version is refused (optimistic
// concurrency), and a paused channel sends nothing.
func TestChannelSettings(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cc := startDemo(ctx, t)

	var channels struct{ Channels []channelJSON }
	cc.call(ctx, t, "GET", "/api/channels", "", nil, http.StatusOK, &channels)
	require.Len(t, channels.Channels, 1)
	ch := channels.Channels[0]
	path := "/api/channels/" + ch.ID

	var refused struct{ Error apiError }
	long := ch
	long.Name = strings.Repeat("海", 41)
	cc.as("wing").call(ctx, t, "PUT", path, "", long, http.StatusUnprocessableEntity, &refused)
	assert.Equal(t, "頻道名稱有 41 個字元，上限為 40 個字元。", refused.Error.Message)

	edit := ch
	edit.Name = strings.Repeat("海", 40) // 40 CJK characters fit (CHAN-1)
	edit.CustomInfo.Text = "Ask for the tracking number first."
	var updated channelJSON
	cc.call(ctx, t, "PUT", path, "", edit, http.StatusOK, &updated)
	assert.Equal(t, edit.Name, updated.Name)
	assert.Equal(t, ch.Version+1, updated.Version)
	cc.call(ctx, t, "PUT", path, "", edit, http.StatusConflict, &refused) // the version read is stale now
	assert.Equal(t, "conflict", refused.Error.Code)

	// Pause: an enquiry can still be taken, but nothing is sent.
	events := cc.events(ctx, t)
	cc.call(ctx, t, "POST", path+"/pause", "", nil, http.StatusOK, &updated)
	assert.Equal(t, "paused", updated.Status)
	cc.call(ctx, t, "POST", "/demo/visitor?lang=en", "", nil, http.StatusOK, nil)
	id := waitEvent(ctx, t, events, func(e liveEvent) bool { return e.Type == string(enquiry.NoticeOpened) }).EnquiryID
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/take", "", nil, http.StatusOK, nil)
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", map[string]string{"text": "hello"}, http.StatusConflict, &refused)
	assert.Equal(t, "channel_paused", refused.Error.Code)
	cc.call(ctx, t, "POST", path+"/resume", "", nil, http.StatusOK, &updated)
	assert.Equal(t, "active", updated.Status)
	cc.call(ctx, t, "POST", "/api/enquiries/"+id+"/reply", "", map[string]string{"text": "hello"}, http.StatusOK, nil)
	cc.stop(ctx, t)
}
