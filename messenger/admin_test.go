package messenger_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

const (
	userID    = "7001"
	userToken = "EAAUserLongLivedToken0001"
	authCode  = "oauth-code-1"
)

func newAdmin(t *testing.T, pages int) (*messengertest.Server, *messenger.Client) {
	t.Helper()
	srv := messengertest.NewServer(t)
	u := messengertest.User{ID: userID, Name: "Admin", Token: userToken, Code: authCode,
		Permissions: map[string]string{"pages_messaging": "granted", "pages_show_list": "granted",
			"pages_read_engagement": "declined", "pages_manage_metadata": "granted"}}
	for i := range pages {
		id := "p" + string(rune('a'+i))
		u.Pages = append(u.Pages, messenger.Account{ID: id, Name: "Page " + id, Category: "Shopping",
			AccessToken: "EAAPage-" + id + "-token", Tasks: []string{"MANAGE", "MESSAGING"}})
	}
	srv.AddUser(u)
	return srv, srv.Client(t)
}

func TestOAuthFlowToLongLivedToken(t *testing.T) {
	t.Parallel()
	srv, _ := newAdmin(t, 1)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cfg := srv.Config()
	cfg.Now = func() time.Time { return now }
	c, err := messenger.New(cfg)
	require.NoError(t, err)
	ep := c.OAuth2Endpoint()
	assert.Equal(t, srv.URL+"/v25.0/dialog/oauth", ep.AuthURL)
	assert.Equal(t, srv.URL+"/v25.0/oauth/access_token", ep.TokenURL)

	conf := oauth2.Config{ClientID: srv.AppID, ClientSecret: srv.AppSecret, Endpoint: ep,
		RedirectURL: "https://desk.example/callback", Scopes: []string{"pages_messaging", "pages_show_list"}}
	login, err := url.Parse(conf.AuthCodeURL("state-1"))
	require.NoError(t, err)
	assert.Equal(t, "pages_messaging pages_show_list", login.Query().Get("scope"))

	ctx := context.Background()
	short, err := conf.Exchange(ctx, authCode)
	require.NoError(t, err)
	assert.Equal(t, "short-"+userToken, short.AccessToken)
	_, err = conf.Exchange(ctx, authCode)
	assert.Error(t, err, "a code is used once")

	long, err := c.ExchangeLongLived(ctx, short.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, userToken, long.AccessToken)
	assert.Equal(t, now.Add(5183944*time.Second), long.Expiry, "expiry from the injected clock")

	last := srv.Requests()[len(srv.Requests())-1]
	assert.Equal(t, "POST", last.Method)
	assert.Empty(t, last.Query.Get("fb_exchange_token"), "the token travels in the body")
	assert.Empty(t, last.Query.Get("client_secret"), "the secret travels in the body")

	_, err = c.ExchangeLongLived(ctx, "EAAnotAToken000")
	require.ErrorIs(t, err, messenger.ErrInvalidToken)
	assert.NotContains(t, err.Error(), "EAAnotAToken000")
	assert.NotContains(t, err.Error(), srv.AppSecret)
}

func TestDefaultOAuth2Endpoint(t *testing.T) {
	t.Parallel()
	c, err := messenger.New(messenger.Config{})
	require.NoError(t, err)
	assert.Equal(t, oauth2.Endpoint{AuthURL: "https://www.facebook.com/v25.0/dialog/oauth",
		TokenURL: "https://graph.facebook.com/v25.0/oauth/access_token", AuthStyle: oauth2.AuthStyleInParams}, c.OAuth2Endpoint())
	_, err = c.ExchangeLongLived(context.Background(), "x")
	assert.ErrorContains(t, err, "needs Config.AppID and Config.AppSecret")
	_, err = c.DebugToken(context.Background(), "x")
	assert.ErrorContains(t, err, "needs Config.AppID and Config.AppSecret")
}

func TestAccountsPaginates(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 5)
	srv.SetPageSize(2)
	user := c.User(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: userToken}))
	var ids []string
	for a, err := range user.Accounts(context.Background()) {
		require.NoError(t, err)
		ids = append(ids, a.ID)
		assert.Equal(t, "EAAPage-"+a.ID+"-token", a.AccessToken)
		assert.Equal(t, []string{"MANAGE", "MESSAGING"}, a.Tasks)
		assert.Equal(t, "Shopping", a.Category)
	}
	assert.Equal(t, []string{"pa", "pb", "pc", "pd", "pe"}, ids)
	reqs := srv.Requests()
	require.Len(t, reqs, 3, "three pages of two")
	for _, r := range reqs {
		assert.Empty(t, r.Query.Get("access_token"), "the next URL, which holds the token, is never followed as is")
	}
	assert.NotEmpty(t, reqs[1].Query.Get("after"))
}

func TestAccountsStopEarly(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 5)
	srv.SetPageSize(2)
	user := c.User(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: userToken}))
	for a, err := range user.Accounts(context.Background()) {
		require.NoError(t, err)
		if a.ID == "pb" {
			break
		}
	}
	assert.Len(t, srv.Requests(), 1, "no page fetched after the caller stopped")
}

func TestAccountsError(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 1)
	srv.RevokeUserToken(userID)
	user := c.User(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: userToken}))
	n := 0
	for _, err := range user.Accounts(context.Background()) {
		n++
		require.ErrorIs(t, err, messenger.ErrInvalidToken)
		assert.NotContains(t, err.Error(), userToken)
	}
	assert.Equal(t, 1, n)
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 0)
	user := c.User(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: userToken}))
	perms, err := user.Permissions(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []messenger.Permission{
		{Name: "pages_manage_metadata", Status: "granted"},
		{Name: "pages_messaging", Status: "granted"},
		{Name: "pages_read_engagement", Status: "declined"},
		{Name: "pages_show_list", Status: "granted"},
	}, perms)
	srv.SetPermission(userID, "pages_messaging", "expired")
	perms, err = user.Permissions(context.Background())
	require.NoError(t, err)
	assert.Contains(t, perms, messenger.Permission{Name: "pages_messaging", Status: "expired"})
}

func TestDebugToken(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 1)
	ctx := context.Background()

	info, err := c.DebugToken(ctx, "EAAPage-pa-token")
	require.NoError(t, err)
	assert.True(t, info.Valid)
	assert.Equal(t, "PAGE", info.Type)
	assert.Equal(t, "pa", info.ProfileID)
	assert.Equal(t, userID, info.UserID)
	assert.Equal(t, srv.AppID, info.AppID)
	assert.Equal(t, []string{"pages_manage_metadata", "pages_messaging", "pages_show_list"}, info.Scopes)
	assert.True(t, info.ExpiresAt.IsZero(), "page tokens from long-lived user tokens do not expire")

	srv.RevokePageToken("pa")
	info, err = c.DebugToken(ctx, "EAAPage-pa-token")
	require.NoError(t, err)
	assert.False(t, info.Valid)
	assert.Equal(t, 190, info.ErrorCode)
	assert.Equal(t, 460, info.ErrorSubcode)

	info, err = c.DebugToken(ctx, userToken)
	require.NoError(t, err)
	assert.Equal(t, "USER", info.Type)
	assert.Equal(t, userID, info.ProfileID)
	assert.False(t, info.ExpiresAt.IsZero())

	info, err = c.DebugToken(ctx, "garbage-token-value")
	require.NoError(t, err)
	assert.False(t, info.Valid)
	assert.Equal(t, 190, info.ErrorCode)

	srv.SetDebugToken("custom-token-value", messenger.TokenInfo{Valid: true, Type: "PAGE", ProfileID: "42", Scopes: []string{"pages_messaging"}})
	info, err = c.DebugToken(ctx, "custom-token-value")
	require.NoError(t, err)
	assert.Equal(t, "42", info.ProfileID)
	assert.Equal(t, []string{"pages_messaging"}, info.Scopes)

	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/debug_token") {
			assert.Equal(t, srv.AppID+"|"+srv.AppSecret, r.Token, "debug_token uses the app token")
			assert.Empty(t, r.Query.Get("access_token"), "the app token is not in the URL")
		}
	}
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 1)
	ctx := context.Background()
	page := c.Page("pa", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "EAAPage-pa-token"}))
	subs, err := page.Subscriptions(ctx)
	require.NoError(t, err)
	assert.Empty(t, subs)

	require.NoError(t, page.Subscribe(ctx, []string{"messages", "messaging_postbacks", "message_echoes"}))
	assert.Equal(t, []string{"messages", "messaging_postbacks", "message_echoes"}, srv.Subscribed("pa"))
	subs, err = page.Subscriptions(ctx)
	require.NoError(t, err)
	assert.Equal(t, []messenger.AppSubscription{{AppID: srv.AppID, Fields: []string{"messages", "messaging_postbacks", "message_echoes"}}}, subs)

	require.NoError(t, page.Unsubscribe(ctx))
	assert.Nil(t, srv.Subscribed("pa"))
	subs, err = page.Subscriptions(ctx)
	require.NoError(t, err)
	assert.Empty(t, subs)

	srv.RevokePageToken("pa")
	assert.ErrorIs(t, page.Subscribe(ctx, []string{"messages"}), messenger.ErrInvalidToken)
}

func TestPageScopedIDs(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 3)
	srv.SetPageSize(2)
	srv.AddPageScopedID("asid-1", "pa", "psid-a")
	srv.AddPageScopedID("asid-1", "pb", "psid-b")
	srv.AddPageScopedID("asid-1", "p-elsewhere", "psid-x")
	srv.AddPageScopedID("asid-2", "pa", "psid-other")
	ctx := context.Background()

	var got []messenger.PageScopedID
	for id, err := range c.PageScopedIDs(ctx, "asid-1") {
		require.NoError(t, err)
		got = append(got, id)
	}
	assert.Equal(t, []messenger.PageScopedID{
		{PSID: "psid-a", PageID: "pa", PageName: "Page pa"},
		{PSID: "psid-b", PageID: "pb", PageName: "Page pb"},
		{PSID: "psid-x", PageID: "p-elsewhere"},
	}, got)
	reqs := srv.Requests()
	require.Len(t, reqs, 2, "two pages of two")
	for _, r := range reqs {
		assert.Equal(t, "/v25.0/asid-1/ids_for_pages", r.Path)
		assert.Equal(t, srv.AppID+"|"+srv.AppSecret, r.Token, "ids_for_pages takes the app token")
		assert.NotEmpty(t, r.AppSecretProof)
		assert.Empty(t, r.Query.Get("access_token"), "the next URL, which holds the token, is never followed as is")
	}
	assert.Empty(t, reqs[0].Query.Get("after"))
	assert.NotEmpty(t, reqs[1].Query.Get("after"))

	// Stopping early fetches no further page.
	for range c.PageScopedIDs(ctx, "asid-1") {
		break
	}
	assert.Len(t, srv.Requests(), 3)

	// A person with no history with the business's Pages has none.
	n := 0
	for _, err := range c.PageScopedIDs(ctx, "asid-unknown") {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
}

func TestPageScopedIDsErrors(t *testing.T) {
	t.Parallel()
	srv, c := newAdmin(t, 1)
	srv.AddPageScopedID("asid-1", "pa", "psid-a")
	srv.SetPageSize(1)
	srv.AddPageScopedID("asid-1", "pb", "psid-b")
	ctx := context.Background()

	// A failure on the second page: the first page's id, then the error, once.
	var ids []string
	var errs []error
	for id, err := range c.PageScopedIDs(ctx, "asid-1") {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, id.PSID)
		srv.FailNext(1, messengertest.GraphError{Code: 2, Message: "Service temporarily unavailable"})
	}
	assert.Equal(t, []string{"psid-a"}, ids)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], messenger.ErrTransient)
	var ge *messenger.Error
	require.ErrorAs(t, errs[0], &ge)
	assert.Equal(t, 2, ge.Code)
	for _, secret := range []string{srv.AppSecret, srv.AppID + "|"} {
		assert.NotContains(t, errs[0].Error(), secret)
	}

	tests := []struct {
		name string
		c    func(t *testing.T) *messenger.Client
		asid string
		want string
	}{
		{"no app id or secret", func(t *testing.T) *messenger.Client {
			cfg := srv.Config()
			cfg.AppID, cfg.AppSecret = "", ""
			c, err := messenger.New(cfg)
			require.NoError(t, err)
			return c
		}, "asid-1", "needs Config.AppID and Config.AppSecret"},
		{"empty id", func(*testing.T) *messenger.Client { return c }, "", "appScopedUserID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			for _, err := range tt.c(t).PageScopedIDs(ctx, tt.asid) {
				n++
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.want)
			}
			assert.Equal(t, 1, n)
		})
	}
}
