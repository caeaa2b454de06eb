package messenger

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"time"

	"github.com/google/go-querystring/query"
	"golang.org/x/oauth2"
)

// formValues encodes a go-querystring struct.
func formValues(v any) (url.Values, error) {
	q, err := query.Values(v)
	if err != nil {
		return nil, fmt.Errorf("messenger: encoding the form: %w", err)
	}
	return q, nil
}

// OAuth2Endpoint is Facebook Login's endpoint for this client's Graph API
// version: the login dialog (www.facebook.com, or BaseURL when it is not
// the default, as with messengertest) and /oauth/access_token on BaseURL.
// Use it in an oauth2.Config to build the login URL and exchange the code
// (CONN-1); then ExchangeLongLived.
func (c *Client) OAuth2Endpoint() oauth2.Endpoint {
	dialog := c.base
	if c.base == DefaultBaseURL {
		dialog = "https://www.facebook.com"
	}
	return oauth2.Endpoint{
		AuthURL:   dialog + "/" + c.version + "/dialog/oauth",
		TokenURL:  c.base + "/" + c.version + "/oauth/access_token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

type exchangeForm struct {
	GrantType       string `url:"grant_type"`
	ClientID        string `url:"client_id"`
	ClientSecret    string `url:"client_secret"`
	FBExchangeToken string `url:"fb_exchange_token"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (c *Client) needApp(op string) error {
	if c.appID == "" || c.appSecret == "" {
		return fmt.Errorf("messenger: %s needs Config.AppID and Config.AppSecret", op)
	}
	return nil
}

// ExchangeLongLived turns a short-lived user token into a long-lived one
// (about 60 days): grant_type=fb_exchange_token, sent in a POST body so
// that neither the token nor the app secret is ever in a URL.
func (c *Client) ExchangeLongLived(ctx context.Context, shortLived string) (*oauth2.Token, error) {
	if err := c.needApp("ExchangeLongLived"); err != nil {
		return nil, err
	}
	if shortLived == "" {
		return nil, errRequired("shortLived")
	}
	form, err := formValues(exchangeForm{GrantType: "fb_exchange_token", ClientID: c.appID, ClientSecret: c.appSecret, FBExchangeToken: shortLived})
	if err != nil {
		return nil, err
	}
	var out tokenResponse
	if err := c.do(ctx, &call{
		method: "POST", path: "/oauth/access_token",
		proof: c.proof(shortLived),
		body:  formBody(form), rewindable: true,
		out: &out, redact: []string{shortLived},
	}); err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, fmt.Errorf("messenger: POST /%s/oauth/access_token: the answer has no access_token", c.version)
	}
	t := &oauth2.Token{AccessToken: out.AccessToken, TokenType: "Bearer"}
	if out.ExpiresIn > 0 {
		t.Expiry = c.now().Add(time.Duration(out.ExpiresIn) * time.Second)
	}
	return t, nil
}

// User is a handle for calls made with a user access token, such as the
// admin's during Facebook Login.
type User struct {
	c  *Client
	ts oauth2.TokenSource
}

// User returns the handle for the user whose token ts supplies.
func (c *Client) User(ts oauth2.TokenSource) *User { return &User{c: c, ts: ts} }

func (u *User) token() (string, error) { return tokenFrom(u.ts, "user") }

// Account is a Page the user manages, with its Page access token and the
// user's tasks on it (e.g. "MANAGE", "MODERATE", "MESSAGING").
type Account struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Category    string   `json:"category"`
	AccessToken string   `json:"access_token"`
	Tasks       []string `json:"tasks"`
}

type accountsQuery struct {
	Fields string `url:"fields"`
	After  string `url:"after,omitempty"`
}

type paging struct {
	Cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	} `json:"cursors"`
	Next string `json:"next"`
}

// after is the cursor of the next page, "" when there is none. The next
// URL is never requested as is: Facebook puts the access token in it.
func (p paging) after() string {
	if p.Next == "" {
		return ""
	}
	if p.Cursors.After != "" {
		return p.Cursors.After
	}
	if u, err := url.Parse(p.Next); err == nil {
		return u.Query().Get("after")
	}
	return ""
}

// Accounts lists the Pages the user manages (GET /me/accounts), following
// paging.cursors.after page by page as the caller ranges; stop ranging to
// stop fetching. An error is yielded once, last.
func (u *User) Accounts(ctx context.Context) iter.Seq2[Account, error] {
	return func(yield func(Account, error) bool) {
		token, err := u.token()
		if err != nil {
			yield(Account{}, err)
			return
		}
		for a, err := range paginate[Account](ctx, u.c, func(after string) *call {
			return &call{
				method: "GET", path: "/me/accounts",
				query: accountsQuery{Fields: "id,name,category,access_token,tasks", After: after},
				token: token, proof: u.c.proof(token),
			}
		}) {
			if !yield(a, err) {
				return
			}
		}
	}
}

// paginate yields the items of a paginated Graph edge: the call that
// page(after) describes (its out is set here), then the next page by
// paging.cursors.after, as the caller ranges; stop ranging to stop
// fetching. An error is yielded once, last.
func paginate[T any](ctx context.Context, c *Client, page func(after string) *call) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		after := ""
		seen := map[string]bool{}
		for {
			var out struct {
				Data   []T    `json:"data"`
				Paging paging `json:"paging"`
			}
			k := page(after)
			k.out = &out
			if err := c.do(ctx, k); err != nil {
				yield(zero, err)
				return
			}
			for _, item := range out.Data {
				if !yield(item, nil) {
					return
				}
			}
			after = out.Paging.after()
			if after == "" || len(out.Data) == 0 {
				return
			}
			if seen[after] {
				yield(zero, fmt.Errorf("messenger: %s: paging cursor repeats", k.op(c.version)))
				return
			}
			seen[after] = true
		}
	}
}

// PageScopedID is the id one Page knows a person by: the PSID that is
// the sender of their messages to that Page, and the recipient of the
// Page's replies.
type PageScopedID struct {
	PSID     string
	PageID   string
	PageName string
}

type idsForPagesQuery struct {
	After string `url:"after,omitempty"`
}

// idForPage is one item of /{app-scoped-user-id}/ids_for_pages.
type idForPage struct {
	ID   string `json:"id"`
	Page struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"page"`
}

// PageScopedIDs maps a person's app-scoped user id (the user_id of a
// Facebook Login or of a signed_request) to their Page-scoped ids, one per
// Page they have messaging history with (GET
// /{app-scoped-user-id}/ids_for_pages, Facebook's ID matching API),
// following paging.cursors.after page by page as the caller ranges; stop
// ranging to stop fetching. An error is yielded once, last.
//
// It is called with the app token (app id|app secret, with
// appsecret_proof), so it needs Config.AppID and Config.AppSecret.
// Facebook answers only for the Pages of the business (Business Manager)
// the app belongs to: a Page of another business is not listed, and a
// person with no history with the business's Pages has no ids.
func (c *Client) PageScopedIDs(ctx context.Context, appScopedUserID string) iter.Seq2[PageScopedID, error] {
	return func(yield func(PageScopedID, error) bool) {
		if err := c.needApp("PageScopedIDs"); err != nil {
			yield(PageScopedID{}, err)
			return
		}
		if appScopedUserID == "" {
			yield(PageScopedID{}, errRequired("appScopedUserID"))
			return
		}
		appToken := c.appID + "|" + c.appSecret
		for it, err := range paginate[idForPage](ctx, c, func(after string) *call {
			return &call{
				method: "GET", path: "/" + pathID(appScopedUserID) + "/ids_for_pages",
				query: idsForPagesQuery{After: after},
				token: appToken, proof: c.proof(appToken),
			}
		}) {
			if !yield(PageScopedID{PSID: it.ID, PageID: it.Page.ID, PageName: it.Page.Name}, err) {
				return
			}
		}
	}
}

// Permission is one permission of the user's token and its status:
// "granted", "declined" or "expired".
type Permission struct {
	Name   string `json:"permission"`
	Status string `json:"status"`
}

// Permissions lists the permissions the user granted or declined to the
// app (GET /me/permissions).
func (u *User) Permissions(ctx context.Context) ([]Permission, error) {
	token, err := u.token()
	if err != nil {
		return nil, err
	}
	var out struct {
		Data []Permission `json:"data"`
	}
	if err := u.c.do(ctx, &call{
		method: "GET", path: "/me/permissions",
		token: token, proof: u.c.proof(token), out: &out,
	}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// TokenInfo is what /debug_token says of a token.
type TokenInfo struct {
	Valid bool
	AppID string
	// Type is "USER", "PAGE", "APP" or "SYSTEM_USER".
	Type string
	// ProfileID is the Page of a Page token (profile_id), or the user of
	// a user token (user_id) when there is no profile_id.
	ProfileID string
	// UserID is the user the token was issued for (user_id).
	UserID string
	Scopes []string
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// ErrorCode, ErrorSubcode and ErrorMessage say why an invalid token is
	// invalid (e.g. 190/460: the password changed).
	ErrorCode, ErrorSubcode int
	ErrorMessage            string
}

type debugTokenQuery struct {
	InputToken string `url:"input_token"`
}

// DebugToken inspects token with the app token (GET /debug_token). An
// invalid token is not an error: TokenInfo.Valid is false and the Error
// fields say why. The inspected token is never in an error or a log line,
// but Graph takes it only in the query string (input_token): an HTTPClient
// whose transport logs URLs would see it, so give DebugToken's Client none
// that does.
func (c *Client) DebugToken(ctx context.Context, token string) (TokenInfo, error) {
	if err := c.needApp("DebugToken"); err != nil {
		return TokenInfo{}, err
	}
	if token == "" {
		return TokenInfo{}, errRequired("token")
	}
	appToken := c.appID + "|" + c.appSecret
	var out struct {
		Data struct {
			AppID     string   `json:"app_id"`
			Type      string   `json:"type"`
			IsValid   bool     `json:"is_valid"`
			ExpiresAt int64    `json:"expires_at"`
			ProfileID string   `json:"profile_id"`
			UserID    string   `json:"user_id"`
			Scopes    []string `json:"scopes"`
			Error     struct {
				Code    int    `json:"code"`
				Subcode int    `json:"subcode"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"data"`
	}
	if err := c.do(ctx, &call{
		method: "GET", path: "/debug_token",
		query: debugTokenQuery{InputToken: token},
		token: appToken, proof: c.proof(appToken), out: &out,
		redact: []string{token},
	}); err != nil {
		return TokenInfo{}, err
	}
	d := out.Data
	info := TokenInfo{
		Valid: d.IsValid, AppID: d.AppID, Type: d.Type, ProfileID: d.ProfileID, UserID: d.UserID,
		Scopes: d.Scopes, ErrorCode: d.Error.Code, ErrorSubcode: d.Error.Subcode,
		ErrorMessage: redact(d.Error.Message, token),
	}
	if info.ProfileID == "" {
		info.ProfileID = d.UserID
	}
	if d.ExpiresAt > 0 {
		info.ExpiresAt = time.Unix(d.ExpiresAt, 0).UTC()
	}
	return info, nil
}
