package main

import (
	"sync"
	"time"
)

// clock is the time every PageDesk service of this process reads. In
// production it is the wall clock; the demo moves it forward so that a
// newcomer can watch the 24-hour window (RULE-5) close without waiting a day.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now returns the wall clock plus how far the clock was moved forward.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d and returns the new time.
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
	return c.Now()
}
