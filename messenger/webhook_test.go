package messenger

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testVerifyToken = "verify-me"

// recorder is a Handler that records what it gets and fails when told to.
type recorder struct {
	mu    sync.Mutex
	calls [][]Event
	err   error
}

func (r *recorder) HandleEvents(_ context.Context, events []Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, events)
	return r.err
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func newTestWebhook(t *testing.T, h Handler, mutate ...func(*WebhookConfig)) *Webhook {
	t.Helper()
	cfg := WebhookConfig{AppSecret: testSecret, VerifyToken: testVerifyToken, Handler: h}
	for _, m := range mutate {
		m(&cfg)
	}
	wh, err := NewWebhook(cfg)
	require.NoError(t, err)
	return wh
}

func post(body []byte, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if signature != "" {
		r.Header.Set(SignatureHeader, signature)
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNewWebhookValidates(t *testing.T) {
	t.Parallel()
	h := HandlerFunc(func(context.Context, []Event) error { return nil })
	tests := []struct {
		name  string
		cfg   WebhookConfig
		field string
	}{
		{"no secret", WebhookConfig{VerifyToken: "v", Handler: h}, "AppSecret"},
		{"no verify token", WebhookConfig{AppSecret: "s", Handler: h}, "VerifyToken"},
		{"no handler", WebhookConfig{AppSecret: "s", VerifyToken: "v"}, "Handler"},
		{"negative cap", WebhookConfig{AppSecret: "s", VerifyToken: "v", Handler: h, MaxBodyBytes: -1}, "MaxBodyBytes"},
		{"timeout at Facebook's limit", WebhookConfig{AppSecret: "s", VerifyToken: "v", Handler: h, Timeout: 20 * time.Second}, "Timeout is 20s"},
		{"negative timeout", WebhookConfig{AppSecret: "s", VerifyToken: "v", Handler: h, Timeout: -time.Second}, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewWebhook(tt.cfg)
			require.ErrorIs(t, err, ErrInvalidWebhookConfig)
			assert.Contains(t, err.Error(), tt.field)
			assert.NotContains(t, err.Error(), `"s"`)
		})
	}
}

func TestWebhookHandshake(t *testing.T) {
	t.Parallel()
	wh := newTestWebhook(t, &recorder{})
	tests := []struct {
		name   string
		method string
		query  url.Values
		status int
	}{
		{"subscribe", http.MethodGet, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"1158201444"}}, 200},
		{"wrong verify token", http.MethodGet, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify-mf"}, "hub.challenge": {"ch-777"}}, 403},
		{"verify token prefix", http.MethodGet, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"verify"}, "hub.challenge": {"ch-777"}}, 403},
		{"no verify token", http.MethodGet, url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"ch-777"}}, 403},
		{"wrong mode", http.MethodGet, url.Values{"hub.mode": {"unsubscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"ch-777"}}, 403},
		{"no challenge", http.MethodGet, url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}}, 403},
		{"PUT", http.MethodPut, nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := serve(wh, httptest.NewRequest(tt.method, "/webhook?"+tt.query.Encode(), nil))
			assert.Equal(t, tt.status, w.Code)
			if tt.status == 200 {
				assert.Equal(t, tt.query.Get("hub.challenge"), w.Body.String())
				assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
			} else {
				if c := tt.query.Get("hub.challenge"); c != "" {
					assert.NotContains(t, w.Body.String(), c, "the challenge is echoed only on success")
				}
			}
		})
	}

	h := Handshake(testVerifyToken)
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {testVerifyToken}, "hub.challenge": {"42"}}
	w := serve(h, httptest.NewRequest(http.MethodGet, "/webhook?"+q.Encode(), nil))
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "42", w.Body.String())
	q.Set("hub.verify_token", "nope")
	assert.Equal(t, 403, serve(h, httptest.NewRequest(http.MethodGet, "/webhook?"+q.Encode(), nil)).Code)
	q.Set("hub.verify_token", "")
	assert.Equal(t, 403, serve(Handshake(""), httptest.NewRequest(http.MethodGet, "/webhook?"+q.Encode(), nil)).Code,
		"an empty verify token matches nothing")
}

func TestWebhookDeliveries(t *testing.T) {
	t.Parallel()
	msg := fixture(t, "message.json")
	const limit = 4096
	over := bytes.Repeat([]byte(" "), limit+1)
	copy(over, msg)
	atLimit := bytes.Repeat([]byte(" "), limit)
	copy(atLimit, msg)
	sha1Sig := "sha1=" + strings.TrimPrefix(sign(msg, testSecret), "sha256=")[:40]
	unknown := []byte(`{"object":"instagram","entry":[{"id":"1","time":1,"messaging":[{"message":{"mid":"m"}}]}]}`)
	noMessaging := []byte(`{"object":"page","entry":[{"id":"1","time":1718000000000,"changes":[]}]}`)
	tests := []struct {
		name     string
		req      func() *http.Request
		status   int
		handled  int // events the handler got; -1: not called
		handlErr error
	}{
		{"one message", func() *http.Request { return post(msg, sign(msg, testSecret)) }, 200, 1, nil},
		{"body exactly at the cap", func() *http.Request { return post(atLimit, sign(atLimit, testSecret)) }, 200, 1, nil},
		{"one byte over the cap", func() *http.Request { return post(over, sign(over, testSecret)) }, 413, -1, nil},
		{"one byte over the cap, no Content-Length", func() *http.Request {
			r := post(over, sign(over, testSecret))
			r.ContentLength = -1
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(over)))
			return r
		}, 413, -1, nil},
		{"no Content-Length", func() *http.Request {
			r := post(msg, sign(msg, testSecret))
			r.ContentLength = -1
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(msg)))
			return r
		}, 200, 1, nil},
		{"empty body, signed", func() *http.Request { return post(nil, sign(nil, testSecret)) }, 400, -1, nil},
		{"empty body, unsigned", func() *http.Request { return post(nil, "") }, 403, -1, nil},
		{"no signature", func() *http.Request { return post(msg, "") }, 403, -1, nil},
		{"sha1= signature", func() *http.Request { return post(msg, sha1Sig) }, 403, -1, nil},
		{"signature of a different body", func() *http.Request { return post(msg, sign(noMessaging, testSecret)) }, 403, -1, nil},
		{"uppercase hex", func() *http.Request {
			return post(msg, "sha256="+strings.ToUpper(strings.TrimPrefix(sign(msg, testSecret), "sha256=")))
		}, 403, -1, nil},
		{"short hex", func() *http.Request { return post(msg, sign(msg, testSecret)[:70]) }, 403, -1, nil},
		{"truncated JSON, signed", func() *http.Request { return post(msg[:300], sign(msg[:300], testSecret)) }, 400, -1, nil},
		{"unknown object", func() *http.Request { return post(unknown, sign(unknown, testSecret)) }, 200, -1, nil},
		{"entry with no messaging", func() *http.Request { return post(noMessaging, sign(noMessaging, testSecret)) }, 200, -1, nil},
		{"handler fails", func() *http.Request { return post(msg, sign(msg, testSecret)) }, 500, 1, errors.New("store down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{err: tt.handlErr}
			wh := newTestWebhook(t, rec, func(c *WebhookConfig) { c.MaxBodyBytes = limit })
			w := serve(wh, tt.req())
			assert.Equal(t, tt.status, w.Code)
			if tt.handled < 0 {
				assert.Zero(t, rec.count(), "the handler is not called")
				return
			}
			require.Equal(t, 1, rec.count())
			assert.Len(t, rec.calls[0], tt.handled)
		})
	}
}

func TestWebhookHandlerGetsTypedEvents(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	wh := newTestWebhook(t, rec)
	body := fixture(t, "receipts.json")
	require.Equal(t, 200, serve(wh, post(body, sign(body, testSecret))).Code)
	require.Equal(t, 1, rec.count())
	events := rec.calls[0]
	require.Len(t, events, 2)
	assert.Equal(t, KindDelivery, events[0].Kind)
	assert.Equal(t, []string{"m_echo1", "m_echo2"}, events[0].Delivery.MIDs)
	assert.Equal(t, KindRead, events[1].Kind)
	assert.Equal(t, testPage, events[1].PageID)
}

func TestWebhookHandlerDeadline(t *testing.T) {
	t.Parallel()
	for _, timeout := range []time.Duration{0, 5 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			want := timeout
			if want == 0 {
				want = DefaultWebhookTimeout
			}
			var deadline time.Time
			var ctxErr error
			start := time.Now()
			wh := newTestWebhook(t, HandlerFunc(func(ctx context.Context, _ []Event) error {
				deadline, _ = ctx.Deadline()
				<-ctx.Done() // a handler stuck on a slow store
				ctxErr = ctx.Err()
				return ctxErr
			}), func(c *WebhookConfig) { c.Timeout = timeout })
			body := fixture(t, "message.json")
			w := serve(wh, post(body, sign(body, testSecret)))
			assert.Equal(t, 500, w.Code, "a handler that runs out of time fails the delivery")
			assert.Equal(t, start.Add(want), deadline)
			assert.Less(t, want, MaxWebhookTimeout)
			assert.ErrorIs(t, ctxErr, context.DeadlineExceeded)
		})
	}
}

func TestWebhookLogsNoSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	rec := &recorder{err: errors.New("store down")}
	wh := newTestWebhook(t, rec, func(c *WebhookConfig) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	body := fixture(t, "message.json")
	serve(wh, post(body, sign(body, testSecret)))
	serve(wh, post(body, sign(body, "wrong")))
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {"guess"}, "hub.challenge": {"1"}}
	serve(wh, httptest.NewRequest(http.MethodGet, "/webhook?"+q.Encode(), nil))
	unknown := []byte(`{"object":"user","entry":[]}`)
	serve(wh, post(unknown, sign(unknown, testSecret)))

	out := logs.String()
	assert.Contains(t, out, "handler failed")
	assert.Contains(t, out, "does not match")
	assert.Contains(t, out, "handshake refused")
	assert.Contains(t, out, `\"user\"`)
	for _, secret := range []string{testSecret, testVerifyToken, "guess", "lamp", sign(body, testSecret)} {
		assert.NotContains(t, out, secret)
	}
}

func TestRequireSignature(t *testing.T) {
	t.Parallel()
	var got []Event
	var gotOK bool
	var gotBody []byte
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, gotOK = EventsFromRequest(r)
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	})
	h := RequireSignature(testSecret)(next)
	body := fixture(t, "postback.json")

	w := serve(h, post(body, sign(body, testSecret)))
	assert.Equal(t, http.StatusAccepted, w.Code, "next writes the answer")
	require.True(t, gotOK)
	require.Len(t, got, 1)
	assert.Equal(t, "GET_STARTED", got[0].Postback.Payload)
	assert.Equal(t, body, gotBody, "next can read the raw body again")

	got, gotOK = nil, false
	assert.Equal(t, 403, serve(h, post(body, sign(body, "wrong"))).Code)
	assert.Equal(t, 403, serve(h, httptest.NewRequest(http.MethodGet, "/webhook", nil)).Code, "every request must be signed")
	assert.Equal(t, 403, serve(RequireSignature("")(next), post(body, sign(body, ""))).Code, "an empty secret refuses everything")
	assert.False(t, gotOK, "next is not called")

	_, ok := EventsFromContext(context.Background())
	assert.False(t, ok)
}

// TestWebhookMiddleware drives deliveries through Webhook.Middleware: the
// Webhook's cap, logger and answers apply, and next gets the events.
func TestWebhookMiddleware(t *testing.T) {
	t.Parallel()
	msg := fixture(t, "message.json")
	const limit = 256 // under the message fixture, far under DefaultMaxBodyBytes
	require.Greater(t, len(msg), limit)
	small := []byte(`{"object":"page","entry":[{"id":"1001","time":1718000000000,"messaging":[{"sender":{"id":"2001"},"recipient":{"id":"1001"},"timestamp":1718000000000,"message":{"mid":"m_1","text":"hi"}}]}]}`)
	require.LessOrEqual(t, len(small), limit)
	unknown := []byte(`{"object":"user","entry":[]}`)
	truncated := small[:100]
	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		events int    // events next got; -1: next not called
		log    string // in the log
	}{
		{"verified", small, sign(small, testSecret), http.StatusAccepted, 1, ""},
		{"over the configured cap", msg, sign(msg, testSecret), http.StatusRequestEntityTooLarge, -1, "body over the cap"},
		{"malformed JSON", truncated, sign(truncated, testSecret), http.StatusBadRequest, -1, "malformed"},
		{"unknown object", unknown, sign(unknown, testSecret), http.StatusOK, -1, "delivery ignored"},
		{"bad signature", small, sign(small, "wrong"), http.StatusForbidden, -1, "delivery refused"},
		{"no signature", small, "", http.StatusForbidden, -1, "delivery refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rec := &recorder{}
			wh := newTestWebhook(t, rec, func(c *WebhookConfig) {
				c.MaxBodyBytes = limit
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			called := false
			var got []Event
			var gotBody []byte
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				var ok bool
				got, ok = EventsFromRequest(r)
				assert.True(t, ok)
				gotBody, _ = io.ReadAll(r.Body)
				w.WriteHeader(http.StatusAccepted)
			})
			w := serve(wh.Middleware()(next), post(tt.body, tt.sig))
			assert.Equal(t, tt.status, w.Code)
			assert.Zero(t, rec.count(), "the Webhook's Handler is not used by the middleware")
			if tt.events < 0 {
				assert.False(t, called, "next is not called")
			} else {
				require.True(t, called)
				require.Len(t, got, tt.events)
				assert.Equal(t, "m_1", got[0].Message.MID)
				assert.Equal(t, "hi", got[0].Message.Text)
				assert.Equal(t, tt.body, gotBody, "next can read the raw body again")
			}
			assert.Contains(t, logs.String(), tt.log)
			assert.NotContains(t, logs.String(), testSecret)
		})
	}
}
