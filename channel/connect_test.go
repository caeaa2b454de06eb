package channel_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
	"github.com/pagedesk/pagedesk/store"
	"github.com/pagedesk/pagedesk/store/memstore"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	fb := messengertest.NewServer(t)
	good := channel.Config{Store: memstore.New(), Graph: fb.Client(t), AppID: "1", AppSecret: "s",
		RedirectURL: redirectURL, DeletionStatusURL: statusURL}
	_, err := channel.New(good)
	require.NoError(t, err)

	tests := []struct {
		name string
		edit func(*channel.Config)
		want string
	}{
		{"store", func(c *channel.Config) { c.Store = nil }, "channel.Config.Store is required"},
		{"graph", func(c *channel.Config) { c.Graph = nil }, "channel.Config.Graph is required"},
		{"app id", func(c *channel.Config) { c.AppID = "" }, "channel.Config.AppID is required"},
		{"app secret", func(c *channel.Config) { c.AppSecret = "" }, "channel.Config.AppSecret is required"},
		{"redirect", func(c *channel.Config) { c.RedirectURL = "/callback" }, "channel.Config.RedirectURL is not an absolute http or https URL"},
		{"status url", func(c *channel.Config) { c.DeletionStatusURL = "" }, "channel.Config.DeletionStatusURL is required"},
		{"state key", func(c *channel.Config) { c.StateKey = []byte("short") }, "channel.Config.StateKey is shorter than 32 bytes"},
		{"ttl", func(c *channel.Config) { c.StateTTL = -time.Second }, "channel.Config.StateTTL is negative"},
		{"language", func(c *channel.Config) { c.Language = "fr" }, `channel.Config.Language is not one of "en" and "zh-Hant"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			tt.edit(&cfg)
			_, err := channel.New(cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, channel.ErrInvalid)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestLoginURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	raw, err := e.svc.LoginURL("svc-a", "admin-a")
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, e.fb.URL+"/"+messengertest.Version+"/dialog/oauth", u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	assert.Equal(t, e.fb.AppID, q.Get("client_id"))
	assert.Equal(t, redirectURL, q.Get("redirect_uri"))
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "rerequest", q.Get("auth_type"), "declined permissions are asked for again")
	assert.ElementsMatch(t, []string{"pages_messaging", "pages_show_list", "pages_read_engagement", "pages_manage_metadata"},
		strings.Split(q.Get("scope"), " "))
	assert.NotEmpty(t, q.Get("state"))
	assert.NotContains(t, q.Get("state"), "svc-a", "the state does not carry the service id in clear")

	again, err := e.svc.LoginURL("svc-a", "admin-a")
	require.NoError(t, err)
	assert.NotEqual(t, raw, again, "every state is new")

	_, err = e.svc.LoginURL("", "admin-a")
	assert.ErrorIs(t, err, channel.ErrInvalid)
}

func TestExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.login(t, "svc-a", "admin-a", "code-1")
	assert.Equal(t, "svc-a", l.ServiceID)
	assert.Equal(t, "admin-a", l.AdminID)
	assert.Equal(t, "u1", l.UserID)
	assert.Equal(t, "user-token-1", l.Token.AccessToken, "the short-lived token was exchanged for the long-lived one")
}

func TestExchangeRefusesBadState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tamper := func(s string) string {
		b := []byte(s)
		if b[10] == 'A' {
			b[10] = 'B'
		} else {
			b[10] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name     string
		callback func() url.Values
		svc, adm string
		want     error
	}{
		{"forged", func() url.Values {
			q := e.callback(t, "svc-a", "admin-a", "code-1")
			q.Set("state", tamper(q.Get("state")))
			return q
		}, "svc-a", "admin-a", channel.ErrInvalidState},
		{"made for another service", func() url.Values { return e.callback(t, "svc-b", "admin-a", "code-1") }, "svc-a", "admin-a", channel.ErrInvalidState},
		{"made for another admin", func() url.Values { return e.callback(t, "svc-a", "admin-b", "code-1") }, "svc-a", "admin-a", channel.ErrInvalidState},
		{"missing", func() url.Values { return url.Values{"code": {"code-1"}} }, "svc-a", "admin-a", channel.ErrInvalidState},
		{"malformed", func() url.Values { return url.Values{"code": {"code-1"}, "state": {"%%%"}} }, "svc-a", "admin-a", channel.ErrInvalidState},
		{"cancelled", func() url.Values {
			return url.Values{"error": {"access_denied"}, "error_reason": {"user_denied"}}
		}, "svc-a", "admin-a", channel.ErrLoginCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Exchange(t.Context(), tt.svc, tt.adm, tt.callback())
			assert.ErrorIs(t, err, tt.want)
		})
	}
	// None of the refused callbacks spent the code.
	assert.Equal(t, "u1", e.login(t, "svc-a", "admin-a", "code-1").UserID)
}

func TestExchangeRefusesExpiredState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.callback(t, "svc-a", "admin-a", "code-1")
	e.clock.Advance(channel.DefaultStateTTL)
	_, err := e.svc.Exchange(t.Context(), "svc-a", "admin-a", q)
	require.ErrorIs(t, err, channel.ErrInvalidState)
	assert.Contains(t, err.Error(), "expired")

	q = e.callback(t, "svc-a", "admin-a", "code-1")
	e.clock.Advance(channel.DefaultStateTTL - time.Second)
	_, err = e.svc.Exchange(t.Context(), "svc-a", "admin-a", q)
	assert.NoError(t, err, "a state is good until its TTL")
}

func TestPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fb.SetPageSize(1) // follow the paging cursors
	a := e.connect(t)

	var pages []channel.Page
	for p, err := range e.svc.Pages(t.Context(), e.login(t, "svc-a", "admin-a", "code-1")) {
		require.NoError(t, err)
		pages = append(pages, p)
	}
	require.Len(t, pages, 2)
	assert.Equal(t, "p1", pages[0].ID)
	assert.Equal(t, "Acme", pages[0].Name)
	assert.Equal(t, "Shop", pages[0].Category)
	assert.True(t, pages[0].CanMessage)
	assert.Equal(t, "page-token-1", pages[0].AccessToken)
	assert.Equal(t, a.ID, pages[0].ChannelID, "already this service's channel")
	assert.Equal(t, store.ChannelActive, pages[0].ChannelStatus)
	assert.False(t, pages[0].Taken)
	assert.Equal(t, "p2", pages[1].ID)
	assert.False(t, pages[1].CanMessage)
	assert.Equal(t, []string{"ANALYZE"}, pages[1].Tasks)

	// Another service sees p1 taken, and not by whom.
	for p, err := range e.svc.Pages(t.Context(), e.login(t, "svc-b", "admin-b", "code-2")) {
		require.NoError(t, err)
		if p.ID == "p1" {
			assert.True(t, p.Taken)
			assert.Empty(t, p.ChannelID)
		}
		break // stopping early is fine
	}
}

func TestConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)

	assert.Equal(t, "svc-a", ch.ServiceID)
	assert.Equal(t, "p1", ch.PageID)
	assert.Equal(t, "Acme", ch.PageName)
	assert.Equal(t, "Acme", ch.Name, "named after the Page")
	assert.Equal(t, store.ChannelActive, ch.Status)
	assert.Equal(t, "page-token-1", ch.PageToken)
	assert.Equal(t, autoreply.DefaultSettings(autoreply.English), ch.AutoReply)
	assert.Equal(t, e.clock.Now(), ch.CreatedAt)
	assert.Equal(t, int64(1), ch.Version)

	// CONN-4: subscribed with every field the enquiry service needs.
	assert.Equal(t, []string{"messages", "messaging_postbacks", "message_deliveries", "message_reads",
		"message_echoes", "message_reactions", "messaging_handovers", "standby"}, e.fb.Subscribed("p1"))

	stored, err := e.st.ChannelByPage(t.Context(), "p1")
	require.NoError(t, err)
	assert.Equal(t, ch.ID, stored.ID)
	assert.Equal(t, []channel.NoticeKind{channel.NoticeConnected}, e.notices.kinds())
	assert.Equal(t, "u1", e.notices.last().UserID)
}

func TestConnectWithSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *channel.Config) { c.Language = autoreply.TraditionalChinese })
	set := channel.Settings{Name: "客服", Dispatch: store.Dispatch{Mode: store.DispatchRoundRobin, Group: "sales"}}
	ch, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-a", "admin-a", "code-1"), PageID: "p1", Settings: &set})
	require.NoError(t, err)
	assert.Equal(t, "客服", ch.Name)
	assert.Equal(t, store.DispatchRoundRobin, ch.Dispatch.Mode)

	e2 := newEnv(t, func(c *channel.Config) { c.Language = autoreply.TraditionalChinese })
	ch2 := e2.connect(t)
	assert.Equal(t, autoreply.TraditionalChinese, ch2.AutoReply.Language, "new channels speak Config.Language")

	bad := channel.Settings{Name: strings.Repeat("a", 41)}
	_, err = e2.svc.Connect(t.Context(), channel.ConnectRequest{Login: e2.login(t, "svc-a", "admin-a", "code-1"), PageID: "p1", Settings: &bad})
	assert.EqualError(t, err, "channel name is 41 characters; the limit is 40")
}

func TestConnectNamesEveryMissingPermission(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fb.SetPermission("u1", "pages_messaging", "declined")
	e.fb.SetPermission("u1", "pages_read_engagement", "")
	login := e.login(t, "svc-a", "admin-a", "code-1")

	err := e.svc.CheckPermissions(t.Context(), login)
	require.ErrorIs(t, err, channel.ErrMissingPermissions)
	var pe *channel.PermissionError
	require.ErrorAs(t, err, &pe)
	require.Len(t, pe.Missing, 2)
	assert.Equal(t, "pages_messaging", pe.Missing[0].Name)
	assert.Equal(t, "declined", pe.Missing[0].Status)
	assert.Equal(t, "pages_read_engagement", pe.Missing[1].Name)
	assert.Equal(t, "missing", pe.Missing[1].Status)
	assert.Equal(t, "channel: Facebook Login did not grant 2 permissions the Page connection needs: "+
		"pages_messaging (manage and access Page conversations in Messenger) is declined; "+
		"pages_read_engagement (read content posted on the Page) is missing. "+
		"Log in again and allow every permission asked for", err.Error())

	_, err = e.svc.Connect(t.Context(), channel.ConnectRequest{Login: login, PageID: "p1"})
	assert.ErrorAs(t, err, &pe)
	assert.Empty(t, e.fb.Subscribed("p1"), "nothing is subscribed")
	_, err = e.st.ChannelByPage(t.Context(), "p1")
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestConnectOnlyPagesTheAdminManages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	login := e.login(t, "svc-a", "admin-a", "code-1")
	tests := []struct {
		name, id, says string
		want           error
	}{
		{"own profile", "u1", "is your personal profile", channel.ErrNotAPage},
		{"another person's profile", "u2", "is not among the Pages you manage", channel.ErrNotAPage},
		{"a Page of someone else", "p3", "is not among the Pages you manage", channel.ErrNotAPage},
		{"no messaging task", "p2", "give you the messaging task", channel.ErrNoMessagingTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: login, PageID: tt.id})
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
	assert.Empty(t, e.notices.kinds())
}

func TestConnectRefusesAPageOfAnotherService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t)
	_, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-b", "admin-b", "code-2"), PageID: "p1"})
	require.ErrorIs(t, err, channel.ErrPageAlreadyConnected)
	assert.NotContains(t, err.Error(), "svc-a", "the other service is not named")

	// The other service's own Page still connects.
	ch, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-b", "admin-b", "code-2"), PageID: "p3"})
	require.NoError(t, err)
	assert.Equal(t, "svc-b", ch.ServiceID)
}

func TestConnectRaceOneWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rs := &racingStore{Store: e.st, release: make(chan struct{})}
	svc, err := channel.New(channel.Config{Store: rs, Graph: e.graph, AppID: e.fb.AppID, AppSecret: e.fb.AppSecret,
		RedirectURL: redirectURL, DeletionStatusURL: statusURL, Now: e.clock.Now, Notifier: e.notices})
	require.NoError(t, err)
	e.svc = svc
	logins := []*channel.Login{e.login(t, "svc-a", "admin-a", "code-1"), e.login(t, "svc-b", "admin-b", "code-2")}

	var wg sync.WaitGroup
	errs := make([]error, 2)
	chans := make([]*store.Channel, 2)
	for i, l := range logins {
		wg.Go(func() {
			chans[i], errs[i] = svc.Connect(t.Context(), channel.ConnectRequest{Login: l, PageID: "p1"})
		})
	}
	wg.Wait()

	won := 0
	for i, err := range errs {
		if err == nil {
			won++
			assert.Equal(t, logins[i].ServiceID, chans[i].ServiceID)
		} else {
			assert.ErrorIs(t, err, channel.ErrPageAlreadyConnected)
		}
	}
	assert.Equal(t, 1, won, "exactly one service holds the Page")
	assert.Equal(t, []channel.NoticeKind{channel.NoticeConnected}, e.notices.kinds())
	assert.NotEmpty(t, e.fb.Subscribed("p1"), "the loser did not unsubscribe the winner's Page")
}

func TestReconnectRestoresTheSameChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	set := channel.SettingsOf(ch)
	set.Name = "Acme support"
	set.CustomInfo = store.CustomInfo{On: true, Text: "VIP customers first"}
	set.AutoReply.Away = autoreply.Message{On: false}
	ch, err := e.svc.Update(t.Context(), "svc-a", ch.ID, ch.Version, set)
	require.NoError(t, err)

	// The token stops working; a send reports it.
	e.fb.RevokePageToken("p1")
	_, sendErr := e.svc.PageClient(ch).Send(t.Context(), messengerText("psid-1", "hello"))
	require.Error(t, sendErr)
	gone, err := e.svc.ReportGraphError(t.Context(), ch.ID, sendErr)
	require.NoError(t, err)
	require.True(t, gone)

	// The admin connects the Page again: Facebook gives a new token.
	e.fb.AddPage("p1", "Acme", "page-token-1b")
	e.clock.Advance(time.Hour)
	again := e.connect(t)
	assert.Equal(t, ch.ID, again.ID, "the same channel")
	assert.Equal(t, store.ChannelActive, again.Status)
	assert.Empty(t, again.DisconnectReason)
	assert.True(t, again.DisconnectedAt.IsZero())
	assert.Equal(t, "page-token-1b", again.PageToken)
	assert.Equal(t, set, channel.SettingsOf(again), "its settings are kept")
	assert.Equal(t, []channel.NoticeKind{channel.NoticeConnected, channel.NoticeUpdated, channel.NoticeDisconnected, channel.NoticeReconnected}, e.notices.kinds())

	// A paused channel stays paused when connected again.
	_, err = e.svc.Pause(t.Context(), "svc-a", ch.ID)
	require.NoError(t, err)
	again = e.connect(t)
	assert.Equal(t, store.ChannelPaused, again.Status)
}

func TestConnectAfterDeleteMakesANewChannel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ch := e.connect(t)
	require.NoError(t, e.svc.Delete(t.Context(), "svc-a", ch.ID))

	// Free for any service.
	other, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-b", "admin-b", "code-2"), PageID: "p1"})
	require.NoError(t, err)
	assert.NotEqual(t, ch.ID, other.ID)
	assert.Equal(t, "svc-b", other.ServiceID)
	assert.NotEmpty(t, e.fb.Subscribed("p1"))
}

func TestConnectNeedsALogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.Connect(t.Context(), channel.ConnectRequest{PageID: "p1"})
	assert.ErrorIs(t, err, channel.ErrInvalid)
	_, err = e.svc.Connect(t.Context(), channel.ConnectRequest{Login: e.login(t, "svc-a", "admin-a", "code-1")})
	assert.EqualError(t, err, "page id is required")
	for _, err := range e.svc.Pages(t.Context(), nil) {
		assert.ErrorIs(t, err, channel.ErrInvalid)
	}
}

func TestConnectSubscribeFailureStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	login := e.login(t, "svc-a", "admin-a", "code-1")
	// /me/permissions and /me/accounts answer; the subscription fails.
	calls := 0
	e.fb.OnRequest(func(r messengertest.Request) {
		calls++
		if calls == 2 {
			e.fb.FailNext(1, messengertest.GraphError{Code: 2, Message: "Service temporarily unavailable"})
		}
	})
	_, err := e.svc.Connect(t.Context(), channel.ConnectRequest{Login: login, PageID: "p1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "subscribing the app to Page p1's webhooks")
	_, err = e.st.ChannelByPage(t.Context(), "p1")
	assert.True(t, errors.Is(err, store.ErrNotFound), "no channel without its webhooks")
	assert.False(t, slices.Contains(e.notices.kinds(), channel.NoticeConnected))
}
