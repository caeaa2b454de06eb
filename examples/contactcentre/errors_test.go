package main

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pagedesk/pagedesk/autoreply"
	"github.com/pagedesk/pagedesk/channel"
	"github.com/pagedesk/pagedesk/store"
)

func TestExplainHidesInternals(t *testing.T) {
	t.Parallel()
	e := explain(errors.New("pq: connection to 10.0.0.7 refused; password=hunter2"), langEnglish)
	assert.Equal(t, http.StatusInternalServerError, e.Status)
	assert.Equal(t, "internal", e.Code)
	assert.NotContains(t, e.Message, "hunter2")
	assert.NotContains(t, e.Message, "10.0.0.7")
	require.NotEmpty(t, explain(io.EOF, langChinese).Message)
}

func TestExplainSettings(t *testing.T) {
	t.Parallel()
	set := channel.Settings{
		Name:       strings.Repeat("名", 41),
		CustomInfo: store.CustomInfo{On: true, Text: strings.Repeat("x", 10001)},
		AutoReply:  autoreply.Settings{Welcome: autoreply.Message{On: true, Text: strings.Repeat("字", 2001)}},
	}
	err := set.Validate()
	require.Error(t, err)
	e := explain(err, langChinese)
	assert.Equal(t, http.StatusUnprocessableEntity, e.Status)
	for _, want := range []string{"頻道名稱有 41 個字元", "頻道客製資訊有 10,001 個字元", "歡迎訊息有 2,001 個字元"} {
		assert.Contains(t, e.Message, want)
	}
	e = explain(err, langEnglish)
	assert.Contains(t, e.Message, "The welcome text is 2,001 characters; the limit is 2,000.")
}
