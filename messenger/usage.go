package messenger

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"
)

// Usage is the Graph API rate-limit state Facebook reports in the
// X-App-Usage, X-Page-Usage and X-Business-Use-Case-Usage headers. Each
// figure is a percentage of the allowance; at 100 Facebook starts refusing
// calls. A nil bucket means the header was not present.
type Usage struct {
	App             *UsageBucket           // X-App-Usage: the whole app
	Page            *UsageBucket           // X-Page-Usage: this Page
	BusinessUseCase []BusinessUseCaseUsage // X-Business-Use-Case-Usage
	At              time.Time              // when the answer arrived (zero if never)
}

// UsageBucket is one rate-limit bucket, in percent of the allowance.
type UsageBucket struct {
	CallCount    int `json:"call_count"`
	TotalCPUTime int `json:"total_cputime"`
	TotalTime    int `json:"total_time"`
	// EstimatedTimeToRegainAccess is how long Facebook says calls will be
	// refused, when it says so.
	EstimatedTimeToRegainAccess time.Duration `json:"-"`
}

// Percent is the highest figure of the bucket.
func (b UsageBucket) Percent() int { return max(b.CallCount, b.TotalCPUTime, b.TotalTime) }

// BusinessUseCaseUsage is one entry of X-Business-Use-Case-Usage: the
// usage of one business use case (Type, e.g. "pages" or "messenger") of one
// object (ID, usually the Page).
type BusinessUseCaseUsage struct {
	ID   string
	Type string
	UsageBucket
}

// Percent is the highest figure across all buckets: the one that decides
// when Facebook throttles.
func (u Usage) Percent() int {
	p := 0
	if u.App != nil {
		p = max(p, u.App.Percent())
	}
	if u.Page != nil {
		p = max(p, u.Page.Percent())
	}
	for _, b := range u.BusinessUseCase {
		p = max(p, b.Percent())
	}
	return p
}

// RegainAccessIn is the longest estimated_time_to_regain_access reported,
// zero when none.
func (u Usage) RegainAccessIn() time.Duration {
	var d time.Duration
	if u.App != nil {
		d = max(d, u.App.EstimatedTimeToRegainAccess)
	}
	if u.Page != nil {
		d = max(d, u.Page.EstimatedTimeToRegainAccess)
	}
	for _, b := range u.BusinessUseCase {
		d = max(d, b.EstimatedTimeToRegainAccess)
	}
	return d
}

// empty reports whether no usage header was present.
func (u Usage) empty() bool { return u.App == nil && u.Page == nil && u.BusinessUseCase == nil }

// rawBucket is the wire shape: numbers may come as integers or decimals;
// estimated_time_to_regain_access is in minutes.
type rawBucket struct {
	CallCount    float64 `json:"call_count"`
	TotalCPUTime float64 `json:"total_cputime"`
	TotalTime    float64 `json:"total_time"`
	Regain       float64 `json:"estimated_time_to_regain_access"`
	Type         string  `json:"type"`
}

func (r rawBucket) bucket() UsageBucket {
	return UsageBucket{
		CallCount:                   pct(r.CallCount),
		TotalCPUTime:                pct(r.TotalCPUTime),
		TotalTime:                   pct(r.TotalTime),
		EstimatedTimeToRegainAccess: minutes(r.Regain),
	}
}

// pct clamps a reported percentage to 0..10000.
func pct(f float64) int {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return int(math.Ceil(min(f, 10000)))
}

// minutes converts a reported number of minutes, capped at one day.
func minutes(f float64) time.Duration {
	if math.IsNaN(f) || f <= 0 {
		return 0
	}
	return time.Duration(min(f, 24*60) * float64(time.Minute))
}

// ParseUsage reads the usage headers of a Graph API answer. Headers that
// are absent leave their field nil; a header that is present but malformed
// is reported in the error, and the others are still parsed.
func ParseUsage(h http.Header) (Usage, error) {
	var u Usage
	var errs []error
	if v := h.Get("X-App-Usage"); v != "" {
		var r rawBucket
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			errs = append(errs, fmt.Errorf("X-App-Usage: %w", err))
		} else {
			b := r.bucket()
			u.App = &b
		}
	}
	if v := h.Get("X-Page-Usage"); v != "" {
		var r rawBucket
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			errs = append(errs, fmt.Errorf("X-Page-Usage: %w", err))
		} else {
			b := r.bucket()
			u.Page = &b
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var r map[string][]rawBucket
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			errs = append(errs, fmt.Errorf("X-Business-Use-Case-Usage: %w", err))
		} else {
			ids := make([]string, 0, len(r))
			for id := range r {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			u.BusinessUseCase = make([]BusinessUseCaseUsage, 0, len(r))
			for _, id := range ids {
				for _, b := range r[id] {
					u.BusinessUseCase = append(u.BusinessUseCase, BusinessUseCaseUsage{ID: id, Type: b.Type, UsageBucket: b.bucket()})
				}
			}
		}
	}
	if len(errs) > 0 {
		return u, fmt.Errorf("messenger: malformed usage header: %w", errors.Join(errs...))
	}
	return u, nil
}
