package messenger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

const clientToken = "EAAPageTOKENneverInErrors"

// waitLog is a test client's clock of waits: retries record their delay
// instead of sleeping.
type waitLog struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (r *waitLog) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.delays = append(r.delays, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *waitLog) waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.delays...)
}

// newClientT points a client at handler; retries record their waits.
func newClientT(t *testing.T, cfg Config, handler http.HandlerFunc) (*Client, *waitLog, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = rate.Inf
	}
	c, err := New(cfg)
	require.NoError(t, err)
	rec := &waitLog{}
	c.sleep = rec.sleep
	c.jitter = func() float64 { return 0.5 }
	return c, rec, &calls
}

func pageT(c *Client) *Page {
	return c.Page("1001", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: clientToken}))
}

func writeGraphErr(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

const (
	cliTransientBody = `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","is_transient":true,"code":2,"fbtrace_id":"T1"}}`
	cliRateBody      = `{"error":{"message":"(#613) Calls to this api have exceeded the rate limit.","type":"OAuthException","code":613,"fbtrace_id":"R1"}}`
	cliProfileBody   = `{"first_name":"Mei","last_name":"Chen","profile_pic":"https://x/p.jpg","id":"2002"}`
	cliSendBody      = `{"recipient_id":"2002","message_id":"m_1"}`
)

// failThen answers with the given bodies in turn, then with last.
func failThen(status int, body string, n int, last string) http.HandlerFunc {
	var mu sync.Mutex
	left := n
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := left > 0
		left--
		mu.Unlock()
		if fail {
			writeGraphErr(w, status, body)
			return
		}
		_, _ = w.Write([]byte(last))
	}
}

func TestReadRetriesTransientWithBackoff(t *testing.T) {
	t.Parallel()
	c, rec, calls := newClientT(t, Config{Retry: RetryPolicy{MaxAttempts: 3, BaseDelay: time.Second, MaxDelay: 10 * time.Second}},
		failThen(500, cliTransientBody, 2, cliProfileBody))
	p, err := pageT(c).Profile(context.Background(), "2002")
	require.NoError(t, err)
	assert.Equal(t, Profile{FirstName: "Mei", LastName: "Chen", ProfilePic: "https://x/p.jpg"}, p)
	assert.Equal(t, int32(3), calls.Load())
	// Jitter 0.5 draws three quarters of the exponential delay: 1s, then 2s.
	assert.Equal(t, []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}, rec.waits())
}

func TestBackoffJitterBounds(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt := 1; attempt <= 8; attempt++ {
		exp := min(100*time.Millisecond<<(attempt-1), time.Second)
		lo, ok := p.delay(attempt, nil, func() float64 { return 0 })
		require.True(t, ok)
		hi, _ := p.delay(attempt, nil, func() float64 { return 0.999999 })
		assert.Equal(t, exp/2, lo, "attempt %d", attempt)
		assert.InDelta(t, float64(exp), float64(hi), float64(time.Microsecond), "attempt %d", attempt)
	}
}

func TestReadGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	c, rec, calls := newClientT(t, Config{Retry: RetryPolicy{MaxAttempts: 4}}, failThen(500, cliTransientBody, 100, cliProfileBody))
	_, err := pageT(c).Profile(context.Background(), "2002")
	require.ErrorIs(t, err, ErrTransient)
	assert.NotErrorIs(t, err, ErrMaybeDelivered, "a read is never 'maybe delivered'")
	assert.Equal(t, int32(4), calls.Load())
	assert.Len(t, rec.waits(), 3)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	c, rec, _ := newClientT(t, Config{Retry: RetryPolicy{BaseDelay: 10 * time.Millisecond}}, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "3")
			writeGraphErr(w, 429, `{"error":{"message":"slow down","code":4,"type":"OAuthException"}}`)
			return
		}
		_, _ = w.Write([]byte(cliProfileBody))
	})
	_, err := pageT(c).Profile(context.Background(), "2002")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{3 * time.Second}, rec.waits())
}

func TestRetryAfterBeyondMaxDelayIsReturned(t *testing.T) {
	t.Parallel()
	c, rec, calls := newClientT(t, Config{Retry: RetryPolicy{MaxDelay: 30 * time.Second}}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		writeGraphErr(w, 400, cliRateBody)
	})
	_, err := pageT(c).Profile(context.Background(), "2002")
	require.ErrorIs(t, err, ErrRateLimited)
	d, ok := RetryAfter(err)
	require.True(t, ok)
	assert.Equal(t, 2*time.Minute, d)
	assert.Equal(t, int32(1), calls.Load())
	assert.Empty(t, rec.waits())
}

func TestSendIsNotRetriedAfter5xx(t *testing.T) {
	t.Parallel()
	c, rec, calls := newClientT(t, Config{}, failThen(500, cliTransientBody, 100, cliSendBody))
	_, err := pageT(c).Send(context.Background(), OutgoingMessage{Recipient: "2002", Text: "hi"})
	require.ErrorIs(t, err, ErrMaybeDelivered)
	assert.ErrorIs(t, err, ErrTransient)
	var ge *Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 500, ge.HTTPStatus)
	assert.Equal(t, int32(1), calls.Load())
	assert.Empty(t, rec.waits())
}

func TestSendIsRetriedAfterRateLimitRefusal(t *testing.T) {
	t.Parallel()
	c, rec, calls := newClientT(t, Config{}, failThen(400, cliRateBody, 1, cliSendBody))
	res, err := pageT(c).Send(context.Background(), OutgoingMessage{Recipient: "2002", Text: "hi"})
	require.NoError(t, err)
	assert.Equal(t, SendResult{MessageID: "m_1", RecipientID: "2002"}, res)
	assert.Equal(t, int32(2), calls.Load())
	assert.Len(t, rec.waits(), 1)
}

func TestSendIsNotRetriedOnDefiniteRefusal(t *testing.T) {
	t.Parallel()
	c, _, calls := newClientT(t, Config{}, failThen(400, `{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278}}`, 100, cliSendBody))
	_, err := pageT(c).Send(context.Background(), OutgoingMessage{Recipient: "2002", Text: "hi"})
	require.ErrorIs(t, err, ErrOutsideWindow)
	assert.NotErrorIs(t, err, ErrMaybeDelivered)
	assert.Equal(t, int32(1), calls.Load())
}

// dialFailer fails the first n round trips as a refused connection would,
// before anything is written.
type dialFailer struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (d *dialFailer) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.n.Add(-1) >= 0 {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	}
	return d.next.RoundTrip(r)
}

func TestSendIsRetriedWhenItNeverLeft(t *testing.T) {
	t.Parallel()
	df := &dialFailer{next: http.DefaultTransport}
	df.n.Store(2)
	c, rec, calls := newClientT(t, Config{HTTPClient: &http.Client{Transport: df}}, failThen(0, "", 0, cliSendBody))
	res, err := pageT(c).Send(context.Background(), OutgoingMessage{Recipient: "2002", Text: "hi"})
	require.NoError(t, err)
	assert.Equal(t, "m_1", res.MessageID)
	assert.Equal(t, int32(1), calls.Load(), "exactly one request reached the server")
	assert.Len(t, rec.waits(), 2)
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, rec, _ := newClientT(t, Config{BaseURL: "http://" + addr, AppSecret: "s3cret-app-secret"}, nil)
	_, err = pageT(c).Send(context.Background(), OutgoingMessage{Recipient: "2002", Text: "a private text"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrMaybeDelivered, "a refused connection never delivered anything")
	assert.Len(t, rec.waits(), 2, "three attempts")
	assert.NotContains(t, err.Error(), clientToken)
	assert.NotContains(t, err.Error(), "appsecret_proof", "no URL query in errors")
	assert.Contains(t, err.Error(), "POST /v25.0/1001/messages")
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	c, _, calls := newClientT(t, Config{Retry: RetryPolicy{BaseDelay: time.Hour, MaxDelay: time.Hour}}, failThen(500, cliTransientBody, 100, cliProfileBody))
	// The real wait: it must end with ctx, not after an hour.
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	}
	_, err := pageT(c).Profile(ctx, "2002")
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrTransient, "the error says what failed before the wait")
	assert.Equal(t, int32(1), calls.Load())
}

func TestContextDoneBeforeCall(t *testing.T) {
	t.Parallel()
	c, _, calls := newClientT(t, Config{}, failThen(0, "", 0, cliSendBody))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pageT(c).Send(ctx, OutgoingMessage{Recipient: "2002", Text: "hi"})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrMaybeDelivered)
	assert.Equal(t, int32(0), calls.Load())
}

func TestAppSecretProofOnEveryCall(t *testing.T) {
	t.Parallel()
	const secret = "app-secret-for-proof"
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(clientToken))
	want := hex.EncodeToString(m.Sum(nil))
	var mu sync.Mutex
	var proofs, auths []string
	c, _, _ := newClientT(t, Config{AppSecret: secret}, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proofs = append(proofs, r.URL.Query().Get("appsecret_proof"))
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages"):
			_, _ = w.Write([]byte(cliSendBody))
		case strings.HasSuffix(r.URL.Path, "/subscribed_apps") && r.Method == "GET":
			_, _ = w.Write([]byte(`{"data":[]}`))
		case strings.HasSuffix(r.URL.Path, "/subscribed_apps"):
			_, _ = w.Write([]byte(`{"success":true}`))
		case strings.HasSuffix(r.URL.Path, "/message_attachments"):
			_, _ = w.Write([]byte(`{"attachment_id":"9"}`))
		default:
			_, _ = w.Write([]byte(cliProfileBody))
		}
	})
	p := pageT(c)
	ctx := context.Background()
	_, err := p.Send(ctx, OutgoingMessage{Recipient: "2002", Text: "hi"})
	require.NoError(t, err)
	require.NoError(t, p.SenderAction(ctx, "2002", TypingOn))
	_, err = p.Profile(ctx, "2002")
	require.NoError(t, err)
	require.NoError(t, p.Subscribe(ctx, []string{"messages"}))
	_, err = p.Subscriptions(ctx)
	require.NoError(t, err)
	require.NoError(t, p.Unsubscribe(ctx))
	_, err = p.Upload(ctx, Upload{Type: AttachmentImage, Filename: "a.png", Body: strings.NewReader("png")})
	require.NoError(t, err)
	require.Len(t, proofs, 7)
	for i := range proofs {
		assert.Equal(t, want, proofs[i], "call %d", i)
		assert.Equal(t, "Bearer "+clientToken, auths[i], "call %d", i)
	}

	// No secret, no proof.
	var got string
	c2, _, _ := newClientT(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RawQuery
		_, _ = w.Write([]byte(cliProfileBody))
	})
	_, err = pageT(c2).Profile(ctx, "2002")
	require.NoError(t, err)
	assert.NotContains(t, got, "appsecret_proof")
}

// TestLogsHoldNoSecrets runs failing and retried calls with a debug logger
// and checks the log holds neither the token, the secret, nor the text.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedBuf{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _, _ := newClientT(t, Config{Logger: logger, AppSecret: "the-app-secret-value"},
		failThen(500, `{"error":{"message":"token `+clientToken+` is bad","code":2,"is_transient":true}}`, 3, cliSendBody))
	p := pageT(c)
	_, perr := p.Profile(context.Background(), "2002")
	require.Error(t, perr)
	_, err := p.Send(context.Background(), OutgoingMessage{Recipient: "2002", Text: "secret visitor text"})
	require.NoError(t, err)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	assert.Contains(t, out, "messenger: retrying")
	assert.Contains(t, out, "/v25.0/2002")
	for _, secret := range []string{clientToken, "the-app-secret-value", "secret visitor text", "appsecret_proof"} {
		assert.NotContains(t, out, secret)
	}
	assert.NotContains(t, perr.Error(), clientToken)
}

type lockedBuf struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestUsageSlowsThePageDown(t *testing.T) {
	t.Parallel()
	var usage atomic.Value
	usage.Store(`{"call_count":40,"total_cputime":5,"total_time":5}`)
	c, _, _ := newClientT(t, Config{RateLimit: 100, Burst: 20}, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Page-Usage", usage.Load().(string))
		w.Header().Set("X-App-Usage", `{"call_count":10,"total_cputime":1,"total_time":1}`)
		_, _ = w.Write([]byte(cliProfileBody))
	})
	p := pageT(c)
	ctx := context.Background()
	assert.True(t, p.Usage().At.IsZero(), "no usage before any call")

	_, err := p.Profile(ctx, "2002")
	require.NoError(t, err)
	assert.Equal(t, rate.Limit(100), p.st.limiter.Limit())
	u := p.Usage()
	require.NotNil(t, u.Page)
	require.NotNil(t, u.App)
	assert.Equal(t, 40, u.Page.CallCount)
	assert.Equal(t, 10, u.App.CallCount)
	assert.Equal(t, 40, u.Percent())

	tests := []struct {
		percent int
		limit   rate.Limit
		burst   int
	}{
		{74, 100, 20},
		{80, 80, 16},
		{95, 20, 4},
		{100, 1, 1},
		{150, 1, 1},
		{10, 100, 20},
	}
	for _, tt := range tests {
		usage.Store(`{"call_count":` + itoa(tt.percent) + `}`)
		_, err := p.Profile(ctx, "2002")
		require.NoError(t, err)
		assert.InDelta(t, float64(tt.limit), float64(p.st.limiter.Limit()), 1e-9, "usage %d%%", tt.percent)
		assert.Equal(t, tt.burst, p.st.limiter.Burst(), "usage %d%%", tt.percent)
		assert.Equal(t, tt.percent, p.Usage().Page.CallCount)
	}
	// The limiter is shared by every Page value of the id.
	other := c.Page("1001", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}))
	assert.Same(t, p.st, other.st)
	assert.NotSame(t, p.st, c.Page("1002", nil).st)
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"bad version", Config{Version: "25.0"}, `Config.Version is "25.0"`},
		{"relative base", Config{BaseURL: "graph.facebook.com"}, `Config.BaseURL is "graph.facebook.com"`},
		{"base with query", Config{BaseURL: "https://graph.facebook.com/?access_token=x"}, `Config.BaseURL`},
		{"negative rate", Config{RateLimit: -1}, "Config.RateLimit is -1"},
		{"negative burst", Config{Burst: -2}, "Config.Burst is -2"},
		{"negative attempts", Config{Retry: RetryPolicy{MaxAttempts: -1}}, "Config.Retry.MaxAttempts is -1"},
		{"negative delay", Config{Retry: RetryPolicy{BaseDelay: -time.Second}}, "Config.Retry.BaseDelay is -1s"},
		{"base over max", Config{Retry: RetryPolicy{BaseDelay: time.Minute, MaxDelay: time.Second}}, "BaseDelay 1m0s is more than MaxDelay 1s"},
		{"bad app id", Config{AppID: "1|2"}, "Config.AppID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	c, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, "v25.0", c.Version())
	assert.Equal(t, DefaultBaseURL, c.base)
	assert.Equal(t, DefaultRateLimit, c.limit)
	assert.Equal(t, 250, c.burst)
	assert.Equal(t, RetryPolicy{MaxAttempts: 3, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}, c.retry)
}

func TestPageArgumentsChecked(t *testing.T) {
	t.Parallel()
	c, _, calls := newClientT(t, Config{}, failThen(0, "", 0, cliSendBody))
	ctx := context.Background()
	m := OutgoingMessage{Recipient: "2002", Text: "hi"}
	_, err := c.Page("", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})).Send(ctx, m)
	assert.ErrorContains(t, err, "pageID is empty")
	_, err = c.Page("1", nil).Send(ctx, m)
	assert.ErrorContains(t, err, "no token source")
	_, err = c.Page("1", oauth2.StaticTokenSource(&oauth2.Token{})).Send(ctx, m)
	assert.ErrorContains(t, err, "empty token")
	assert.ErrorContains(t, pageT(c).SenderAction(ctx, "", TypingOn), "psid is required")
	assert.ErrorIs(t, pageT(c).SenderAction(ctx, "2002", "wave"), ErrInvalidMessage)
	_, err = pageT(c).Profile(ctx, "")
	assert.ErrorContains(t, err, "psid is required")
	assert.ErrorIs(t, pageT(c).Subscribe(ctx, nil), ErrEmpty)
	assert.ErrorContains(t, pageT(c).Subscribe(ctx, []string{"messages", "a,b"}), "fields[1]")
	assert.Equal(t, int32(0), calls.Load(), "nothing reached the network")
}

// zeroFile is a seekable file of n zero bytes that counts how many times
// it was rewound.
type zeroFile struct {
	n, off  int64
	rewinds atomic.Int32
}

func (z *zeroFile) Read(p []byte) (int, error) {
	if z.off >= z.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), z.n-z.off))
	clear(p[:k])
	z.off += int64(k)
	return k, nil
}

func (z *zeroFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		z.rewinds.Add(1)
		z.off = off
	case io.SeekCurrent:
		z.off += off
	default:
		return 0, errors.New("zeroFile: unsupported whence")
	}
	return z.off, nil
}

// TestUploadTooLargeNotRetried streams a seekable body one byte over
// RULE-3 without a declared Size: the upload is refused with ErrTooLarge
// once, never rewound and streamed again.
func TestUploadTooLargeNotRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 25 MB")
	}
	t.Parallel()
	c, waits, _ := newClientT(t, Config{}, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte(`{"attachment_id":"9"}`))
	})
	body := &zeroFile{n: MaxFileBytes + 1}
	_, err := pageT(c).Upload(context.Background(), Upload{Type: AttachmentVideo, Filename: "v.mp4", Body: body})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Empty(t, waits.waits(), "a too-large upload was retried")
	assert.Zero(t, body.rewinds.Load(), "a too-large upload was rewound to be sent again")
}
