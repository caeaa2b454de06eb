package messenger_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
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

func newPage(t testing.TB) (*messengertest.Server, *messenger.Page) {
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
	assert.Equal(t, "Bearer "+pageToken, reqs[0].Header.Get("Authorization"))
	assert.NotContains(t, reqs[0].Query.Encode(), pageToken, "the token must not be in the URL")
	assert.NotContains(t, string(reqs[0].Body), pageToken)
	assert.NotEmpty(t, reqs[0].AppSecretProof)
}

func TestSendCJKAtTheLimit(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	ctx := context.Background()
	_, err := page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: strings.Repeat("中", 2000)})
	require.NoError(t, err, "2,000 CJK characters fit (RULE-1)")
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: strings.Repeat("中", 2001)})
	require.ErrorIs(t, err, messenger.ErrTooLong)
	assert.EqualError(t, err, "messenger: Text is 2,001 characters; the limit is 2,000")
	assert.Len(t, srv.Requests(), 1, "the refused text never reached the network")
}

func TestSendKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    messenger.OutgoingMessage
		want messengertest.SentMessage
	}{
		{"update", messenger.OutgoingMessage{Text: "news", Type: messenger.Update},
			messengertest.SentMessage{Text: "news", MessagingType: "UPDATE"}},
		{"human agent tag", messenger.OutgoingMessage{Text: "late answer", Type: messenger.MessageTag, Tag: messenger.HumanAgent, Metadata: "enq-7"},
			messengertest.SentMessage{Text: "late answer", MessagingType: "MESSAGE_TAG", Tag: "HUMAN_AGENT", Metadata: "enq-7"}},
		{"quick replies", messenger.OutgoingMessage{Text: "Pick one", QuickReplies: []messenger.QuickReply{{Title: "Yes", Payload: "YES"}, {Title: "No", Payload: "NO", ImageURL: "https://x/no.png"}}},
			messengertest.SentMessage{Text: "Pick one", MessagingType: "RESPONSE", QuickReplies: []messenger.QuickReply{{Title: "Yes", Payload: "YES"}, {Title: "No", Payload: "NO", ImageURL: "https://x/no.png"}}}},
		{"image by URL", messenger.OutgoingMessage{Attachment: &messenger.Attachment{Type: messenger.AttachmentImage, URL: "https://x/cat.png"}},
			messengertest.SentMessage{MessagingType: "RESPONSE", Attachment: &messengertest.SentAttachment{Type: "image", URL: "https://x/cat.png"}}},
		{"video by URL", messenger.OutgoingMessage{Attachment: &messenger.Attachment{Type: messenger.AttachmentVideo, URL: "https://x/v.mp4"}},
			messengertest.SentMessage{MessagingType: "RESPONSE", Attachment: &messengertest.SentAttachment{Type: "video", URL: "https://x/v.mp4"}}},
		{"audio by URL", messenger.OutgoingMessage{Attachment: &messenger.Attachment{Type: messenger.AttachmentAudio, URL: "https://x/a.mp3"}},
			messengertest.SentMessage{MessagingType: "RESPONSE", Attachment: &messengertest.SentAttachment{Type: "audio", URL: "https://x/a.mp3"}}},
		{"file by URL", messenger.OutgoingMessage{Attachment: &messenger.Attachment{Type: messenger.AttachmentFile, URL: "https://x/f.pdf"}},
			messengertest.SentMessage{MessagingType: "RESPONSE", Attachment: &messengertest.SentAttachment{Type: "file", URL: "https://x/f.pdf"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, page := newPage(t)
			tt.m.Recipient = psid
			res, err := page.Send(context.Background(), tt.m)
			require.NoError(t, err)
			sent := srv.Sent(pageID)
			require.Len(t, sent, 1)
			tt.want.PageID, tt.want.RecipientID, tt.want.MessageID = pageID, psid, res.MessageID
			assert.Equal(t, tt.want, sent[0])
		})
	}
}

func TestAttachmentReuse(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	ctx := context.Background()

	// By URL, reusable: Facebook answers with an id to send it again.
	res, err := page.Send(ctx, messenger.OutgoingMessage{Recipient: psid,
		Attachment: &messenger.Attachment{Type: messenger.AttachmentImage, URL: "https://x/logo.png", Reusable: true}})
	require.NoError(t, err)
	require.NotEmpty(t, res.AttachmentID)
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: "3003",
		Attachment: &messenger.Attachment{Type: messenger.AttachmentImage, ID: res.AttachmentID}})
	require.NoError(t, err)

	// By upload.
	id, err := page.Upload(ctx, messenger.Upload{Type: messenger.AttachmentFile, Filename: "terms.pdf", Body: strings.NewReader("%PDF-1.7 terms")})
	require.NoError(t, err)
	up, ok := srv.Attachment(id)
	require.True(t, ok)
	assert.Equal(t, messengertest.Uploaded{ID: id, PageID: pageID, Type: "file", Filename: "terms.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 terms")}, up)
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Attachment: &messenger.Attachment{Type: messenger.AttachmentFile, ID: id}})
	require.NoError(t, err)

	sent := srv.Sent(pageID)
	require.Len(t, sent, 3)
	assert.Equal(t, &messengertest.SentAttachment{Type: "image", URL: "https://x/logo.png", Reusable: true}, sent[0].Attachment)
	assert.Equal(t, &messengertest.SentAttachment{Type: "image", ID: res.AttachmentID}, sent[1].Attachment)
	assert.Equal(t, &messengertest.SentAttachment{Type: "file", ID: id}, sent[2].Attachment)

	// An unknown id is refused by Facebook as an invalid parameter.
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Attachment: &messenger.Attachment{Type: messenger.AttachmentFile, ID: "nope"}})
	assert.ErrorIs(t, err, messenger.ErrInvalidParameter)
}

func TestUploadContentTypeAndDefaults(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	ctx := context.Background()
	id, err := page.Upload(ctx, messenger.Upload{Type: messenger.AttachmentImage, ContentType: "image/webp", Filename: "x.bin", Body: bytes.NewReader([]byte{1, 2, 3})})
	require.NoError(t, err)
	up, _ := srv.Attachment(id)
	assert.Equal(t, "image/webp", up.ContentType)
	id, err = page.Upload(ctx, messenger.Upload{Type: messenger.AttachmentAudio, Body: strings.NewReader("ogg")})
	require.NoError(t, err)
	up, _ = srv.Attachment(id)
	assert.Equal(t, "attachment", up.Filename)
	assert.Equal(t, "application/octet-stream", up.ContentType)
	assert.Equal(t, "audio", up.Type)
}

// zeros is an endless reader of zero bytes, to stream big files without
// holding them.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestUploadStreamedSizeLimit streams bodies of exactly 25,000,000 bytes
// (RULE-3, MB = 10^6 bytes: accepted) and 25,000,001 bytes (refused with
// ErrTooLarge as soon as the limit is passed, whatever Size said).
func TestUploadStreamedSizeLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 50 MB")
	}
	t.Parallel()
	srv, page := newPage(t)
	ctx := context.Background()
	id, err := page.Upload(ctx, messenger.Upload{Type: messenger.AttachmentVideo, Filename: "v.mp4", Body: io.LimitReader(zeros{}, messenger.MaxFileBytes)})
	require.NoError(t, err)
	up, ok := srv.Attachment(id)
	require.True(t, ok)
	assert.Len(t, up.Data, messenger.MaxFileBytes)

	_, err = page.Upload(ctx, messenger.Upload{Type: messenger.AttachmentVideo, Filename: "v.mp4", Body: io.LimitReader(zeros{}, messenger.MaxFileBytes+1)})
	require.ErrorIs(t, err, messenger.ErrTooLarge)
	assert.Contains(t, err.Error(), "Upload.Body is more than 25,000,000 bytes")
	var ve *messenger.ValidationError
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, int64(messenger.MaxFileBytes), ve.Limit)
}

func TestUploadDeclaredSizeRefusedBeforeNetwork(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	_, err := page.Upload(context.Background(), messenger.Upload{Type: messenger.AttachmentFile, Size: messenger.MaxFileBytes + 1, Body: strings.NewReader("x")})
	require.ErrorIs(t, err, messenger.ErrTooLarge)
	assert.Empty(t, srv.Requests())
}

// zeroSeeker is size zero bytes that can be read and sought but has no
// Len method, so Upload can only measure it by seeking.
type zeroSeeker struct{ size, off int64 }

func (z *zeroSeeker) Read(p []byte) (int, error) {
	if z.off >= z.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.size-z.off)]
	clear(p)
	z.off += int64(len(p))
	return len(p), nil
}

func (z *zeroSeeker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += z.off
	case io.SeekEnd:
		offset += z.size
	}
	if offset < 0 {
		return 0, errors.New("negative offset")
	}
	z.off = offset
	return offset, nil
}

// sparseFile is a temporary file of size bytes, at offset off.
func sparseFile(t *testing.T, size, off int64) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "upload.bin"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	require.NoError(t, f.Truncate(size))
	_, err = f.Seek(off, io.SeekStart)
	require.NoError(t, err)
	return f
}

// TestUploadMeasuredLengthRefusedBeforeNetwork: with Size 0, a body whose
// remaining length can be learnt without reading it is refused before any
// request, measured from its current position and left there.
func TestUploadMeasuredLengthRefusedBeforeNetwork(t *testing.T) {
	t.Parallel()
	const over = messenger.MaxFileBytes + 1
	read10 := func(r io.Reader) io.Reader {
		_, err := io.CopyN(io.Discard, r, 10)
		require.NoError(t, err)
		return r
	}
	tests := []struct {
		name string
		body io.Reader
		pos  func() (int64, error) // the body's position afterwards
		want int64
	}{
		{"seeker", &zeroSeeker{size: over}, nil, 0},
		{"seeker at offset 10", &zeroSeeker{size: over + 10, off: 10}, nil, 10},
		{"*bytes.Reader (Len)", bytes.NewReader(make([]byte, over)), nil, 0},
		{"*bytes.Reader with 10 bytes read", read10(bytes.NewReader(make([]byte, over+10))), nil, 10},
		{"*strings.Reader (Len)", strings.NewReader(strings.Repeat("x", over)), nil, 0},
		{"*os.File (Stat)", sparseFile(t, over, 0), nil, 0},
		{"*os.File at offset 10", sparseFile(t, over+10, 10), nil, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, page := newPage(t)
			_, err := page.Upload(context.Background(), messenger.Upload{Type: messenger.AttachmentFile, Filename: "f.bin", Body: tt.body})
			require.ErrorIs(t, err, messenger.ErrTooLarge)
			assert.Equal(t, "messenger: Upload.Body is 25,000,001 bytes; the limit is 25,000,000", err.Error())
			var ve *messenger.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, int64(messenger.MaxFileBytes), ve.Limit)
			assert.Equal(t, int64(over), ve.Actual)
			assert.Empty(t, srv.Requests(), "refused before any request")
			pos, err := tt.body.(io.Seeker).Seek(0, io.SeekCurrent)
			require.NoError(t, err)
			assert.Equal(t, tt.want, pos, "the body is left where it was")
		})
	}
}

// TestUploadMeasuredLengthAtTheLimit: a seekable body with exactly
// MaxFileBytes left from its current position is sent, from there.
func TestUploadMeasuredLengthAtTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 25 MB")
	}
	t.Parallel()
	srv, page := newPage(t)
	id, err := page.Upload(context.Background(), messenger.Upload{Type: messenger.AttachmentFile, Filename: "f.bin",
		Body: &zeroSeeker{size: messenger.MaxFileBytes + 10, off: 10}})
	require.NoError(t, err)
	up, ok := srv.Attachment(id)
	require.True(t, ok)
	assert.Len(t, up.Data, messenger.MaxFileBytes)
	assert.Len(t, srv.Requests(), 1)
}

func TestUploadRetriedFromSeekableBody(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Test Page", pageToken)
	cfg := srv.Config()
	cfg.Retry = messenger.RetryPolicy{MaxAttempts: 2, BaseDelay: 1, MaxDelay: 1}
	c, err := messenger.New(cfg)
	require.NoError(t, err)
	page := c.Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: pageToken}))
	srv.FailNext(1, messengertest.GraphError{Code: 2, Transient: true})
	id, err := page.Upload(context.Background(), messenger.Upload{Type: messenger.AttachmentImage, Filename: "a.png", Body: strings.NewReader("PNGDATA")})
	require.NoError(t, err)
	up, _ := srv.Attachment(id)
	assert.Equal(t, "PNGDATA", string(up.Data), "the retry sent the whole file again")
	assert.Len(t, srv.Requests(), 2)
}

func TestSenderActionsAndProfile(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	ctx := context.Background()
	for _, a := range []messenger.SenderAction{messenger.MarkSeen, messenger.TypingOn, messenger.TypingOff} {
		require.NoError(t, page.SenderAction(ctx, psid, a))
	}
	assert.Equal(t, []messengertest.SentAction{
		{PageID: pageID, RecipientID: psid, Action: "mark_seen"},
		{PageID: pageID, RecipientID: psid, Action: "typing_on"},
		{PageID: pageID, RecipientID: psid, Action: "typing_off"},
	}, srv.SenderActions(pageID))
	assert.Empty(t, srv.Sent(pageID), "sender actions are not messages")

	srv.AddProfile(psid, messenger.Profile{FirstName: "美玲", LastName: "陳", ProfilePic: "https://x/p.jpg"})
	p, err := page.Profile(ctx, psid)
	require.NoError(t, err)
	assert.Equal(t, messenger.Profile{FirstName: "美玲", LastName: "陳", ProfilePic: "https://x/p.jpg"}, p)
	assert.Equal(t, "first_name,last_name,profile_pic", srv.Requests()[3].Query.Get("fields"))

	_, err = page.Profile(ctx, "9999")
	assert.ErrorIs(t, err, messenger.ErrInvalidParameter)
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
	assert.Equal(t, "AmessengertestTrace", ge.TraceID)
	assert.NotContains(t, ge.Message, pageToken)
}

func TestRevokedPageToken(t *testing.T) {
	t.Parallel()
	srv, page := newPage(t)
	ctx := context.Background()
	_, err := page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: "before"})
	require.NoError(t, err)
	srv.RevokePageToken(pageID)
	_, err = page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: "after"})
	require.ErrorIs(t, err, messenger.ErrInvalidToken)
	assert.NotErrorIs(t, err, messenger.ErrMaybeDelivered)
	assert.NotContains(t, err.Error(), pageToken)
	assert.Len(t, srv.Sent(pageID), 1)
}

func TestSendGraphErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fail  messengertest.GraphError
		is    []error
		isNot []error
	}{
		{"outside window", messengertest.GraphError{Code: 10, Subcode: 2018278}, []error{messenger.ErrOutsideWindow}, []error{messenger.ErrPermission, messenger.ErrMaybeDelivered}},
		{"permission", messengertest.GraphError{Code: 200}, []error{messenger.ErrPermission}, []error{messenger.ErrOutsideWindow}},
		{"unavailable", messengertest.GraphError{Code: 551}, []error{messenger.ErrRecipientUnavailable}, nil},
		{"5xx may be delivered", messengertest.GraphError{Code: 1}, []error{messenger.ErrTransient, messenger.ErrMaybeDelivered}, nil},
		{"rate limited", messengertest.GraphError{Code: 613}, []error{messenger.ErrRateLimited}, []error{messenger.ErrMaybeDelivered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, page := newPage(t)
			srv.FailNext(1, tt.fail)
			_, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: psid, Text: "x"})
			for _, e := range tt.is {
				assert.ErrorIs(t, err, e)
			}
			for _, e := range tt.isNot {
				assert.NotErrorIs(t, err, e)
			}
		})
	}
	srv, page := newPage(t)
	srv.SetUnavailable(psid, true)
	_, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: psid, Text: "x"})
	assert.ErrorIs(t, err, messenger.ErrRecipientUnavailable)
}

// retryingPage is a page whose client retries (the fake's default client
// does not), with waits of a nanosecond.
func retryingPage(t *testing.T, srv *messengertest.Server) *messenger.Page {
	t.Helper()
	cfg := srv.Config()
	cfg.Retry = messenger.RetryPolicy{MaxAttempts: 3, BaseDelay: 1, MaxDelay: 1}
	c, err := messenger.New(cfg)
	require.NoError(t, err)
	return c.Page(pageID, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: pageToken}))
}

func TestDroppedSendMayBeDeliveredAndIsNotRetried(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Test Page", pageToken)
	page := retryingPage(t, srv)
	srv.Drop(1)
	_, err := page.Send(context.Background(), messenger.OutgoingMessage{Recipient: psid, Text: "once only"})
	require.ErrorIs(t, err, messenger.ErrMaybeDelivered)
	assert.Len(t, srv.Requests(), 1, "never sent twice")

	// A read after a dropped connection is retried.
	srv.AddProfile(psid, messenger.Profile{FirstName: "A"})
	srv.Drop(1)
	p, err := page.Profile(context.Background(), psid)
	require.NoError(t, err)
	assert.Equal(t, "A", p.FirstName)
	assert.Len(t, srv.Requests(), 3)
}

func TestStalledSendTimesOutAsMaybeDelivered(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Test Page", pageToken)
	page := retryingPage(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	srv.OnRequest(func(messengertest.Request) { cancel() }) // the client gives up while Facebook "works"
	srv.Stall(1)
	_, err := page.Send(ctx, messenger.OutgoingMessage{Recipient: psid, Text: "slow"})
	require.ErrorIs(t, err, messenger.ErrMaybeDelivered)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, srv.Requests(), 1)
}

func TestStalledReadEndsWithContext(t *testing.T) {
	t.Parallel()
	srv := messengertest.NewServer(t)
	srv.AddPage(pageID, "Test Page", pageToken)
	page := retryingPage(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	srv.OnRequest(func(messengertest.Request) { cancel() })
	srv.Stall(1)
	_, err := page.Subscriptions(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, messenger.ErrMaybeDelivered)
	assert.Len(t, srv.Requests(), 1, "a cancelled call is not retried")
}

func BenchmarkSendText(b *testing.B) {
	_, page := newPage(b)
	ctx := context.Background()
	m := messenger.OutgoingMessage{Recipient: psid, Text: "Hello! A staff member will be with you shortly."}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := page.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
