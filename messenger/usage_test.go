package messenger

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseUsage(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-App-Usage", `{"call_count":28,"total_time":25,"total_cputime":25}`)
	h.Set("X-Page-Usage", `{"call_count":91.5,"total_cputime":3,"total_time":4}`)
	h.Set("X-Business-Use-Case-Usage", `{"2002":[{"type":"pages","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}],"1001":[{"type":"messenger","call_count":97,"total_cputime":5,"total_time":6,"estimated_time_to_regain_access":2}]}`)
	u, err := ParseUsage(h)
	require.NoError(t, err)
	assert.Equal(t, &UsageBucket{CallCount: 28, TotalTime: 25, TotalCPUTime: 25}, u.App)
	assert.Equal(t, &UsageBucket{CallCount: 92, TotalCPUTime: 3, TotalTime: 4}, u.Page)
	require.Len(t, u.BusinessUseCase, 2)
	assert.Equal(t, BusinessUseCaseUsage{ID: "1001", Type: "messenger",
		UsageBucket: UsageBucket{CallCount: 97, TotalCPUTime: 5, TotalTime: 6, EstimatedTimeToRegainAccess: 2 * time.Minute}}, u.BusinessUseCase[0])
	assert.Equal(t, "2002", u.BusinessUseCase[1].ID)
	assert.Equal(t, 97, u.Percent())
	assert.Equal(t, 2*time.Minute, u.RegainAccessIn())
}

func TestParseUsageAbsentAndMalformed(t *testing.T) {
	t.Parallel()
	u, err := ParseUsage(http.Header{})
	require.NoError(t, err)
	assert.True(t, u.empty())
	assert.Equal(t, 0, u.Percent())

	h := http.Header{}
	h.Set("X-App-Usage", `{"call_count":`)
	h.Set("X-Page-Usage", `{"call_count":50}`)
	u, err = ParseUsage(h)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "X-App-Usage")
	assert.Nil(t, u.App)
	assert.Equal(t, 50, u.Percent(), "the well-formed header is still read")
}

func FuzzParseUsage(f *testing.F) {
	f.Add(`{"call_count":28,"total_time":25,"total_cputime":25}`, `{"call_count":1}`, `{"1":[{"type":"pages","call_count":100,"estimated_time_to_regain_access":5}]}`)
	f.Add(`{"call_count":1e308}`, `{"call_count":-5}`, `{"1":[]}`)
	f.Add(`null`, `[]`, `{"x":null}`)
	f.Fuzz(func(t *testing.T, app, page, buc string) {
		h := http.Header{}
		h.Set("X-App-Usage", app)
		h.Set("X-Page-Usage", page)
		h.Set("X-Business-Use-Case-Usage", buc)
		u, _ := ParseUsage(h)
		if p := u.Percent(); p < 0 || p > 10000 {
			t.Fatalf("Percent %d", p)
		}
		if d := u.RegainAccessIn(); d < 0 || d > 24*time.Hour {
			t.Fatalf("RegainAccessIn %v", d)
		}
	})
}
