package messenger_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/pagedesk/pagedesk/messenger"
	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

const (
	pageID    = "1001"
	pageToken = "EAAPageTokenSecretValue123"
	psid      = "2002"
)

func newPage(t *testing.T) (*messengertest.Server, *messenger.Page) {
	t.Helper()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Test Page", pageToken)
	return srv, srv.Client(t).Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: pageToken}))
}

func TestSendText(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	res, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: psid, Text: "hello"})
	require.NoError(t, err)
	assert.Equal(t, psid, res.RecipientID)
	assert.NotEmpty(t, res.MessageID)
	sent := srv.Sent(pageID)
	require.Len(t, sent, 1)
	assert.Equal(t, "hello", sent[0].Text)
	assert.Equal(t, "RESPONSE", sent[0].MessagingType)
	assert.Equal(t, res.MessageID, sent[0].MessageID)
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, pageToken, reqs[0].Token)
	assert.NotContains(t, reqs[0].Query.Encode(), pageToken, "the token must not be in the URL")
	assert.NotEmpty(t, reqs[0].AppSecretProof)
}

func TestSendErrorNeverHoldsToken(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	srv.FailNext(1, messengertest.GraphError{Code: 190, Subcode: 460, Message: "Error validating access token " + pageToken})
	_, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: psid, Text: "hello"})
	require.Error(t, err)
	assert.ErrorIs(t, err, messenger.ErrInvalidToken)
	assert.NotContains(t, err.Error(), pageToken)
	var ge *messenger.Error
	require.True(t, errors.As(err, &ge))
	assert.Equal(t, 460, ge.Subcode)
	assert.False(t, strings.Contains(ge.Message, pageToken))
}
