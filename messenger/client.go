package messenger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/go-querystring/query"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// Defaults for the zero values of Config.
const (
	// DefaultVersion is the Graph API version used when Config.Version is
	// empty.
	DefaultVersion = "v25.0"
	// DefaultBaseURL is the Graph API host used when Config.BaseURL is
	// empty.
	DefaultBaseURL = "https://graph.facebook.com"
	// DefaultRateLimit is the per-Page rate used when Config.RateLimit is
	// zero: below the 300 calls per second Facebook allows a Page on the
	// Send API for text.
	DefaultRateLimit rate.Limit = 250
)

// maxResponseBytes bounds what is read of any Graph API answer.
const maxResponseBytes = 8 << 20

// Config configures a Client. The zero value of every field is a sensible
// default.
type Config struct {
	// AppID is the Facebook app id. Needed only for DebugToken and the
	// OAuth calls.
	AppID string
	// AppSecret is the app secret. When set, every call carries
	// appsecret_proof (an HMAC-SHA256 of the access token keyed with it),
	// as the "Require App Secret" app setting demands. It is never sent.
	AppSecret string
	// Version is the Graph API version, like "v25.0". Empty means
	// DefaultVersion.
	Version string
	// BaseURL is the Graph API root, without the version. Empty means
	// DefaultBaseURL; tests point it at messengertest.
	BaseURL string
	// HTTPClient makes the calls. Nil means a client whose transport waits
	// at most a minute for response headers.
	HTTPClient *http.Client
	// Logger receives one debug line per call (method, path, status,
	// attempt, duration, fbtrace id) and a warning per retry; never a
	// token, a secret or a message text. Nil discards.
	Logger *slog.Logger
	// RateLimit is the most calls per second made for one Page (one
	// limiter per Page id, shared by every Page value of that id). Zero
	// means DefaultRateLimit; rate.Inf means no limit. The limiter also
	// slows down as the usage Facebook reports nears 100%.
	RateLimit rate.Limit
	// Burst is the limiter's burst. Zero means RateLimit rounded up.
	Burst int
	// Retry says how calls are retried; see RetryPolicy.
	Retry RetryPolicy
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Client is a Graph API client for Messenger. It is safe for concurrent
// use. Calls for a Page go through Client.Page, calls made with a user
// token through Client.User.
type Client struct {
	appID     string
	appSecret string
	version   string
	base      string // scheme://host[/path], no trailing slash
	hc        *http.Client
	log       *slog.Logger
	limit     rate.Limit
	burst     int
	retry     RetryPolicy
	now       func() time.Time

	// Test seams: how a retry waits and how jitter is drawn.
	sleep  func(ctx context.Context, d time.Duration) error
	jitter func() float64

	mu       sync.Mutex
	pages    map[string]*pageState
	appUsage *UsageBucket
}

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	c := &Client{
		appID:     cfg.AppID,
		appSecret: cfg.AppSecret,
		version:   cfg.Version,
		hc:        cfg.HTTPClient,
		log:       cfg.Logger,
		limit:     cfg.RateLimit,
		burst:     cfg.Burst,
		now:       cfg.Now,
		sleep:     sleepCtx,
		jitter:    rand.Float64,
		pages:     make(map[string]*pageState),
	}
	if c.version == "" {
		c.version = DefaultVersion
	}
	if !versionRE.MatchString(c.version) {
		return nil, fmt.Errorf("messenger: Config.Version is %q; want a Graph API version like %q", c.version, DefaultVersion)
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("messenger: Config.BaseURL is %q; want an absolute http or https URL without query, like %q", base, DefaultBaseURL)
	}
	c.base = strings.TrimRight(base, "/")
	if strings.ContainsAny(c.appID, "|/?#& ") {
		return nil, fmt.Errorf("messenger: Config.AppID %q is not an app id", c.appID)
	}
	switch {
	case math.IsNaN(float64(c.limit)) || c.limit < 0:
		return nil, fmt.Errorf("messenger: Config.RateLimit is %v; want a positive rate, rate.Inf, or 0 for the default %v per second", c.limit, DefaultRateLimit)
	case c.limit == 0:
		c.limit = DefaultRateLimit
	}
	if c.burst < 0 {
		return nil, fmt.Errorf("messenger: Config.Burst is %d; want 0 (the default) or more", c.burst)
	}
	if c.burst == 0 {
		c.burst = 1
		if c.limit != rate.Inf {
			c.burst = max(1, int(math.Ceil(float64(c.limit))))
		}
	}
	if c.retry, err = cfg.Retry.withDefaults(); err != nil {
		return nil, err
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ResponseHeaderTimeout = time.Minute
		c.hc = &http.Client{Transport: t}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Version is the Graph API version the client calls.
func (c *Client) Version() string { return c.version }

// pageState is what all Page values of one Page id share.
type pageState struct {
	limiter *rate.Limiter

	mu         sync.Mutex
	usage      Usage
	proofToken string // the token proof was computed for
	proof      string
}

// Page is a handle for the calls made as one Facebook Page, with the
// Page's access token from ts. Page values are cheap; every Page value of
// the same id shares one rate limiter and one usage record.
type Page struct {
	c  *Client
	id string
	ts oauth2.TokenSource
	st *pageState
}

// Page returns the handle for pageID, whose Page access token ts supplies
// (for example oauth2.StaticTokenSource of the stored token). An empty
// pageID or a nil ts is reported by each call.
func (c *Client) Page(pageID string, ts oauth2.TokenSource) *Page {
	c.mu.Lock()
	st, ok := c.pages[pageID]
	if !ok {
		st = &pageState{limiter: rate.NewLimiter(c.limit, c.burst)}
		c.pages[pageID] = st
	}
	c.mu.Unlock()
	return &Page{c: c, id: pageID, ts: ts, st: st}
}

// ID is the Page id.
func (p *Page) ID() string { return p.id }

// Usage is the latest rate-limit usage Facebook reported for this Page,
// with the app's own usage.
func (p *Page) Usage() Usage {
	p.st.mu.Lock()
	u := p.st.usage
	p.st.mu.Unlock()
	u.App = p.c.AppUsage()
	if u.Page != nil {
		b := *u.Page
		u.Page = &b
	}
	u.BusinessUseCase = append([]BusinessUseCaseUsage(nil), u.BusinessUseCase...)
	return u
}

// AppUsage is the latest X-App-Usage Facebook reported to this client, nil
// if none yet.
func (c *Client) AppUsage() *UsageBucket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.appUsage == nil {
		return nil
	}
	b := *c.appUsage
	return &b
}

// token fetches the Page's token.
func (p *Page) token() (string, error) {
	if p.id == "" {
		return "", &ValidationError{Field: "pageID", Reason: "is empty", Err: ErrInvalidMessage}
	}
	return tokenFrom(p.ts, "page "+p.id)
}

// tokenFrom fetches the access token of who ("page 123", "user") from ts.
func tokenFrom(ts oauth2.TokenSource, who string) (string, error) {
	if ts == nil {
		return "", fmt.Errorf("messenger: %s: no token source", who)
	}
	t, err := ts.Token()
	if err != nil {
		return "", fmt.Errorf("messenger: %s: getting the token: %w", who, err)
	}
	if t == nil || t.AccessToken == "" {
		return "", fmt.Errorf("messenger: %s: the token source gave an empty token", who)
	}
	return t.AccessToken, nil
}

// proof is appsecret_proof for token: hex HMAC-SHA256 of the token keyed
// with the app secret; empty when no secret is configured.
func (c *Client) proof(token string) string {
	if c.appSecret == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(c.appSecret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// pageProof caches the proof of the Page's current token.
func (p *Page) proof(token string) string {
	if p.c.appSecret == "" {
		return ""
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	if p.st.proofToken != token {
		p.st.proofToken, p.st.proof = token, p.c.proof(token)
	}
	return p.st.proof
}

// call describes one Graph API call.
type call struct {
	method string
	path   string // after the version, e.g. "/123/messages"; segments escaped
	query  any    // a go-querystring struct, or nil
	token  string // the access token, sent as Authorization: Bearer
	proof  string // appsecret_proof, or empty
	// body returns a fresh body for each attempt and its content type;
	// nil for no body. rewindable says whether it can be called again.
	body       func() (io.Reader, string, error)
	rewindable bool
	// send marks a call that must not run twice: it is retried only when
	// the request certainly never reached Facebook (or Facebook refused
	// it with a rate limit), and may-have-been-delivered failures wrap
	// ErrMaybeDelivered.
	send bool
	page *Page // for the limiter and usage; nil for user and app calls
	out  any   // decoded from a 2xx JSON answer, if not nil
	// redact lists further secrets (besides token and the app secret)
	// that must not appear in an error, such as a token being inspected.
	redact []string
	logKey string
}

func jsonBody(v any) (func() (io.Reader, string, error), error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return func() (io.Reader, string, error) {
		return bytes.NewReader(b), "application/json", nil
	}, nil
}

func formBody(v url.Values) func() (io.Reader, string, error) {
	s := v.Encode()
	return func() (io.Reader, string, error) {
		return strings.NewReader(s), "application/x-www-form-urlencoded", nil
	}
}

// op names the call in errors and logs: method and path, never the query.
func (k *call) op(version string) string { return k.method + " /" + version + k.path }

// attemptResult is the outcome of one HTTP exchange.
type attemptResult struct {
	err     error
	graph   *Error // a non-2xx answer
	written bool   // the whole request was written to the connection
	decode  bool   // a 2xx answer that could not be decoded
}

// do runs a call with the rate limiter, retries and error mapping.
func (c *Client) do(ctx context.Context, k *call) error {
	op := "messenger: " + k.op(c.version)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for attempt := 1; ; attempt++ {
		if k.page != nil {
			if err := k.page.st.limiter.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("%s: waiting for the page rate limiter: %w", op, ctx.Err())
				}
				return fmt.Errorf("%s: %w: the page rate limiter cannot serve the call before the deadline", op, ErrRateLimited)
			}
		}
		start := c.now()
		r := c.once(ctx, k)
		if r.err == nil {
			return nil
		}
		retry, maybe := c.classify(ctx, k, r)
		if maybe {
			c.log.WarnContext(ctx, "messenger: send may have been delivered; not retried",
				"op", k.op(c.version), "page", k.logKey, "attempt", attempt, "error", r.err)
			return fmt.Errorf("%s: %w: %w", op, ErrMaybeDelivered, r.err)
		}
		if !retry || attempt >= c.retry.MaxAttempts || (k.body != nil && !k.rewindable) {
			return r.err
		}
		delay, ok := c.retry.delay(attempt, r.err, c.jitter)
		if !ok {
			return r.err
		}
		c.log.WarnContext(ctx, "messenger: retrying", "op", k.op(c.version), "page", k.logKey,
			"attempt", attempt, "delay", delay, "elapsed", c.now().Sub(start), "error", r.err)
		if err := c.sleep(ctx, delay); err != nil {
			return fmt.Errorf("%w (stopped waiting to retry: %w)", r.err, err)
		}
	}
}

// classify decides whether a failed attempt is retried, and whether a send
// may have been delivered.
func (c *Client) classify(ctx context.Context, k *call, r attemptResult) (retry, maybeDelivered bool) {
	var invalid *ValidationError
	switch {
	case errors.As(r.err, &invalid):
		return false, false // the body refused itself (an upload over RULE-3): the same body fails again
	case r.graph != nil:
		if !k.send {
			return r.graph.Retryable(), false
		}
		if r.graph.rateLimited() {
			return true, false // refused: Facebook did not process it
		}
		if r.graph.transient() {
			return false, true // 5xx or "unknown error": it may have gone through
		}
		return false, false
	case r.decode:
		return false, k.send
	case ctx.Err() != nil:
		return false, k.send && r.written
	case !r.written:
		return true, false // never reached Facebook
	default:
		return !k.send, k.send
	}
}

// once makes one HTTP exchange.
func (c *Client) once(ctx context.Context, k *call) (r attemptResult) {
	op := "messenger: " + k.op(c.version)
	u := c.base + "/" + c.version + k.path
	var q url.Values
	if k.query != nil {
		var err error
		if q, err = query.Values(k.query); err != nil {
			return attemptResult{err: fmt.Errorf("%s: encoding the query: %w", op, err)}
		}
	}
	if k.proof != "" {
		if q == nil {
			q = url.Values{}
		}
		q.Set("appsecret_proof", k.proof)
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	ctype := ""
	if k.body != nil {
		var err error
		if body, ctype, err = k.body(); err != nil {
			return attemptResult{err: fmt.Errorf("%s: %w", op, err)}
		}
	}
	var wrote bool
	var wmu sync.Mutex
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wmu.Lock()
			wrote = true
			wmu.Unlock()
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), k.method, u, body)
	if err != nil {
		return attemptResult{err: fmt.Errorf("%s: %w", op, err)}
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	if k.token != "" {
		req.Header.Set("Authorization", "Bearer "+k.token)
	}
	start := c.now()
	resp, err := c.hc.Do(req)
	wmu.Lock()
	r.written = wrote
	wmu.Unlock()
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // its text holds the URL; ours holds the path only
		}
		c.log.DebugContext(ctx, "messenger: graph call failed", "op", k.op(c.version), "page", k.logKey,
			"written", r.written, "duration", c.now().Sub(start), "error", err)
		r.err = fmt.Errorf("%s: %w", op, err)
		return r
	}
	defer resp.Body.Close()
	r.written = true
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	c.noteUsage(k.page, resp.Header)
	c.log.DebugContext(ctx, "messenger: graph call", "op", k.op(c.version), "page", k.logKey,
		"status", resp.StatusCode, "duration", c.now().Sub(start), "fbtrace_id", resp.Header.Get("X-Fb-Trace-Id"))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.graph = parseError(resp.StatusCode, resp.Header, data, append([]string{k.token, c.appSecret}, k.redact...)...)
		r.err = fmt.Errorf("%s: %w", op, r.graph)
		return r
	}
	if err != nil {
		r.decode = true
		r.err = fmt.Errorf("%s: reading the answer: %w", op, err)
		return r
	}
	if k.out != nil {
		if err := json.Unmarshal(data, k.out); err != nil {
			r.decode = true
			r.err = fmt.Errorf("%s: decoding the answer: %w", op, err)
		}
	}
	return r
}

// noteUsage records the usage headers and slows the Page's limiter down
// as usage nears 100%.
func (c *Client) noteUsage(p *Page, h http.Header) {
	u, _ := ParseUsage(h) // a malformed header is ignored: it is advice
	if u.empty() {
		return
	}
	u.At = c.now()
	if u.App != nil {
		c.mu.Lock()
		c.appUsage = u.App
		c.mu.Unlock()
	}
	if p == nil {
		return
	}
	p.st.mu.Lock()
	prev := p.st.usage
	if u.Page == nil {
		u.Page = prev.Page
	}
	if u.BusinessUseCase == nil {
		u.BusinessUseCase = prev.BusinessUseCase
	}
	u.App = nil
	p.st.usage = u
	p.st.mu.Unlock()
	u.App = c.AppUsage()
	limit, burst := c.throttled(u.Percent())
	p.st.limiter.SetLimit(limit)
	p.st.limiter.SetBurst(burst)
}

// Usage thresholds: from slowAt percent the Page's rate falls linearly,
// to minFactor of the configured rate at 100%.
const (
	slowAt    = 75
	minFactor = 0.01
)

// throttled is the limiter setting for a usage percentage. An unlimited
// client slows down from DefaultRateLimit.
func (c *Client) throttled(percent int) (rate.Limit, int) {
	if percent < slowAt {
		return c.limit, c.burst
	}
	factor := max(minFactor, float64(100-percent)/float64(100-slowAt))
	base := c.limit
	if base == rate.Inf {
		base = DefaultRateLimit
	}
	limit := base * rate.Limit(factor)
	return limit, max(1, int(math.Floor(float64(c.burst)*factor)))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pathID escapes one path segment (an id).
func pathID(id string) string { return url.PathEscape(id) }

// errRequired names an empty argument.
func errRequired(field string) error {
	return &ValidationError{Field: field, Reason: "is required", Err: ErrInvalidMessage}
}
