package messenger

import (
	"fmt"
	"time"
)

// RetryPolicy says how failed calls are retried. Only what is safe is
// retried: reads that failed with a transient error, a rate limit or a
// broken connection, and sends that certainly never reached Facebook (the
// connection could not be made, or the request was not completely
// written) or that Facebook refused with a rate limit. A send that may
// have reached Facebook is never retried; its error wraps
// ErrMaybeDelivered.
//
// Waits grow exponentially from BaseDelay with jitter (each wait is drawn
// between half and all of the exponential delay), are at least the delay
// Facebook asked for (Retry-After, or the usage headers' time to regain
// access), and honour ctx.
type RetryPolicy struct {
	// MaxAttempts is the most tries of one call, the first included. Zero
	// means 3; 1 means never retry.
	MaxAttempts int
	// BaseDelay is the wait before the first retry. Zero means 500ms.
	BaseDelay time.Duration
	// MaxDelay caps one wait. A call for which Facebook asked a longer
	// wait is not retried: its error is returned at once, with the delay
	// in RetryAfter. Zero means 30s.
	MaxDelay time.Duration
}

// Defaults of RetryPolicy.
const (
	defaultMaxAttempts = 3
	defaultBaseDelay   = 500 * time.Millisecond
	defaultMaxDelay    = 30 * time.Second
)

func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	switch {
	case p.MaxAttempts < 0:
		return p, fmt.Errorf("messenger: Config.Retry.MaxAttempts is %d; want 0 (the default, 3), 1 (no retries) or more", p.MaxAttempts)
	case p.BaseDelay < 0:
		return p, fmt.Errorf("messenger: Config.Retry.BaseDelay is %v; want 0 (the default, %v) or more", p.BaseDelay, defaultBaseDelay)
	case p.MaxDelay < 0:
		return p, fmt.Errorf("messenger: Config.Retry.MaxDelay is %v; want 0 (the default, %v) or more", p.MaxDelay, defaultMaxDelay)
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = defaultBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = defaultMaxDelay
	}
	if p.BaseDelay > p.MaxDelay {
		return p, fmt.Errorf("messenger: Config.Retry.BaseDelay %v is more than MaxDelay %v", p.BaseDelay, p.MaxDelay)
	}
	return p, nil
}

// delay is the wait before retry number attempt (1 for the first retry)
// after err; ok is false when Facebook asked for more than MaxDelay.
// jitter draws from [0, 1).
func (p RetryPolicy) delay(attempt int, err error, jitter func() float64) (time.Duration, bool) {
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	d = d/2 + time.Duration(jitter()*float64(d/2))
	if ra, ok := RetryAfter(err); ok {
		if ra > p.MaxDelay {
			return 0, false
		}
		d = max(d, ra)
	}
	return d, true
}
