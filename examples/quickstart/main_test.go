package main

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/messenger/messengertest"
)

var required = []string{"PAGEDESK_APP_ID", "PAGEDESK_APP_SECRET", "PAGEDESK_VERIFY_TOKEN", "PAGEDESK_PAGE_ID", "PAGEDESK_PAGE_TOKEN"}

func fakeEnv(fake *messengertest.Server) map[string]string {
	return map[string]string{
		"PAGEDESK_APP_ID":       fake.AppID,
		"PAGEDESK_APP_SECRET":   fake.AppSecret,
		"PAGEDESK_VERIFY_TOKEN": "verify-me",
		"PAGEDESK_PAGE_ID":      "1001",
		"PAGEDESK_PAGE_TOKEN":   "page-token",
		"PAGEDESK_GRAPH_URL":    fake.URL,
	}
}

func TestMissingVariableIsNamed(t *testing.T) {
	t.Parallel()
	fake := messengertest.NewServer(t)
	for _, missing := range required {
		t.Run(missing, func(t *testing.T) {
			t.Parallel()
			env := fakeEnv(fake)
			delete(env, missing)
			_, err := newHandler(t.Context(), func(k string) string { return env[k] })
			require.Error(t, err)
			assert.Contains(t, err.Error(), missing)
		})
	}
}

func TestWebhookToReply(t *testing.T) {
	// The quickstart logs new enquiries through the standard logger: read it.
	var logged syncBuffer
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	fake := messengertest.NewServer(t)
	fake.AddPage("1001", "My Page", "page-token")
	env := fakeEnv(fake)
	h, err := newHandler(t.Context(), func(k string) string { return env[k] })
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	// Facebook's handshake.
	res, err := http.Get(srv.URL + "/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42")
	require.NoError(t, err)
	body := readAll(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "42", body)

	// A visitor writes: an enquiry opens and the welcome goes out.
	res, err = http.DefaultClient.Do(messengertest.Delivery(fake.AppSecret).Text("1001", "psid-1", "hello").Request(srv.URL + "/webhook"))
	require.NoError(t, err)
	readAll(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode)
	sent := fake.Sent("1001")
	require.Len(t, sent, 1, "the welcome auto-reply")
	assert.Equal(t, "psid-1", sent[0].RecipientID)

	_, rest, ok := strings.Cut(logged.String(), "new enquiry ")
	require.True(t, ok, "the new enquiry is logged: %q", logged.String())
	id, from, _ := strings.Cut(strings.TrimSpace(rest), " from ")
	assert.Equal(t, "psid-1", from)

	// Staff reply; then a reply over 2,000 characters is refused (RULE-1).
	res = post(t, srv.URL+"/reply?enquiry="+id, "Hi! How can we help?")
	readAll(t, res)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	sent = fake.Sent("1001")
	require.Len(t, sent, 2)
	assert.Equal(t, "Hi! How can we help?", sent[1].Text)

	res = post(t, srv.URL+"/reply?enquiry="+id, strings.Repeat("字", 2001))
	msg := readAll(t, res)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, msg, "2001 characters")
	assert.Len(t, fake.Sent("1001"), 2, "nothing more reached Facebook")
}

// TestREADMEShowsThisFile keeps the README's quickstart identical to this
// compiled program, so the README cannot drift from the API.
func TestREADMEShowsThisFile(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	if !strings.Contains(string(readme), "```go\n"+string(src)+"```\n") {
		t.Error("README.md must show examples/quickstart/main.go verbatim, in a ```go block")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return res
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// TestREADMEShowsBackendTest keeps the README's "Testing your own backend"
// example identical to backend_test.go, which runs.
func TestREADMEShowsBackendTest(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("backend_test.go")
	require.NoError(t, err)
	if !strings.Contains(string(readme), "```go\n"+string(src)+"```\n") {
		t.Error("README.md must show examples/quickstart/backend_test.go verbatim, in a ```go block")
	}
}
