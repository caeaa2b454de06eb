package channel

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/store"
)

// MessagingTask is the task an admin needs on a Page to connect it: the
// role that may send messages as the Page.
const MessagingTask = "MESSAGING"

// LoginURL returns the Facebook Login URL that an admin of a service opens
// to connect Pages (CONN-1). It asks for the four Permissions and carries a
// state that binds the login to serviceID and adminID (the host's own id
// of the signed-in admin) and expires after Config.StateTTL: an HMAC, so
// the SDK stores nothing. Declined permissions are asked for again.
func (s *Service) LoginURL(serviceID, adminID string) (string, error) {
	if serviceID == "" || adminID == "" {
		return "", &ValidationError{Field: "service and admin ids", Problem: "are required"}
	}
	state := s.signState(serviceID, adminID, s.now().Add(s.stateTTL))
	return s.oauth.AuthCodeURL(state, oauth2.SetAuthURLParam("auth_type", "rerequest")), nil
}

const (
	stateNonce = 16
	stateLen   = 8 + stateNonce + sha256.Size
)

func (s *Service) signState(serviceID, adminID string, expiry time.Time) string {
	var b [stateLen]byte
	binary.BigEndian.PutUint64(b[:8], uint64(expiry.Unix()))
	_, _ = rand.Read(b[8 : 8+stateNonce])
	copy(b[8+stateNonce:], s.stateMAC(b[:8+stateNonce], serviceID, adminID))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Service) stateMAC(head []byte, serviceID, adminID string) []byte {
	m := hmac.New(sha256.New, s.stateKey)
	m.Write([]byte("pagedesk/channel login state\x00"))
	m.Write(head)
	// Length-prefixed, so that ("ab","c") and ("a","bc") differ.
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(serviceID)))
	m.Write(n[:])
	m.Write([]byte(serviceID))
	m.Write([]byte(adminID))
	return m.Sum(nil)
}

// checkState verifies a state in constant time, then its expiry.
func (s *Service) checkState(state, serviceID, adminID string) error {
	b, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil || len(b) != stateLen {
		return fmt.Errorf("%w (malformed)", ErrInvalidState)
	}
	if !hmac.Equal(b[8+stateNonce:], s.stateMAC(b[:8+stateNonce], serviceID, adminID)) {
		return fmt.Errorf("%w (not made for this service and admin)", ErrInvalidState)
	}
	expiry := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	if !s.now().Before(expiry) {
		return fmt.Errorf("%w (expired at %s)", ErrInvalidState, expiry.UTC().Format(time.RFC3339))
	}
	return nil
}

// Login is an admin's completed Facebook Login: their long-lived user
// token, bound to the service and admin that started it. Keep it on the
// server (in the admin's session) between listing the Pages and connecting
// them; never log it or send it to a browser.
type Login struct {
	ServiceID string
	AdminID   string
	// UserID is the admin's Facebook user id (app-scoped).
	UserID string
	// Token is the long-lived user token (about 60 days).
	Token *oauth2.Token
}

func (l *Login) user(s *Service) *messenger.User {
	return s.graph.User(oauth2.StaticTokenSource(l.Token))
}

func (l *Login) check() error {
	if l == nil || l.Token == nil || l.Token.AccessToken == "" || l.ServiceID == "" {
		return &ValidationError{Field: "login", Problem: "is required: finish Facebook Login first (Exchange)"}
	}
	return nil
}

// Exchange finishes Facebook Login (CONN-1). callback is the query of the
// request Facebook redirected to Config.RedirectURL; serviceID and adminID
// are those of the admin signed in to the host, and must be those
// LoginURL was given. It checks the state, exchanges the code for a
// short-lived user token through golang.org/x/oauth2, turns it into a
// long-lived one (fb_exchange_token), and checks with /debug_token that it
// is a user token of this app.
//
// Errors: ErrLoginCancelled if the admin cancelled, ErrInvalidState for a
// missing, forged or expired state, ErrWrongApp, or the Graph API's error.
func (s *Service) Exchange(ctx context.Context, serviceID, adminID string, callback url.Values) (*Login, error) {
	if e := callback.Get("error"); e != "" {
		reason := callback.Get("error_reason")
		if reason == "" {
			reason = e
		}
		return nil, fmt.Errorf("%w (%s)", ErrLoginCancelled, reason)
	}
	if err := s.checkState(callback.Get("state"), serviceID, adminID); err != nil {
		return nil, err
	}
	code := callback.Get("code")
	if code == "" {
		return nil, &ValidationError{Field: "login callback code", Problem: "is missing"}
	}
	if s.httpClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, s.httpClient)
	}
	short, err := s.oauth.Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("channel: exchanging the login code: %w", redactRetrieve(err))
	}
	long, err := s.graph.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("channel: getting a long-lived user token: %w", err)
	}
	info, err := s.graph.DebugToken(ctx, long.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("channel: checking the user token: %w", err)
	}
	if !info.Valid || (info.AppID != "" && info.AppID != s.appID) || (info.Type != "" && info.Type != "USER") {
		return nil, fmt.Errorf("%w (valid %t, type %q)", ErrWrongApp, info.Valid, info.Type)
	}
	userID := info.UserID
	if userID == "" {
		userID = info.ProfileID
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "channel: facebook login", slog.String("service", serviceID), slog.String("admin", adminID), slog.String("fb_user", userID))
	return &Login{ServiceID: serviceID, AdminID: adminID, UserID: userID, Token: long}, nil
}

// redactRetrieve keeps an OAuth error's status and Facebook's error text
// but never the response body as a whole.
func redactRetrieve(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorDescription
		if msg == "" {
			msg = re.ErrorCode
		}
		if msg == "" {
			// Facebook answers with a Graph API error body.
			var body struct {
				Error struct {
					Message string `json:"message"`
					Code    int    `json:"code"`
				} `json:"error"`
			}
			if json.Unmarshal(re.Body, &body) == nil && body.Error.Message != "" {
				msg = fmt.Sprintf("%s (code %d)", body.Error.Message, body.Error.Code)
			}
		}
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return fmt.Errorf("oauth2: HTTP %d: %s", status, msg)
	}
	return err
}

// CheckPermissions checks that the admin granted every one of the four
// Permissions (CONN-3). It returns nil, or one *PermissionError naming
// every permission that is declined, expired or missing, with what it is
// for. Connect checks too; a host calls it to tell the admin early.
func (s *Service) CheckPermissions(ctx context.Context, login *Login) error {
	if err := login.check(); err != nil {
		return err
	}
	perms, err := login.user(s).Permissions(ctx)
	if err != nil {
		return fmt.Errorf("channel: reading the granted permissions: %w", err)
	}
	return missingPermissions(func(name string) string {
		status := "missing"
		for _, p := range perms {
			if p.Name == name {
				if p.Status == "granted" {
					return ""
				}
				if p.Status != "" {
					status = p.Status
				}
			}
		}
		return status
	})
}

// missingPermissions builds the *PermissionError of the permissions whose
// status (by status) is not "".
func missingPermissions(status func(name string) string) error {
	var missing []MissingPermission
	for _, p := range Permissions {
		if st := status(p.Name); st != "" {
			missing = append(missing, MissingPermission{Permission: p, Status: st})
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &PermissionError{Missing: missing}
}

// Page is a Facebook Page the admin manages (CONN-2).
type Page struct {
	ID       string
	Name     string
	Category string
	// Tasks are the admin's tasks on the Page ("MANAGE", "MESSAGING", ...).
	Tasks []string
	// CanMessage: the admin has the MESSAGING task, which connecting needs.
	CanMessage bool
	// AccessToken is the Page access token. It does not expire when got
	// from a long-lived user token. Connect fetches its own, so a host
	// rarely needs it; never log it or send it to a browser.
	AccessToken string
	// ChannelID and ChannelStatus are set when the Page is a channel of
	// the login's service (a disconnected one is restored by connecting).
	ChannelID     string
	ChannelStatus store.ChannelStatus
	// Taken: the Page is connected to another service, so it cannot be
	// connected here (CONN-6). Which service is never said.
	Taken bool
}

// Pages lists the Pages the admin manages (GET /me/accounts, page by page
// as the caller ranges), each with the admin's tasks, its token and whether
// it is already connected. An error is yielded once, last.
func (s *Service) Pages(ctx context.Context, login *Login) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		if err := login.check(); err != nil {
			yield(Page{}, err)
			return
		}
		for a, err := range login.user(s).Accounts(ctx) {
			if err != nil {
				yield(Page{}, fmt.Errorf("channel: listing your Pages: %w", err))
				return
			}
			p := Page{ID: a.ID, Name: a.Name, Category: a.Category, Tasks: a.Tasks,
				CanMessage: slices.Contains(a.Tasks, MessagingTask), AccessToken: a.AccessToken}
			ch, err := s.store.ChannelByPage(ctx, a.ID)
			switch {
			case err == nil && ch.ServiceID == login.ServiceID:
				p.ChannelID, p.ChannelStatus = ch.ID, ch.Status
			case err == nil:
				p.Taken = true
			case !errors.Is(err, store.ErrNotFound):
				yield(Page{}, err)
				return
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// account finds a Page the admin manages.
func (s *Service) account(ctx context.Context, login *Login, pageID string) (messenger.Account, error) {
	for a, err := range login.user(s).Accounts(ctx) {
		if err != nil {
			return messenger.Account{}, fmt.Errorf("channel: listing your Pages: %w", err)
		}
		if a.ID == pageID {
			return a, nil
		}
	}
	if pageID == login.UserID {
		return messenger.Account{}, fmt.Errorf("%w: %s is your personal profile; only Facebook Pages can be connected", ErrNotAPage, pageID)
	}
	return messenger.Account{}, fmt.Errorf("%w: %s is not among the Pages you manage; only Facebook Pages can be connected, never a personal profile or another kind of account", ErrNotAPage, pageID)
}
