package channel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// LostRights reports whether a Graph API error means the connection lost
// its rights on the Page (CONN-7): an invalid token (code 190) or a
// permission error.
func LostRights(err error) bool {
	return errors.Is(err, messenger.ErrInvalidToken) || errors.Is(err, messenger.ErrPermission)
}

// ReportGraphError is called after a Graph call through a channel failed
// with err (the enquiry service calls it after a failed send). When err
// means the connection lost its rights on the Page (see LostRights), the
// channel is disconnected (status, reason and time recorded, the host
// notified); the channel then sends nothing until the Page is connected
// again. Any other error changes nothing. disconnected reports whether this
// call disconnected the channel: of any number of concurrent reports, in
// any number of processes, exactly one gets true (see Disconnect), so a
// caller that announces the disconnection itself does so once. reportErr
// is a failure to record the disconnection.
func (s *Service) ReportGraphError(ctx context.Context, channelID string, err error) (disconnected bool, reportErr error) {
	if err == nil || !LostRights(err) {
		return false, nil
	}
	_, moved, reportErr := s.disconnect(ctx, channelID, graphReason(err), "")
	if reportErr != nil {
		return false, reportErr
	}
	return moved, nil
}

// graphReason words why a Graph error disconnects a channel, for an admin.
func graphReason(err error) string {
	var ge *messenger.Error
	code := ""
	if errors.As(err, &ge) {
		code = fmt.Sprintf(" (code %d", ge.Code)
		if ge.Subcode != 0 {
			code += fmt.Sprintf(", subcode %d", ge.Subcode)
		}
		code += ")"
	}
	if errors.Is(err, messenger.ErrInvalidToken) {
		return "Facebook no longer accepts the Page's access token" + code +
			": the app was removed, an admin's password changed or their role on the Page was taken away; connect the Page again"
	}
	return "Facebook refused a call for lack of permission" + code +
		": a permission was revoked or the role on the Page changed; connect the Page again and allow every permission"
}

// disconnect marks a channel disconnected unless it already is, or is
// deleted. It reports whether this call changed it.
func (s *Service) disconnect(ctx context.Context, channelID, reason, userID string) (*store.Channel, bool, error) {
	ch, moved, err := Disconnect(ctx, s.store, channelID, reason, s.now())
	if err != nil || !moved {
		return ch, false, err
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "channel: disconnected", slog.String("service", ch.ServiceID),
		slog.String("channel", ch.ID), slog.String("page", ch.PageID), slog.String("reason", reason))
	s.notify(ctx, Notice{Kind: NoticeDisconnected, ServiceID: ch.ServiceID, ChannelID: ch.ID, PageID: ch.PageID, Reason: reason, UserID: userID, At: ch.DisconnectedAt})
	return ch, true, nil
}

// disconnectAttempts bounds how often Disconnect retries a compare-and-set
// that concurrent settings edits keep winning.
const disconnectAttempts = 3

// Disconnect records in st that a channel lost its rights on its Page
// (CONN-7), with the reason and time, unless it already is disconnected or
// deleted, and reports whether this call moved it. The write is a
// compare-and-set on the channel's version, so that of any number of
// concurrent callers, in any number of processes, exactly one moves it (and
// notifies, logs); if settings edits keep winning the race, the status is
// written without a version check, as a disconnection must not be lost.
//
// Service uses it for every disconnection; a host or service that keeps
// channels without a Service can call it directly.
func Disconnect(ctx context.Context, st store.Channels, channelID, reason string, at time.Time) (*store.Channel, bool, error) {
	for attempt := 1; ; attempt++ {
		ch, err := st.Channel(ctx, channelID)
		if err != nil {
			return nil, false, err
		}
		if ch.Status == store.ChannelDisconnected || ch.Status == store.ChannelDeleted {
			return ch, false, nil
		}
		if attempt == disconnectAttempts {
			ch, err = st.SetChannelStatus(ctx, channelID, store.ChannelDisconnected, reason, at)
			return ch, err == nil, err
		}
		ch.Status, ch.DisconnectReason, ch.DisconnectedAt, ch.UpdatedAt = store.ChannelDisconnected, reason, at, at
		err = st.UpdateChannel(ctx, ch)
		if err == nil {
			return ch, true, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, false, err
		}
	}
}

// Resubscribe subscribes the app to the channel's Page again with every
// one of WebhookFields, the remedy Diagnose names when the subscription is
// missing or lacks a field.
func (s *Service) Resubscribe(ctx context.Context, serviceID, channelID string) error {
	ch, err := s.channel(ctx, serviceID, channelID)
	if err != nil {
		return err
	}
	if err := s.CanSend(ch); errors.Is(err, ErrDisconnected) {
		return err
	}
	if err := s.PageClient(ch).Subscribe(ctx, WebhookFields); err != nil {
		if LostRights(err) {
			_, _ = s.ReportGraphError(ctx, ch.ID, err)
		}
		return fmt.Errorf("channel %s: subscribing: %w", ch.ID, err)
	}
	return nil
}

// The names of Diagnose's checks. Each permission has its own check,
// CheckPermission followed by its name.
const (
	CheckStatus       = "status"
	CheckToken        = "token"
	CheckPermission   = "permission "
	CheckSubscription = "subscription"
	CheckWebhook      = "last webhook"
)

// Check is one check of a diagnosis.
type Check struct {
	Name string // CheckStatus, CheckToken, CheckPermission+"pages_messaging", ...
	OK   bool
	// Detail says what was found.
	Detail string
	// Hint says what to do about a failed check, in words for an admin.
	Hint string
}

// Report is a channel's diagnosis (CONN-8).
type Report struct {
	ChannelID string
	At        time.Time
	Checks    []Check
	// Disconnected: the diagnosis found the rights gone and disconnected
	// the channel (CONN-7).
	Disconnected bool
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed returns the checks that failed.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Check returns the check of that name.
func (r *Report) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Diagnose troubleshoots "messages are not arriving" (CONN-8): it checks
// the channel's status, that its Page token is valid and of the Page
// (/debug_token), each of the four Permissions, that the app is subscribed
// to the Page with every one of WebhookFields, and when the last webhook
// arrived. Each check passes or fails with a hint an admin can act on.
// When the token is invalid or pages_messaging is gone, the channel is
// disconnected (CONN-7) and Report.Disconnected is true.
//
// An error is returned only when the diagnosis could not run (no such
// channel, the store failing); a Graph API error is a failed check.
func (s *Service) Diagnose(ctx context.Context, serviceID, channelID string) (*Report, error) {
	ch, err := s.channel(ctx, serviceID, channelID)
	if err != nil {
		return nil, err
	}
	r := &Report{ChannelID: ch.ID, At: s.now()}
	add := func(c Check) { r.Checks = append(r.Checks, c) }

	switch ch.Status {
	case store.ChannelActive:
		add(Check{Name: CheckStatus, OK: true, Detail: "active"})
	case store.ChannelPaused:
		add(Check{Name: CheckStatus, Detail: "paused: messages are recorded but nothing is offered or sent",
			Hint: "resume the channel"})
	default:
		add(Check{Name: CheckStatus, Detail: "disconnected: " + ch.DisconnectReason,
			Hint: "connect the Page again through Facebook Login"})
	}

	lost := "" // why the rights are gone, if they are
	info, err := s.graph.DebugToken(ctx, ch.PageToken)
	switch {
	case err != nil:
		add(Check{Name: CheckToken, Detail: "could not be checked: " + err.Error(),
			Hint: "try again later; if it persists, check the app id and secret"})
	case !info.Valid:
		detail := "Facebook says the Page token is invalid"
		if info.ErrorCode != 0 {
			detail += fmt.Sprintf(" (code %d, subcode %d)", info.ErrorCode, info.ErrorSubcode)
		}
		add(Check{Name: CheckToken, Detail: detail,
			Hint: "connect the Page again through Facebook Login; the app may have been removed or the admin's password or role changed"})
		lost = detail
	case info.AppID != "" && info.AppID != s.appID, info.Type != "" && info.Type != "PAGE", info.ProfileID != "" && info.ProfileID != ch.PageID:
		add(Check{Name: CheckToken, Detail: fmt.Sprintf("the token is a %s token of app %s for %s, not this app's token for Page %s", info.Type, info.AppID, info.ProfileID, ch.PageID),
			Hint: "connect the Page again through Facebook Login"})
		lost = "the stored token is not this app's token for the Page"
	default:
		detail := "valid; does not expire"
		if !info.ExpiresAt.IsZero() {
			detail = "valid until " + info.ExpiresAt.UTC().Format(time.RFC3339)
		}
		add(Check{Name: CheckToken, OK: true, Detail: detail})
	}

	for _, p := range Permissions {
		c := Check{Name: CheckPermission + p.Name}
		switch {
		case err != nil || !info.Valid:
			c.Detail = "unknown: the token could not be checked"
			c.Hint = "fix the token first"
		case slices.Contains(info.Scopes, p.Name):
			c.OK, c.Detail = true, "granted: "+p.Description
		default:
			c.Detail = "not granted: " + p.Description
			c.Hint = "connect the Page again and allow " + p.Name
			if p.Name == "pages_messaging" && lost == "" {
				lost = "the pages_messaging permission (" + p.Description + ") was revoked"
			}
		}
		add(c)
	}

	subs, serr := s.PageClient(ch).Subscriptions(ctx)
	switch {
	case serr != nil:
		add(Check{Name: CheckSubscription, Detail: "could not be read: " + serr.Error(),
			Hint: "fix the token and permissions first, then call Resubscribe"})
		if LostRights(serr) && lost == "" {
			lost = graphReason(serr)
		}
	default:
		add(subscriptionCheck(subs, s.appID))
	}

	if ch.LastWebhookAt.IsZero() {
		add(Check{Name: CheckWebhook, Detail: "no webhook has arrived for this Page",
			Hint: "check the app's webhook callback URL and verify token in the app dashboard, then send the Page a message or run SelfTest"})
	} else {
		add(Check{Name: CheckWebhook, OK: true, Detail: fmt.Sprintf("the last arrived at %s (%s ago)",
			ch.LastWebhookAt.UTC().Format(time.RFC3339), r.At.Sub(ch.LastWebhookAt).Round(time.Second))})
	}

	if lost != "" {
		if _, changed, err := s.disconnect(ctx, ch.ID, "diagnosis: "+lost, ""); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "channel: recording a disconnection failed", slog.String("channel", ch.ID), slog.String("error", err.Error()))
		} else if changed {
			r.Disconnected = true
		}
	}
	return r, nil
}

func subscriptionCheck(subs []messenger.AppSubscription, appID string) Check {
	for _, sub := range subs {
		if sub.AppID != appID {
			continue
		}
		var missing []string
		for _, f := range WebhookFields {
			if !slices.Contains(sub.Fields, f) {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			return Check{Name: CheckSubscription, Detail: "the app is subscribed but not to " + strings.Join(missing, ", "),
				Hint: "call Resubscribe (or connect the Page again) to subscribe to every needed field"}
		}
		return Check{Name: CheckSubscription, OK: true, Detail: "subscribed to " + strings.Join(WebhookFields, ", ")}
	}
	return Check{Name: CheckSubscription, Detail: "the app is not subscribed to the Page's webhooks",
		Hint: "call Resubscribe (or connect the Page again); check that the app was not removed from the Page's Business Integrations"}
}

// SelfTestMetadata starts the metadata of every self-test message, so that
// the enquiry service can tell a self-test's echo from a message sent from
// the Page Inbox (see IsSelfTest).
const SelfTestMetadata = "pagedesk:selftest:"

// SelfTestText is the text of the self-test message.
const SelfTestText = "PageDesk self-test: this message checks that the Page's Messenger connection works. You can ignore it."

// IsSelfTest reports whether a webhook event is the echo of a self-test
// message.
func IsSelfTest(ev messenger.Event) bool {
	return ev.Kind == messenger.KindEcho && ev.Message != nil && strings.HasPrefix(ev.Message.Metadata, SelfTestMetadata)
}

// SelfTestResult is the outcome of a self-test that came back.
type SelfTestResult struct {
	MessageID string    // the test message's mid
	SentAt    time.Time // when Facebook accepted it
	EchoAt    time.Time // when its echo was observed
}

// SelfTest proves the whole loop (CONN-8): it sends a test message
// (SelfTestText) through the Page to psid, someone who has messaged the
// Page within 24 hours (the admin themself, typically), and waits, for as
// long as ctx allows, for its echo webhook. The echo reaches the service
// through ObserveEcho, which the host's webhook handler (the enquiry
// service) calls for every echo event; with several processes, the echo
// must be handed to the process running the self-test (or to every one).
//
// It fails with a *StatusError for a paused or disconnected channel (they
// send nothing), with the Graph API's error if the send fails (a lost
// right disconnects the channel), and with ErrNoEcho if ctx ends first.
func (s *Service) SelfTest(ctx context.Context, serviceID, channelID, psid string) (SelfTestResult, error) {
	if psid == "" {
		return SelfTestResult{}, &ValidationError{Field: "self-test recipient (psid)", Problem: "is required"}
	}
	ch, err := s.channel(ctx, serviceID, channelID)
	if err != nil {
		return SelfTestResult{}, err
	}
	if err := s.CanSend(ch); err != nil {
		return SelfTestResult{}, err
	}
	md := SelfTestMetadata + randomID()
	w := s.echoes.add(ch.PageID, md)
	defer s.echoes.remove(w)

	res, err := s.PageClient(ch).Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: SelfTestText, Metadata: md})
	if err != nil {
		if LostRights(err) {
			if _, rerr := s.ReportGraphError(ctx, ch.ID, err); rerr != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "channel: recording a disconnection failed", slog.String("channel", ch.ID), slog.String("error", rerr.Error()))
			}
		}
		return SelfTestResult{}, fmt.Errorf("channel %s: sending the self-test message: %w", ch.ID, err)
	}
	out := SelfTestResult{MessageID: res.MessageID, SentAt: s.now()}
	s.echoes.setMID(w, res.MessageID)
	select {
	case <-w.done:
		out.EchoAt = s.now()
		return out, nil
	case <-ctx.Done():
		return out, fmt.Errorf("%w: message %s was sent through Page %s but its echo did not come back (%v); check the app's webhook callback URL and its message_echoes subscription (Diagnose)",
			ErrNoEcho, res.MessageID, ch.PageID, ctx.Err())
	}
}

// ObserveEcho hands the service an echo webhook event so that a running
// SelfTest sees its message come back. The enquiry service calls it for
// every echo (messenger.KindEcho); other events are ignored. It never
// blocks.
func (s *Service) ObserveEcho(ev messenger.Event) {
	if ev.Kind != messenger.KindEcho || ev.Message == nil {
		return
	}
	s.echoes.observe(ev.PageID, ev.Message.Metadata, ev.Message.MID)
}

// echoWaiters are the self-tests waiting for their echo, by metadata and,
// once the send returned, by mid. While any self-test runs, the mids of
// echoes that matched none are remembered (a few), for an echo without
// metadata that arrives before its send returned.
type echoWaiters struct {
	mu      sync.Mutex
	waiters map[string]*echoWaiter // key: "md:"+metadata or "mid:"+page+"/"+mid
	recent  map[string]bool        // "page/mid" of unmatched echoes
	order   []string               // recent, oldest first
}

// maxRecentEchoes bounds what is remembered of unmatched echoes.
const maxRecentEchoes = 256

type echoWaiter struct {
	pageID, md, mid string
	done            chan struct{}
	closed          bool
}

func (w *echoWaiter) finish() {
	if !w.closed {
		w.closed = true
		close(w.done)
	}
}

func (e *echoWaiters) add(pageID, md string) *echoWaiter {
	w := &echoWaiter{pageID: pageID, md: md, done: make(chan struct{})}
	e.mu.Lock()
	e.waiters["md:"+md] = w
	e.mu.Unlock()
	return w
}

func (e *echoWaiters) setMID(w *echoWaiter, mid string) {
	if mid == "" {
		return
	}
	key := w.pageID + "/" + mid
	e.mu.Lock()
	defer e.mu.Unlock()
	w.mid = mid
	if e.recent[key] {
		w.finish()
		return
	}
	e.waiters["mid:"+key] = w
}

func (e *echoWaiters) remove(w *echoWaiter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.waiters, "md:"+w.md)
	if w.mid != "" {
		delete(e.waiters, "mid:"+w.pageID+"/"+w.mid)
	}
	if len(e.waiters) == 0 {
		e.recent, e.order = nil, nil
	}
}

func (e *echoWaiters) observe(pageID, md, mid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.waiters) == 0 {
		return
	}
	if w := e.waiters["md:"+md]; md != "" && w != nil && (pageID == "" || w.pageID == pageID) {
		w.finish()
		return
	}
	if mid == "" {
		return
	}
	key := pageID + "/" + mid
	if w := e.waiters["mid:"+key]; w != nil {
		w.finish()
		return
	}
	if e.recent == nil {
		e.recent = map[string]bool{}
	}
	if !e.recent[key] {
		e.recent[key] = true
		e.order = append(e.order, key)
		if len(e.order) > maxRecentEchoes {
			delete(e.recent, e.order[0])
			e.order = e.order[1:]
		}
	}
}
