package httpapi

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/kefu-chat/kefu/internal/kefu"
)

// limiter is a set of token buckets keyed by client address or email.
// Buckets that have refilled completely carry no information and are swept
// once a minute, so memory follows the number of recently active keys; past
// maxKeys, new keys share one overflow bucket rather than grow the map
// without bound (an attacker rotating addresses then throttles only
// themselves and other newcomers, not established clients).
type limiter struct {
	rate  Rate
	now   kefu.Clock
	mu    sync.Mutex
	keys  map[string]*rate.Limiter
	spill *rate.Limiter
	swept time.Time
}

const maxLimiterKeys = 100_000

func newLimiter(r Rate, now kefu.Clock) *limiter {
	l := &limiter{rate: r, now: now, keys: map[string]*rate.Limiter{}}
	l.spill = l.bucket()
	return l
}

func (l *limiter) bucket() *rate.Limiter {
	return rate.NewLimiter(rate.Limit(l.rate.PerMinute/60), l.rate.Burst)
}

// allow takes one token for key; when there is none it reports how long
// until there will be.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l.rate.PerMinute < 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.keys {
			if b.TokensAt(now) >= float64(l.rate.Burst) {
				delete(l.keys, k)
			}
		}
		l.swept = now
	}
	b, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= maxLimiterKeys {
			b = l.spill
		} else {
			b = l.bucket()
			l.keys[key] = b
		}
	}
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// peek reports whether key has a token left, without taking it: for limits
// that count only failures.
func (l *limiter) peek(key string) (bool, time.Duration) {
	if l.rate.PerMinute < 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.keys[key]
	if !ok {
		return true, 0
	}
	if b.TokensAt(now) >= 1 {
		return true, 0
	}
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return false, d
}

// ipKey groups IPv6 addresses by /64, the block one subscriber usually
// holds, so rotating through it does not multiply the allowance.
func ipKey(ip string) string {
	p := net.ParseIP(ip)
	if p == nil || p.To4() != nil {
		return ip
	}
	return p.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func rateLimited(after time.Duration) error {
	return &retryAfter{err: kefu.Errorf(kefu.ERateLimited, "too many requests; retry later"), after: after}
}
