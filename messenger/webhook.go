package messenger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Webhook defaults and limits.
const (
	// DefaultMaxBodyBytes caps a delivery's body when WebhookConfig.MaxBodyBytes
	// is zero. Facebook batches at most about a thousand events per delivery,
	// well under this.
	DefaultMaxBodyBytes = 1 << 20

	// DefaultWebhookTimeout is the handler's deadline when
	// WebhookConfig.Timeout is zero.
	DefaultWebhookTimeout = 15 * time.Second

	// MaxWebhookTimeout is Facebook's patience: it waits about 20 seconds for
	// an answer, then counts the delivery as failed and redelivers it. The
	// handler must be done (and the answer sent) before.
	MaxWebhookTimeout = 20 * time.Second
)

// ErrInvalidWebhookConfig is matched by the errors of [NewWebhook].
var ErrInvalidWebhookConfig = errors.New("messenger: invalid webhook config")

// WebhookConfig configures [NewWebhook]. AppSecret, VerifyToken and Handler
// are required; the zero value of every other field is a sensible default.
type WebhookConfig struct {
	// AppSecret is the Facebook app's secret, which keys the HMAC of every
	// delivery. It never appears in a log line or an error.
	AppSecret string
	// VerifyToken is the token you typed in the app's webhook settings;
	// Facebook sends it back in the GET handshake.
	VerifyToken string
	// MaxBodyBytes caps a delivery's body; a larger one gets 413.
	// Zero means DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64
	// Handler receives the events of each verified delivery.
	Handler Handler
	// Logger receives one line per refused or failed delivery (ids, counts
	// and reasons; never message text, tokens or the secret). Nil discards.
	Logger *slog.Logger
	// Timeout is the deadline of the Handler's ctx, counted from the
	// request's arrival. Zero means DefaultWebhookTimeout (15 s); it must
	// be under MaxWebhookTimeout (20 s).
	Timeout time.Duration
}

// Webhook is the http.Handler of a Messenger webhook endpoint; build it with
// [NewWebhook].
//
// GET answers Facebook's subscription handshake: hub.mode=subscribe and the
// right hub.verify_token (compared in constant time) get 200 and
// hub.challenge as text/plain; anything else gets 403.
//
// POST takes a delivery:
//   - the body is read once, capped by MaxBodyBytes: over it, 413;
//   - X-Hub-Signature-256 is checked on the raw bytes before any parsing:
//     missing, malformed or wrong, 403 and the Handler is not called;
//   - a body that is not JSON, 400;
//   - an object other than "page", 200: ignored (and logged), since Facebook
//     would otherwise redeliver it forever;
//   - otherwise the Handler gets the events (a delivery with none skips it):
//     200 once it returns nil, 500 if it fails, so that Facebook redelivers
//     and nothing is lost.
//
// Other methods get 405.
type Webhook struct {
	verifyToken [sha256.Size]byte // SHA-256 of the token: the compare leaks no length
	handler     Handler
	timeout     time.Duration
	verifier    *verifier
}

// NewWebhook returns the webhook endpoint described by cfg, or an error
// naming the first invalid field.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	switch {
	case cfg.AppSecret == "":
		return nil, fmt.Errorf("%w: AppSecret is empty", ErrInvalidWebhookConfig)
	case cfg.VerifyToken == "":
		return nil, fmt.Errorf("%w: VerifyToken is empty", ErrInvalidWebhookConfig)
	case cfg.Handler == nil:
		return nil, fmt.Errorf("%w: Handler is nil", ErrInvalidWebhookConfig)
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("%w: MaxBodyBytes is %d; it must be positive (or zero for the default %d)",
			ErrInvalidWebhookConfig, cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	case cfg.Timeout < 0 || cfg.Timeout >= MaxWebhookTimeout:
		return nil, fmt.Errorf("%w: Timeout is %v; it must be under %v, Facebook's wait for an answer",
			ErrInvalidWebhookConfig, cfg.Timeout, MaxWebhookTimeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	return &Webhook{
		verifyToken: sha256.Sum256([]byte(cfg.VerifyToken)),
		handler:     cfg.Handler,
		timeout:     cfg.Timeout,
		verifier:    newVerifier(cfg.AppSecret, cfg.MaxBodyBytes, cfg.Logger),
	}, nil
}

// ServeHTTP answers the handshake (GET) and deliveries (POST).
func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		wh.handshake(w, r)
	case http.MethodPost:
		wh.deliver(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (wh *Webhook) handshake(w http.ResponseWriter, r *http.Request) {
	answerHandshake(w, r, &wh.verifyToken, wh.verifier.log)
}

func (wh *Webhook) deliver(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), wh.timeout)
	defer cancel()
	_, events, ok := wh.verifier.verify(w, r)
	if !ok {
		return
	}
	if len(events) == 0 {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := wh.handler.HandleEvents(ctx, events); err != nil {
		wh.verifier.log.LogAttrs(ctx, slog.LevelError, "messenger webhook: handler failed; Facebook will redeliver",
			slog.Int("events", len(events)), slog.String("page_id", events[0].PageID), slog.Any("error", err))
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Handshake returns an http.Handler that answers only Facebook's GET
// subscription handshake, for hosts that route the webhook's GET and POST
// themselves (POST through [RequireSignature]). It answers as [Webhook] does.
// With a [Webhook], route the GET handshake to the Webhook itself.
func Handshake(verifyToken string) http.Handler {
	sum := sha256.Sum256([]byte(verifyToken))
	log := slog.New(slog.DiscardHandler)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if verifyToken == "" || r.Method != http.MethodGet {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		answerHandshake(w, r, &sum, log)
	})
}

func answerHandshake(w http.ResponseWriter, r *http.Request, want *[sha256.Size]byte, log *slog.Logger) {
	q := r.URL.Query()
	token := sha256.Sum256([]byte(q.Get("hub.verify_token")))
	challenge := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || subtle.ConstantTimeCompare(token[:], want[:]) != 1 || challenge == "" {
		log.LogAttrs(r.Context(), slog.LevelWarn, "messenger webhook: handshake refused",
			slog.String("mode", q.Get("hub.mode")))
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, challenge)
}

// RequireSignature is the zero-config shortcut to [Webhook.Middleware]: the
// same middleware with the defaults, a body cap of DefaultMaxBodyBytes
// (1 MiB) and no logging. To set the cap or a logger, build a [Webhook] with
// [NewWebhook] and use its Middleware.
//
// It reads the POST body, checks its X-Hub-Signature-256 with appSecret and
// parses it, and answers as [Webhook] does when that fails (413, 403, 400;
// 200 for an object other than "page"). Otherwise it calls next with the
// events in the request's context (read them with [EventsFromRequest]) and
// the raw body readable again as r.Body. next writes the answer: 200 only
// once the events are safe.
//
// Every request must be signed, whatever its method: route the GET
// handshake to [Handshake] instead. An empty appSecret refuses everything.
func RequireSignature(appSecret string) func(http.Handler) http.Handler {
	return newVerifier(appSecret, 0, nil).middleware
}

// Middleware returns middleware for hosts with their own router, checking
// deliveries with the Webhook's settings: its AppSecret, its MaxBodyBytes
// cap (413 over it), its Logger (one line per refused or ignored
// delivery), and its answers when a delivery is refused (403 for a missing
// or wrong signature, 400 for a body that is not JSON, 200 without calling
// next for an object other than "page"). A verified delivery goes to next
// with the events in the request's context (read them with
// [EventsFromRequest]) and the raw body readable again as r.Body; next
// writes the answer, 200 only once the events are safe.
//
// The Webhook's Handler and Timeout are not used on this path: next is the
// handler and owns its deadline. Every request through the middleware must
// be signed, whatever its method: route the GET handshake to the Webhook
// itself. Since [NewWebhook] requires a Handler, a host that routes every
// POST through Middleware can give one that fails, so that a misrouted
// delivery gets 500 and is redelivered rather than lost.
//
// [RequireSignature] is the same middleware with the default settings.
func (wh *Webhook) Middleware() func(http.Handler) http.Handler {
	return wh.verifier.middleware
}

// middleware is the one mechanism behind [Webhook.Middleware] and
// [RequireSignature].
func (v *verifier) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, events, ok := v.verify(w, r)
		if !ok {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), eventsKey{}, events))
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

type eventsKey struct{}

// EventsFromContext returns the verified events that [Webhook.Middleware]
// or [RequireSignature] put in ctx. ok is false if ctx did not come
// through either.
func EventsFromContext(ctx context.Context) (events []Event, ok bool) {
	events, ok = ctx.Value(eventsKey{}).([]Event)
	return events, ok
}

// EventsFromRequest returns EventsFromContext(r.Context()).
func EventsFromRequest(r *http.Request) (events []Event, ok bool) {
	return EventsFromContext(r.Context())
}

// verifier holds what the POST path needs: the capped body read, the
// signature check with a pool of keyed HMACs, and the parse.
type verifier struct {
	secret  []byte
	maxBody int64
	log     *slog.Logger
	macs    sync.Pool // of *keyedMAC
	bufs    sync.Pool // of *bytes.Buffer, for bodies without Content-Length
}

func newVerifier(appSecret string, maxBody int64, log *slog.Logger) *verifier {
	if maxBody == 0 {
		maxBody = DefaultMaxBodyBytes
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &verifier{secret: []byte(appSecret), maxBody: maxBody, log: log}
	v.macs.New = func() any { return newKeyedMAC(v.secret) }
	v.bufs.New = func() any { return new(bytes.Buffer) }
	return v
}

// verify reads, checks and parses a delivery. When it reports false it has
// answered the request.
func (v *verifier) verify(w http.ResponseWriter, r *http.Request) (body []byte, events []Event, ok bool) {
	ctx := r.Context()
	body, err := v.read(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			v.log.LogAttrs(ctx, slog.LevelWarn, "messenger webhook: body over the cap",
				slog.Int64("limit", v.maxBody), slog.Int64("content_length", r.ContentLength))
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			v.log.LogAttrs(ctx, slog.LevelWarn, "messenger webhook: reading the body failed", slog.Any("error", err))
			http.Error(w, "bad request", http.StatusBadRequest)
		}
		return nil, nil, false
	}
	if err := v.check(body, r.Header.Get(SignatureHeader)); err != nil {
		v.log.LogAttrs(ctx, slog.LevelWarn, "messenger webhook: delivery refused", slog.Any("error", err))
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, nil, false
	}
	events, err = parseWebhook(body)
	switch {
	case errors.Is(err, ErrUnsupportedObject):
		v.log.LogAttrs(ctx, slog.LevelInfo, "messenger webhook: delivery ignored", slog.Any("error", err))
		w.WriteHeader(http.StatusOK)
		return nil, nil, false
	case err != nil:
		v.log.LogAttrs(ctx, slog.LevelWarn, "messenger webhook: signed delivery is malformed", slog.Any("error", err))
		http.Error(w, "malformed body", http.StatusBadRequest)
		return nil, nil, false
	}
	return body, events, true
}

func (v *verifier) check(body []byte, header string) error {
	if len(v.secret) == 0 {
		return fmt.Errorf("%w: the app secret is empty", ErrBadSignature)
	}
	want, err := parseSignature(header)
	if err != nil {
		return err
	}
	mac := v.macs.Get().(*keyedMAC)
	defer v.macs.Put(mac)
	return mac.check(body, &want)
}

// read reads the whole body under http.MaxBytesReader. The result is owned
// by the caller (events alias it), so it is allocated once at its exact
// size when Content-Length is known.
func (v *verifier) read(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > v.maxBody {
		return nil, &http.MaxBytesError{Limit: v.maxBody}
	}
	body := http.MaxBytesReader(w, r.Body, v.maxBody)
	defer body.Close()
	if n := r.ContentLength; n >= 0 {
		b := make([]byte, n, n+1) // room to see a body longer than announced
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, err
		}
		if k, err := body.Read(b[n : n+1]); k > 0 || (err != nil && err != io.EOF) {
			if err == nil {
				err = errors.New("the body is longer than its Content-Length")
			}
			return nil, err
		}
		return b, nil
	}
	buf := v.bufs.Get().(*bytes.Buffer)
	defer v.bufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}
